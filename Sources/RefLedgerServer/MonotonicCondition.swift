import Foundation

/// A lock with a condition, like `NSCondition`, whose timed waits run on the monotonic clock.
///
/// `NSCondition.wait(until:)` waits for a wall-clock time: a clock stepped back meanwhile
/// (NTP, an operator) makes the wait last that much longer. The writer's idle-snapshot wait
/// must last its seconds whatever the wall clock does, so its condition variable is made to
/// use `CLOCK_MONOTONIC`.
final class MonotonicCondition: @unchecked Sendable {
    // @unchecked: the mutex and condition variable are what make the callers' state safe; they
    // live at fixed addresses for the object's life, as pthreads requires.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let variable: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        variable = .allocate(capacity: 1)
        variable.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        let initialized = pthread_mutex_init(mutex, nil) == 0 && pthread_cond_init(variable, &attributes) == 0
        pthread_condattr_destroy(&attributes)
        precondition(initialized, "cannot create a mutex and condition variable")
    }

    deinit {
        pthread_cond_destroy(variable)
        pthread_mutex_destroy(mutex)
        variable.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }

    func unlock() { pthread_mutex_unlock(mutex) }

    /// Wakes one waiter.
    func signal() { pthread_cond_signal(variable) }

    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(variable) }

    /// Waits to be woken; call with the lock held (it is released meanwhile). Like any condition
    /// wait it may return without a wake-up: callers wait in a loop on their condition.
    func wait() { pthread_cond_wait(variable, mutex) }

    /// Waits to be woken, at most `seconds` on the monotonic clock; returns whether it ended
    /// before the time ran out. Call with the lock held.
    func wait(seconds: Double) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = Int(deadline.tv_nsec) + Int((max(0, seconds) * 1e9).rounded())
        deadline.tv_sec += nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        return pthread_cond_timedwait(variable, mutex, &deadline) != ETIMEDOUT
    }
}
