import ExitSet

/// The checks a new version of a source must pass before it replaces the previous one: not
/// empty, no prefix broader than the limits, not shrunk by more than `maximumShrink`. Pure:
/// entries and the previous version's size in, a verdict out.
///
/// `acceptRisky` (the `--accept-risky-lists` flag) lets a shrunk list or a broad prefix through
/// (the verdict still names them, so they are logged); a `/0` prefix never passes: it would
/// block every address of its family.
public struct ListGuard: Sendable, Equatable {
    /// The largest fraction of its entries a source may lose from one version to the next
    /// (0.5: a version with less than half the entries of the previous one is refused).
    public var maximumShrink: Double
    /// The shortest IPv4 prefix length accepted (16: a /15 is refused).
    public var shortestIPv4Prefix: UInt8
    /// The shortest IPv6 prefix length accepted (32: a /31 is refused).
    public var shortestIPv6Prefix: UInt8
    /// Accept shrunk lists and broad prefixes anyway.
    public var acceptRisky: Bool

    public init(
        maximumShrink: Double = 0.5,
        shortestIPv4Prefix: UInt8 = 16,
        shortestIPv6Prefix: UInt8 = 32,
        acceptRisky: Bool = false
    ) {
        self.maximumShrink = maximumShrink
        self.shortestIPv4Prefix = shortestIPv4Prefix
        self.shortestIPv6Prefix = shortestIPv6Prefix
        self.acceptRisky = acceptRisky
    }

    /// Why a version is refused (or, under `acceptRisky`, what was let through).
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// No entry at all.
        case empty
        /// `now` distinct entries against `previous`: a loss over the allowed fraction.
        case shrank(previous: Int, now: Int, maximumShrink: Double)
        /// A prefix shorter than the limit of its family (the first one found).
        case prefixTooBroad(IPPrefix, shortest: UInt8)
        /// `0.0.0.0/0` or `::/0`: never accepted.
        case zeroPrefix(IPPrefix)

        /// The snake_case word of the refusal metric.
        public var reason: String {
            switch self {
            case .empty: return "empty"
            case .shrank: return "shrank"
            case .prefixTooBroad: return "prefix_too_broad"
            case .zeroPrefix: return "zero_prefix"
            }
        }

        public var description: String {
            switch self {
            case .empty:
                return "the new version has no entry"
            case .shrank(let previous, let now, let limit):
                let lost = previous > 0 ? Double(previous - now) / Double(previous) : 0
                return "the new version has \(now) entries against \(previous) before: it lost "
                    + "\(Int((lost * 100).rounded()))%, more than the \(Int((limit * 100).rounded()))% allowed "
                    + "(--max-shrink)"
            case .prefixTooBroad(let prefix, let shortest):
                return "\(prefix) is broader than /\(shortest) (--max-prefix-ipv4/--max-prefix-ipv6)"
            case .zeroPrefix(let prefix):
                return "\(prefix) would match every address; never accepted"
            }
        }

        /// Whether `acceptRisky` lets it through.
        public var overridable: Bool {
            switch self {
            case .shrank, .prefixTooBroad: return true
            case .empty, .zeroPrefix: return false
            }
        }
    }

    /// The verdict on one version.
    public enum Verdict: Sendable, Equatable {
        case accept
        /// Accepted only because of `acceptRisky`; these checks failed.
        case acceptRisky([Refusal])
        case refuse(Refusal)

        public var accepted: Bool {
            if case .refuse = self { return false }
            return true
        }
    }

    /// Judges `entries` (distinct) against the source's previous good version of
    /// `previousCount` distinct entries (nil for the first version: no shrink check).
    /// Cost: one pass over the entries.
    public func check(_ entries: some Collection<IPPrefix>, previousCount: Int?) -> Verdict {
        guard !entries.isEmpty else { return .refuse(.empty) }
        var risky: [Refusal] = []
        var broad: Refusal?
        for entry in entries {
            if entry.length == 0 { return .refuse(.zeroPrefix(entry)) }
            guard broad == nil else { continue }
            switch entry.address {
            case .v4 where entry.length < shortestIPv4Prefix:
                broad = .prefixTooBroad(entry, shortest: shortestIPv4Prefix)
            case .v6 where entry.length < shortestIPv6Prefix:
                broad = .prefixTooBroad(entry, shortest: shortestIPv6Prefix)
            default:
                break
            }
        }
        if let broad { risky.append(broad) }
        if let previousCount, previousCount > 0 {
            let kept = Double(entries.count) / Double(previousCount)
            if kept < 1 - maximumShrink {
                risky.append(.shrank(previous: previousCount, now: entries.count, maximumShrink: maximumShrink))
            }
        }
        guard let first = risky.first else { return .accept }
        return acceptRisky ? .acceptRisky(risky) : .refuse(first)
    }
}
