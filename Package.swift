// swift-tools-version:6.2
import PackageDescription

/// One set of compiler settings, applied to every Swift target below.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

var targets: [Target] = [
    .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    // A cache prefetch hint (`__builtin_prefetch`), which Swift cannot spell.
    .target(name: "CPrefetch"),
    .target(name: "RefLedgerCore", dependencies: ["CPrefetch"]),
    // jemalloc, linked in place of glibc's malloc, and an arena of it whose memory can be
    // pre-faulted (for HeapPrefaulter). Debian: libjemalloc-dev.
    .target(name: "CHeap", linkerSettings: [.linkedLibrary("jemalloc")]),
    .target(
        name: "RefLedgerStore",
        dependencies: [
            "RefLedgerCore", "CLMDB", "CZstd", "CHeap",
            .product(name: "Crypto", package: "swift-crypto"),
        ]
    ),
    .target(
        name: "RefLedgerServer",
        dependencies: [
            "RefLedgerCore", "RefLedgerStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]
    ),
    .executableTarget(
        name: "refledger",
        dependencies: [
            "RefLedgerCore", "RefLedgerStore", "RefLedgerServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]
    ),
    .executableTarget(
        name: "refledger-bench",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "RefLedgerServer", "RefLedgerTestSupport", "CLMDB"]
    ),
    .executableTarget(
        name: "refledger-torture",
        dependencies: ["RefLedgerCore", "RefLedgerStore"]
    ),
    .target(name: "RefLedgerTestSupport", dependencies: ["RefLedgerCore", "RefLedgerStore"]),
    .testTarget(
        name: "RefLedgerCoreTests",
        dependencies: ["RefLedgerCore", "RefLedgerTestSupport", .product(name: "Crypto", package: "swift-crypto")]
    ),
    .testTarget(
        name: "RefLedgerStoreTests",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "RefLedgerTestSupport", "CLMDB"]
    ),
    .testTarget(
        name: "RefLedgerCLITests",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "RefLedgerTestSupport"]
    ),
    .testTarget(
        name: "RefLedgerServerTests",
        dependencies: [
            "RefLedgerCore", "RefLedgerStore", "RefLedgerServer", "RefLedgerTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]
    ),
]

for index in targets.indices where targets[index].type != .system {
    targets[index].swiftSettings = (targets[index].swiftSettings ?? []) + swiftSettings
}

let package = Package(
    name: "refledger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "refledger", targets: ["refledger"]),
        .library(name: "RefLedgerCore", targets: ["RefLedgerCore"]),
        .library(name: "RefLedgerStore", targets: ["RefLedgerStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // Hummingbird's default traits pull in swift-configuration, which the daemon does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Already under Hummingbird; named for the HTTP parts a channel handler sees.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0", traits: []),
    ],
    targets: targets
)
