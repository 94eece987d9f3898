import Testing

@testable import Rules

/// The x_tables entry blob read as iptables-legacy-save reads it, from a table built here
/// the way the kernel lays it out (ipt_entry 112 bytes, ip6t_entry 168).
@Suite struct XtablesBlobTests {
    /// Builds a blob of entries: each a target name, revision and data; returns the blob and
    /// each entry's offset.
    struct Builder {
        let entrySize: Int
        var bytes: [UInt8] = []
        var offsets: [Int] = []

        mutating func entry(_ target: String, revision: UInt8 = 0, data: [UInt8]) {
            let fields = entrySize == 168 ? 140 : 88
            let targetSize = 32 + ((data.count + 7) & ~7)
            var entry = [UInt8](repeating: 0, count: entrySize + targetSize)
            Self.store16(&entry, fields, UInt16(entrySize))
            Self.store16(&entry, fields + 2, UInt16(entry.count))
            // Counters the kernel fills: never read.
            for index in (fields + 12)..<(fields + 28) where index < entrySize { entry[index] = 0xee }
            Self.store16(&entry, entrySize, UInt16(targetSize))
            let name = Array(target.utf8)
            entry.replaceSubrange((entrySize + 2)..<(entrySize + 2 + name.count), with: name)
            entry[entrySize + 31] = revision
            entry.replaceSubrange((entrySize + 32)..<(entrySize + 32 + data.count), with: data)
            offsets.append(bytes.count)
            bytes += entry
        }

        mutating func standard(_ verdict: Int32) {
            entry("", data: withUnsafeBytes(of: verdict) { Array($0) })
        }

        mutating func error(_ name: String) {
            var data = Array(name.utf8)
            data += [UInt8](repeating: 0, count: 30 - data.count)
            entry("ERROR", data: data)
        }

        static func store16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
            bytes.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: UInt16.self) }
        }
    }

    /// mangle with FORWARD (jump, policy) and OUTPUT (policy), a user chain EXITBLOCK
    /// (DROP, NFQUEUE 7 bypass, tail RETURN), the final ERROR entry.
    static func mangle(ipv6: Bool, withJump: Bool = true) -> (info: [UInt8], entries: [UInt8]) {
        var builder = Builder(entrySize: ipv6 ? 168 : 112)
        builder.standard(-2)  // FORWARD: the jump is patched below
        if withJump { builder.standard(-2) }
        builder.standard(-2)  // FORWARD policy ACCEPT
        builder.standard(-2)  // OUTPUT policy ACCEPT
        builder.error("EXITBLOCK")
        builder.standard(-1)
        let queueInfo: [UInt8] = [7, 0, 1, 0, 1, 0]
        builder.entry("NFQUEUE", revision: 3, data: queueInfo)
        builder.standard(-5)  // the chain's tail (XT_RETURN)
        builder.error("ERROR")
        let chainStart = builder.offsets[withJump ? 5 : 4]
        var entries = builder.bytes
        if withJump {
            // The second entry of FORWARD jumps to EXITBLOCK's first rule.
            let at = builder.offsets[1] + builder.entrySize + 32
            entries.withUnsafeMutableBytes { $0.storeBytes(of: Int32(chainStart), toByteOffset: at, as: Int32.self) }
        }
        var info = [UInt8](repeating: 0, count: 84)
        let name = Array("mangle".utf8)
        info.replaceSubrange(0..<name.count, with: name)
        func put(_ offset: Int, _ value: UInt32) {
            info.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
        }
        put(32, 1 << 2 | 1 << 3)  // valid hooks: FORWARD, OUTPUT
        let forwardEnd = withJump ? 2 : 1
        put(36 + 8, UInt32(builder.offsets[0]))
        put(56 + 8, UInt32(builder.offsets[forwardEnd]))
        put(36 + 12, UInt32(builder.offsets[forwardEnd + 1]))
        put(56 + 12, UInt32(builder.offsets[forwardEnd + 1]))
        return (info, entries)
    }

    @Test(arguments: [false, true]) func readsChainsJumpsAndTheQueueRule(ipv6: Bool) throws {
        let blob = Self.mangle(ipv6: ipv6)
        let table = try #require(XtablesBlob.parse(info: blob.info, entries: blob.entries, ipv6: ipv6))
        #expect(table.rules(of: "FORWARD") == [RuleShape(target: "ACCEPT"), RuleShape(target: "EXITBLOCK")])
        #expect(table.rules(of: "OUTPUT") == [])
        #expect(
            table.rules(of: "EXITBLOCK") == [
                RuleShape(target: "DROP"), RuleShape(target: "NFQUEUE", queue: .init(first: 7, count: 1, flags: 1)),
            ]
        )
        #expect(table.rules(of: "ERROR") == nil)
    }

    /// iptables-legacy stores RETURN as XT_RETURN (-NF_REPEAT-1 = -5), the other verdicts as
    /// -verdict-1 (what flow mode's first rule and the skip rules are read as).
    @Test func standardVerdictsReadAsIptablesNamesThem() {
        func shape(_ verdict: Int32) -> String {
            let data = withUnsafeBytes(of: verdict) { Array($0) }[...]
            let entry = XtablesBlob.Entry(offset: 0, size: 0, target: "", data: data, revision: 0)
            return XtablesBlob.shape(entry, chainAt: [:]).target
        }
        #expect([-1, -2, -4, -5].map(shape) == ["DROP", "ACCEPT", "QUEUE", "RETURN"])
    }

    @Test func aBlobThatDoesNotHoldTogetherIsNil() {
        let blob = Self.mangle(ipv6: false)
        #expect(XtablesBlob.parse(info: blob.info, entries: Array(blob.entries.dropLast(5)), ipv6: false) == nil)
        #expect(XtablesBlob.parse(info: [], entries: blob.entries, ipv6: false) == nil)
        var bad = blob.entries
        bad[90] = 0  // next_offset 0 of the first entry
        bad[91] = 0
        #expect(XtablesBlob.parse(info: blob.info, entries: bad, ipv6: false) == nil)
    }

    @Test func theLayoutOfTheDefaultsAgainstWhatIsThere() throws {
        var settings = RuleSettings()
        settings.queues = 7...7
        settings.families = [.ipv4]
        let layout = RuleLayout(try RuleSet(settings), family: .ipv4)
        #expect(layout.mangleHooks == ["FORWARD"])
        #expect(layout.mangleRules.map(\.description) == ["ACCEPT", "DROP", "NFQUEUE 7 bypass"])
        #expect(layout.sets == ["exitblock-accept4", "exitblock-drop4", "exitblock-allow4"])
        let sets = Set(layout.sets)
        var intact = ObservedTable()
        intact.chains = ["FORWARD": [RuleShape(target: "EXITBLOCK")], "EXITBLOCK": layout.mangleRules]
        #expect(layout.problems(mangle: intact, filter: ObservedTable(), presentSets: sets) == [])
        let blob = Self.mangle(ipv6: false, withJump: false)
        let noJump = try #require(XtablesBlob.parse(info: blob.info, entries: blob.entries, ipv6: false))
        #expect(
            layout.problems(mangle: noJump, filter: nil, presentSets: sets.subtracting(["exitblock-allow4"])) == [
                "ipv4 mangle FORWARD has no jump to EXITBLOCK",
                "ipv4 mangle chain EXITBLOCK changed: [DROP, NFQUEUE 7 bypass] instead of [ACCEPT, DROP, NFQUEUE 7 bypass]",
                "ipv4 set exitblock-allow4 is missing",
            ]
        )
        #expect(
            layout.problems(mangle: ObservedTable(), filter: nil, presentSets: sets) == [
                "ipv4 mangle FORWARD has no jump to EXITBLOCK", "ipv4 mangle chain EXITBLOCK is missing",
            ]
        )
    }

    @Test func ruleShapesOfRuleLines() {
        #expect(
            RuleShape(ruleLine: "-A EXITBLOCK -j NFQUEUE --queue-balance 2:5 --queue-cpu-fanout").description
                == "NFQUEUE 2-5 cpu-fanout"
        )
        #expect(RuleShape(ruleLine: "-A EXITBLOCK -d 10.0.0.0/8 -j RETURN") == RuleShape(target: "RETURN"))
    }
}
