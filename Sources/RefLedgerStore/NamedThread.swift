import Foundation

/// Threads of the process's own (the writer, the snapshot writer, the heap pre-faulter), each
/// going by its name in `ps -L`, `top -H` and `perf`.
public enum NamedThread {
    /// Starts `body` on a new thread called `name` (Linux keeps its first 15 bytes).
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        Thread {
            setCurrentName(name)
            body()
        }.start()
    }

    /// Names the calling thread. Foundation's `Thread.name` did not reach the kernel: the
    /// daemon's writer showed the name of the pool thread that started it. Swift's Glibc module
    /// has no `pthread_setname_np`, so the name is written where the kernel keeps it.
    private static func setCurrentName(_ name: String) {
        #if os(Linux)
        guard let file = fopen("/proc/thread-self/comm", "w") else { return }
        _ = fputs(String(decoding: name.utf8.prefix(15), as: UTF8.self), file)
        fclose(file)
        #endif
    }
}
