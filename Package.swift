// swift-tools-version:6.1
import PackageDescription

/// Every Retract target builds with the same strictness: Swift 6 language mode (complete
/// concurrency checking) and `any` spelled out for existentials.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("StrictConcurrency"),
]

let package = Package(
    name: "Retract",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "retract", targets: ["retract"]),
        .library(name: "RetractCore", targets: ["RetractCore"]),
        .library(name: "RetractServer", targets: ["RetractServer"]),
        // The entry points of the libFuzzer targets in Fuzz/Package.swift (issue 17).
        .library(name: "RetractFuzzTargets", targets: ["RetractFuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "Sodium", dependencies: ["CSodium"], swiftSettings: strict),
        .target(name: "Seal", dependencies: ["Sodium"], swiftSettings: strict),
        // The vault's backend-neutral records and values (issue 14): no database in it, so
        // both the SQLite and the PostgreSQL backend share them (docs/scaling.md).
        .target(name: "VaultContract", swiftSettings: strict),
        .target(
            name: "Vault",
            dependencies: [
                "VaultContract", "Seal", "Sodium", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The PostgreSQL vault (issue 14): its URL, its frozen migrations, its operations. It
        // imports Vault for the record types only (plain values); no GRDB type in its API.
        .target(
            name: "PostgresVault",
            dependencies: [
                "Sodium", "Vault",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Mail",
            dependencies: [
                "Sodium",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: strict
        ),
        .target(
            name: "SMTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Prometheus metrics (issue 16): the catalogue of Retract's metrics with their help
        // texts, the swift-metrics factory over a Prometheus registry, the one-line counters.
        .target(
            name: "RetractMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RetractCore",
            dependencies: [
                "Seal", "Sodium", "Vault", "Mail", "RetractMetrics", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "RetractCore", "SMTP", "Mail", "Vault", "Seal", "Sodium", "RetractMetrics",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RetractServer",
            dependencies: [
                "RetractCore", "Seal", "Sodium", "Mail", "SMTP", "RetractMetrics",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "retract",
            dependencies: [
                "RetractCore", "RetractServer", "Gateway", "SMTP", "Seal", "Mail", "Vault", "RetractMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            plugins: ["BuildVersionPlugin"]
        ),
        // `retract --version`: the git description of the checkout, stamped at build time.
        .executableTarget(name: "retract-build-version", swiftSettings: strict),
        .plugin(name: "BuildVersionPlugin", capability: .buildTool(), dependencies: ["retract-build-version"]),
        .executableTarget(
            name: "retract-vectors",
            dependencies: ["Seal", "Sodium"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "retract-bench",
            dependencies: [
                "RetractCore", "Seal", "Sodium", "Vault", "Mail", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The parsers of hostile input, one entry point per fuzz target (issue 17): the
        // libFuzzer executables (Fuzz/Package.swift, `make fuzz`) and FuzzReplayTests call it.
        .target(
            name: "RetractFuzzTargets",
            dependencies: ["SMTP", "Mail", "Seal", "Sodium", "RetractCore", "Gateway", "RetractServer"],
            path: "Fuzz/Targets",
            swiftSettings: strict
        ),
        .target(
            name: "RetractTestSupport",
            dependencies: ["RetractCore", "Vault", "Mail"],
            path: "Tests/RetractTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "SodiumTests", dependencies: ["Sodium"], swiftSettings: strict),
        .testTarget(
            name: "SealTests",
            dependencies: ["Seal", "Sodium"],
            resources: [.copy("Vectors")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VaultTests",
            dependencies: ["Vault", "Seal", "Sodium", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "MailTests",
            dependencies: [
                "Mail", "RetractTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SMTPTests",
            dependencies: [
                "RetractTestSupport",
                "SMTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "SMTP", "RetractCore", "RetractTestSupport", "Mail", "Vault", "Seal", "RetractMetrics",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RetractCoreTests",
            dependencies: [
                "RetractCore", "RetractTestSupport", "Vault", "Seal", "Mail", "Sodium", "RetractMetrics",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RetractServerTests",
            dependencies: [
                "RetractServer", "RetractCore", "RetractTestSupport", "Seal", "Mail", "Sodium", "RetractMetrics",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PostgresVaultTests",
            dependencies: [
                "PostgresVault", "RetractTestSupport", "Vault",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "FuzzReplayTests", dependencies: ["RetractFuzzTargets"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["retract", "RetractTestSupport", "Mail", "Seal"],
            // Read from the source tree by UpgradeEndToEndTests, not bundled.
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
    ]
)
