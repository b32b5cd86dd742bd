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
    .target(name: "RefLedgerCore"),
    .target(
        name: "RefLedgerStore",
        dependencies: [
            "RefLedgerCore", "CLMDB", "CZstd",
            .product(name: "Crypto", package: "swift-crypto"),
        ]
    ),
    .executableTarget(
        name: "refledger",
        dependencies: [
            "RefLedgerCore", "RefLedgerStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
    .executableTarget(
        name: "refledger-bench",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "CLMDB"]
    ),
    .executableTarget(
        name: "refledger-torture",
        dependencies: ["RefLedgerCore", "RefLedgerStore"]
    ),
    .target(name: "RefLedgerTestSupport", dependencies: ["RefLedgerCore", "RefLedgerStore"]),
    .testTarget(
        name: "RefLedgerCoreTests",
        dependencies: ["RefLedgerCore", .product(name: "Crypto", package: "swift-crypto")]
    ),
    .testTarget(
        name: "RefLedgerStoreTests",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "RefLedgerTestSupport", "CLMDB"]
    ),
    .testTarget(
        name: "RefLedgerCLITests",
        dependencies: ["RefLedgerCore", "RefLedgerStore", "RefLedgerTestSupport"]
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
    ],
    targets: targets
)
