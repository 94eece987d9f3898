import LinuxSystem
import Netlink
import SystemPackage

/// Reads, without starting a program, what the kernel holds of one family's layout: the
/// mangle and filter tables from iptables-legacy (getsockopt, `XtablesSocketOption`) or
/// iptables-nft (nf_tables dumps over netlink, `RuleWatchMessage`), and which of the layout's
/// ipsets exist (IPSET_CMD_HEADER). Use from one thread.
final class KernelRuleReader {
    /// One look at a family.
    struct Look {
        /// `legacy` or `nft`: the backend whose tables were read.
        var backend: RuleSettings.Backend
        var mangle: ObservedTable?
        var filter: ObservedTable?
        var presentSets: Set<String>
    }

    private let channel: NetlinkSocket
    /// /proc/net/ip_tables_names and ip6_tables_names (mode 0440 root), opened by `LegacyNames`
    /// before the privileges are dropped.
    private let legacyNames: LegacyNames
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var sequence: UInt32 = 1
    /// The backend each family's chain was last seen in (auto).
    private var lastBackend: [RuleSettings.Family: RuleSettings.Backend] = [:]

    /// The x_tables table-name files of both families, kept open: readable after a privilege
    /// drop when opened before it. A file that could not be opened reads as no legacy table.
    struct LegacyNames: Sendable {
        let ipv4 = ProcFile("/proc/net/ip_tables_names")
        let ipv6 = ProcFile("/proc/net/ip6_tables_names")

        init() {}
    }

    init(legacyNames: LegacyNames) throws(NetlinkError) {
        channel = try NetlinkSocket()
        self.legacyNames = legacyNames
    }

    /// The tables of `family` through `backend` (auto: the backend holding mangle's chain, else
    /// the one that held it last, else nft) and the `sets` present; nil when a read did not
    /// complete (the tables changed during it: look again).
    func look(_ family: RuleSettings.Family, backend: RuleSettings.Backend, sets: [String]) -> Look? {
        var chosen = backend
        var legacyMangle: ObservedTable??
        var nftMangle: ObservedTable?
        if backend == .auto {
            if legacyTableExists(family, RuleSet.queueTable) {
                legacyMangle = legacyTable(family, RuleSet.queueTable)
                guard legacyMangle != nil else { return nil }
            }
            if legacyMangle??.rules(of: RuleSet.chain) != nil {
                chosen = .legacy
            } else {
                guard let nft = nftTable(family, RuleSet.queueTable) else { return nil }
                nftMangle = nft
                chosen = nft.rules(of: RuleSet.chain) != nil ? .nft : lastBackend[family] ?? .nft
            }
        }
        lastBackend[family] = chosen
        var result = Look(backend: chosen, mangle: nil, filter: nil, presentSets: [])
        if chosen == .legacy {
            guard let mangle = legacyMangle ?? legacyTable(family, RuleSet.queueTable),
                let filter = legacyTable(family, RuleSet.rejectTable)
            else { return nil }
            (result.mangle, result.filter) = (mangle, filter)
        } else {
            guard let mangle = nftMangle ?? nftTable(family, RuleSet.queueTable),
                let filter = nftTable(family, RuleSet.rejectTable)
            else { return nil }
            (result.mangle, result.filter) = (mangle, filter)
        }
        guard let present = presentSets(sets) else { return nil }
        result.presentSets = present
        return result
    }

    /// Whether the legacy table is instantiated in this namespace (/proc/net/ip_tables_names).
    /// Asked first, so that a read never instantiates a legacy table on an nft-only host.
    func legacyTableExists(_ family: RuleSettings.Family, _ table: String) -> Bool {
        guard let bytes = (family == .ipv4 ? legacyNames.ipv4 : legacyNames.ipv6)?.read() else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { $0 == table }
    }

    /// The legacy table: .some(nil) when it does not exist, nil when the read failed.
    func legacyTable(_ family: RuleSettings.Family, _ table: String) -> ObservedTable?? {
        guard legacyTableExists(family, table) else { return .some(nil) }
        do {
            let read = try XtablesSocketOption.readTable(name: table, ipv6: family == .ipv6)
            guard let parsed = XtablesBlob.parse(info: read.info, entries: read.entries, ipv6: family == .ipv6)
            else { return nil }
            return .some(parsed)
        } catch {
            return error == .noSuchFileOrDirectory ? .some(nil) : nil
        }
    }

    /// The nf_tables table (chains, then rules); nil when a dump failed or was interrupted.
    func nftTable(_ family: RuleSettings.Family, _ table: String) -> ObservedTable? {
        var observed = ObservedTable()
        for rules in [false, true] {
            sequence &+= 1
            let request = RuleWatchMessage.dumpRequest(rules: rules, family: family, table: table, sequence: sequence)
            do { try channel.send(request, count: request.count) } catch { return nil }
            while true {
                guard let length = try? channel.receive(into: &buffer, milliseconds: 1000), length <= buffer.count
                else { return nil }
                let progress = buffer.withUnsafeBytes { raw in
                    RuleWatchMessage.readDump(UnsafeRawBufferPointer(rebasing: raw[..<length]), into: &observed)
                }
                if progress == .more { continue }
                // ENOENT: no such table (nothing of it to see).
                if case .failed(let code) = progress, code != 2 { return nil }
                break
            }
        }
        return observed
    }

    /// The names among `sets` that exist as ipsets; nil when the kernel did not answer.
    func presentSets(_ sets: [String]) -> Set<String>? {
        guard !sets.isEmpty else { return [] }
        var request: [UInt8] = []
        var names: [UInt32: String] = [:]
        for set in sets {
            sequence &+= 1
            names[sequence] = set
            request += RuleWatchMessage.ipsetHeaderRequest(set: set, sequence: sequence)
        }
        do { try channel.send(request, count: request.count) } catch { return nil }
        var present = Set<UInt32>()
        var answered = Set<UInt32>()
        while answered.count < sets.count {
            guard let length = try? channel.receive(into: &buffer, milliseconds: 1000), length <= buffer.count
            else { return nil }
            buffer.withUnsafeBytes { raw in
                RuleWatchMessage.readIpsetAnswers(
                    UnsafeRawBufferPointer(rebasing: raw[..<length]),
                    present: &present,
                    answered: &answered
                )
            }
        }
        return Set(present.compactMap { names[$0] })
    }
}
