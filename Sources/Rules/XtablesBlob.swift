/// Reads the entry blob of an x_tables table (what IPT_SO_GET_ENTRIES returns, as
/// iptables-legacy-save reads it) into an `ObservedTable`. Pure and bounds-checked: bytes in,
/// chains out; a blob that does not hold together is nil.
///
/// Layout (<linux/netfilter_ipv4/ip_tables.h>, host byte order): entries one after the other,
/// each `struct ipt_entry` (112 bytes; `ip6t_entry` 168) with target_offset and next_offset,
/// then its matches, then its target (`xt_entry_target`: u16 size, name[29], u8 revision, data).
/// A built-in chain starts at the getinfo's hook_entry[hook] and ends with its policy entry
/// (underflow[hook]); a user chain starts with an ERROR target entry holding its name and ends
/// with a RETURN entry; the last entry is ERROR "ERROR". A standard target (empty name) holds
/// an int: >= 0 the offset of the rule jumped to, else -verdict-1 (-1 DROP, -2 ACCEPT, -4 QUEUE)
/// or XT_RETURN (-NF_REPEAT-1 = -5).
public enum XtablesBlob {
    /// Hook numbers to built-in chain names (NF_INET_PRE_ROUTING ... POST_ROUTING).
    static let hookChains = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]

    struct Entry {
        var offset: Int
        var size: Int
        var target: String
        var data: ArraySlice<UInt8>
        var revision: UInt8
    }

    /// The chains of the table whose getinfo is `info` (84 bytes) and whose entries are
    /// `entries`; nil when malformed.
    public static func parse(info: [UInt8], entries: [UInt8], ipv6: Bool) -> ObservedTable? {
        guard info.count >= 84 else { return nil }
        let validHooks = load32(info, 32)
        var hookStarts: [Int: String] = [:]
        var underflows: Set<Int> = []
        for hook in 0..<5 where validHooks & (1 << hook) != 0 {
            hookStarts[Int(load32(info, 36 + 4 * hook))] = hookChains[hook]
            underflows.insert(Int(load32(info, 56 + 4 * hook)))
        }
        guard let list = walk(entries, entrySize: ipv6 ? 168 : 112) else { return nil }
        // Jump offsets point at the first entry after a user chain's ERROR entry.
        var chainAt: [Int: String] = [:]
        for (index, entry) in list.enumerated() where entry.target == "ERROR" && index + 1 < list.count {
            chainAt[list[index + 1].offset] = cString(entry.data)
        }
        var chains: [String: [RuleShape]] = [:]
        var current: String?
        for (index, entry) in list.enumerated() {
            if let name = hookStarts[entry.offset] { current = name }
            if entry.target == "ERROR" {
                current = index + 1 < list.count ? chainAt[list[index + 1].offset] : nil
                if let current { chains[current, default: []] = [] }
                continue
            }
            guard let chain = current else { continue }
            let isTail =
                underflows.contains(entry.offset) || (index + 1 < list.count && list[index + 1].target == "ERROR")
            if isTail {
                chains[chain, default: []] += []
                current = nil
                continue
            }
            chains[chain, default: []].append(shape(entry, chainAt: chainAt))
        }
        return ObservedTable(chains: chains)
    }

    static func walk(_ entries: [UInt8], entrySize: Int) -> [Entry]? {
        var list: [Entry] = []
        var offset = 0
        while offset < entries.count {
            guard entries.count - offset >= entrySize else { return nil }
            // target_offset, next_offset: at 88, 90 in ipt_entry; 140, 142 in ip6t_entry.
            let fields = entrySize == 168 ? 140 : 88
            let targetOffset = Int(load16(entries, offset + fields))
            let nextOffset = Int(load16(entries, offset + fields + 2))
            guard targetOffset >= entrySize, targetOffset + 32 <= nextOffset, nextOffset <= entries.count - offset
            else { return nil }
            let at = offset + targetOffset
            let targetSize = Int(load16(entries, at))
            guard targetSize >= 32, targetOffset + targetSize <= nextOffset else { return nil }
            let name = cString(entries[(at + 2)..<(at + 31)])
            list.append(
                Entry(
                    offset: offset,
                    size: nextOffset,
                    target: name,
                    data: entries[(at + 32)..<(at + targetSize)],
                    revision: entries[at + 31]
                )
            )
            offset += nextOffset
        }
        return list
    }

    static func shape(_ entry: Entry, chainAt: [Int: String]) -> RuleShape {
        if entry.target.isEmpty {
            guard entry.data.count >= 4 else { return RuleShape(target: "") }
            let verdict = Int32(bitPattern: load32(Array(entry.data), 0))
            switch verdict {
            case -1: return RuleShape(target: "DROP")
            case -2: return RuleShape(target: "ACCEPT")
            case -4: return RuleShape(target: "QUEUE")
            case -5: return RuleShape(target: "RETURN")
            case 0...: return RuleShape(target: chainAt[Int(verdict)] ?? "?")
            default: return RuleShape(target: "verdict \(verdict)")
            }
        }
        guard entry.target == "NFQUEUE" else { return RuleShape(target: entry.target) }
        let data = Array(entry.data)
        // xt_NFQ_info (rev 0): u16 queuenum; v1 + u16 queues_total; v2/v3 + u16 bypass/flags.
        let first = data.count >= 2 ? load16(data, 0) : 0
        let count = entry.revision >= 1 && data.count >= 4 ? load16(data, 2) : 1
        let flags = entry.revision >= 2 && data.count >= 6 ? load16(data, 4) : 0
        return RuleShape(target: "NFQUEUE", queue: .init(first: first, count: count, flags: flags))
    }

    static func load16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    }

    static func load32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
