// swift-tools-version:6.2
import PackageDescription

/// `git describe` of the checkout being built, passed in by the build scripts as
/// EXITBLOCK_GIT_DESCRIBE (SwiftPM cannot run git itself); only [A-Za-z0-9._+-] is kept.
/// Empty when not given: the version then names no commit.
var buildDescribe: String {
    let given = Context.environment["EXITBLOCK_GIT_DESCRIBE"] ?? ""
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
    return String(given.filter { allowed.contains($0) }.prefix(64))
}

let package = Package(
    name: "exitblock",
    products: [
        .executable(name: "exitblock", targets: ["ExitBlockCLI"]),
        .executable(name: "exitblock-bench", targets: ["ExitBlockBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libnetfilter_queue + libmnl, found through pkg-config; Debian/Ubuntu names for apt.
        .systemLibrary(
            name: "CNetfilterQueue",
            path: "CNetfilterQueue",
            pkgConfig: "libnetfilter_queue libmnl",
            providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]
        ),
        // The build's `git describe`, from EXITBLOCK_GIT_DESCRIBE when the package is built (see buildDescribe).
        .target(name: "CBuildInfo", cSettings: [.define("EXITBLOCK_GIT_DESCRIBE", to: "\"\(buildDescribe)\"")]),
        // Pure Swift: addresses, prefixes, the immutable set, the list formats. No C, no I/O.
        .target(name: "ExitSet"),
        // Shims for the libc calls Swift cannot import (prctl, capget/capset, sched_setaffinity).
        .target(name: "CLinuxSystem"),
        // The one place for syscalls: EINTR retry, errno as swift-system's Errno, /proc files,
        // capabilities, sd_notify, CPU pinning, the clock, files written durably, the process's
        // output, child processes (swift-subprocess; one-shot operator commands only).
        .target(
            name: "LinuxSystem",
            dependencies: [
                "CLinuxSystem",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        // The one netlink codec (messages, attributes, alignment, batches) and transport: the socket,
        // the request/acknowledge helper, the one error type. Plain socket(AF_NETLINK), no libmnl.
        .target(
            name: "Netlink",
            dependencies: ["LinuxSystem", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // The only module that imports CNetfilterQueue and touches raw pointers.
        .target(
            name: "NetfilterQueue",
            dependencies: [
                "CNetfilterQueue", "Netlink", "LinuxSystem", .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // ctnetlink: dump and delete conntrack entries (the kernel's numbers from CNetfilterQueue's headers).
        .target(
            name: "Conntrack",
            dependencies: [
                "CNetfilterQueue", "Netlink", "LinuxSystem",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The kernel sets over netlink: ipset and nf_tables set clients with request types of their own.
        .target(
            name: "KernelSets",
            dependencies: [
                "CNetfilterQueue", "ExitSet", "Netlink", "LinuxSystem",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Rule sets (iptables, ip6tables, nft), their installer and the ipset drop-cache sets; runs the tools
        // through LinuxSystem's process runner. Holds the vocabulary the rules and the policy share (match
        // direction, marks).
        .target(
            name: "Rules",
            dependencies: [
                "ExitSet", "Netlink", "LinuxSystem", .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The verdict caches in the kernel's sets: probe, writer, allowlist mirror, prune, counter poller.
        .target(
            name: "VerdictCache",
            dependencies: [
                "ExitSet", "KernelSets", "Netlink", "LinuxSystem", "Rules",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The engine: policy, workers, counters, snapshot publication, conntrack invalidation; it hands
        // decisions to the verdict cache's writer and prunes it within a publish (so it imports VerdictCache).
        .target(
            name: "Engine",
            dependencies: ["ExitSet", "NetfilterQueue", "Conntrack", "VerdictCache", "LinuxSystem", "Rules"]
        ),
        // Metrics and the stats server (SwiftNIO, off the hot path): reads the engine's counters.
        .target(
            name: "Stats",
            dependencies: [
                "BGPFeed",
                "Engine",
                "ExitSet",
                "ListSources",
                "NetfilterQueue",
                "LinuxSystem",
                "Rules",
                "VerdictCache",
                "CBuildInfo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // List sources: files and HTTP(S) (AsyncHTTPClient), refresh, guards, disk cache, list loading, the
        // allowlist; reports through SourceReporting (which Stats implements).
        .target(
            name: "ListSources",
            dependencies: [
                "ExitSet",
                "LinuxSystem",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The BGP feed: the guarded set as routes (aggregation, diffs, ExaBGP and BIRD output) and its runtime.
        .target(
            name: "BGPFeed",
            dependencies: [
                "ExitSet", "ListSources", "LinuxSystem", .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The config file: its schema (read from the commands' own options), the reader (a scanner of its
        // keys' lines, TOMLKit for the values) and the expansion into command-line arguments.
        .target(
            name: "ExitBlockConfiguration",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Configuration"
        ),
        // The daemons of `run` and `bgp`: start sequence (undone in reverse), services, lifecycle,
        // privilege drop; the one target below the CLI that wires the rooms together.
        .target(
            name: "Daemon",
            dependencies: [
                "BGPFeed",
                "Engine",
                "ExitSet",
                "LinuxSystem",
                "ListSources",
                "NetfilterQueue",
                "Rules",
                "Stats",
                "VerdictCache",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The `exitblock` executable: commands only; parse, build a configuration value, hand it on.
        .executableTarget(
            name: "ExitBlockCLI",
            dependencies: [
                "BGPFeed",
                "Daemon",
                "Engine",
                "ExitBlockConfiguration",
                "ExitSet",
                "LinuxSystem",
                "ListSources",
                "NetfilterQueue",
                "Conntrack",
                "Rules",
                "Stats",
                "VerdictCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // SplitMix64, seeded: the property tests' and the benchmark's reproducible random data.
        .target(name: "SeededRandom"),
        // Micro-benchmarks (lookup rate, parse/build/publish time); run in release by scripts/bench.sh.
        .executableTarget(
            name: "ExitBlockBench",
            dependencies: [
                "Engine", "ExitSet", "LinuxSystem", "NetfilterQueue", "SeededRandom",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(name: "ExitSetTests", dependencies: ["ExitSet", "SeededRandom"]),
        .testTarget(
            name: "BGPFeedTests",
            dependencies: ["BGPFeed", "ExitSet", "LinuxSystem", "ListSources", "SeededRandom"]
        ),
        .testTarget(
            name: "LinuxSystemTests",
            dependencies: ["LinuxSystem", .product(name: "SystemPackage", package: "swift-system")]
        ),
        // CNetfilterQueue too: the verdict encoding is checked against libnetfilter_queue's builder.
        .testTarget(
            name: "NetfilterQueueTests",
            dependencies: ["NetfilterQueue", "Conntrack", "CNetfilterQueue", "LinuxSystem", "Netlink", "SeededRandom"]
        ),
        // The ipset and nf_tables requests against the bytes ipset 7.17 and nft 1.0.6 send.
        .testTarget(name: "KernelSetsTests", dependencies: ["KernelSets", "Netlink"]),
        .testTarget(name: "VerdictCacheTests", dependencies: ["VerdictCache", "KernelSets", "ExitSet", "Rules"]),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "ExitSet", "LinuxSystem", "NetfilterQueue", "Conntrack", "Rules", "VerdictCache",
                "KernelSets",
            ]
        ),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "ExitSet", "LinuxSystem", "Netlink"]),
        .testTarget(
            name: "ListSourcesTests",
            dependencies: [
                "ListSources", "Engine", "ExitSet", "LinuxSystem", "Stats",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "StatsTests",
            dependencies: [
                "Stats", "BGPFeed", "Engine", "ExitSet", "LinuxSystem", "ListSources", "NetfilterQueue", "Rules",
                "VerdictCache",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The CLI's own logic (config file, version); the executable target is testable.
        .testTarget(
            name: "ExitBlockCLITests",
            dependencies: [
                "ExitBlockCLI", "Daemon", "Engine", "ExitBlockConfiguration", "LinuxSystem", "Rules", "Stats",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
