import ExitSet
import Testing

@testable import BGPFeed

@Suite("ExaBGP and BIRD output")
struct RenderingTests {
    let v4 = IPPrefix("192.0.2.7")!
    let v6 = IPPrefix("2001:db8::/64")!

    @Test func exabgpRTBH() {
        let commands = ExaBGPCommands(settings: RouteSettings(communities: [.blackhole, Community(64500, 1)]))
        #expect(commands.announce(v4) == "announce route 192.0.2.7/32 next-hop 192.0.2.1 community [65535:666 64500:1]")
        #expect(commands.announce(v6) == "announce route 2001:db8::/64 next-hop 100::1 community [65535:666 64500:1]")
        #expect(commands.withdraw(v4) == "withdraw route 192.0.2.7/32 next-hop 192.0.2.1")
        let lines = commands.lines(for: RouteDelta(announce: [v6], withdraw: [v4]))
        #expect(lines.first?.hasPrefix("withdraw") == true && lines.count == 2)
    }

    @Test func exabgpFlowSpec() {
        let commands = ExaBGPCommands(settings: RouteSettings(style: .flowspec))
        #expect(commands.announce(v4) == "announce flow route { match { source 192.0.2.7/32; } then { discard; } }")
        #expect(commands.withdraw(v6) == "withdraw flow route { match { source 2001:db8::/64; } then { discard; } }")
    }

    @Test func birdRTBHFile() {
        let text = BIRDStaticConfig(settings: RouteSettings()).text(for: [v4, v6])
        #expect(
            text.contains(
                "protocol static exitblock4 {\n    ipv4;\n    route 192.0.2.7/32 blackhole { bgp_community.add((65535,666)); };\n}"
            )
        )
        #expect(text.contains("protocol static exitblock6 {\n    ipv6;\n    route 2001:db8::/64 blackhole"))
    }

    @Test func birdFlowSpecFile() {
        let config = BIRDStaticConfig(settings: RouteSettings(style: .flowspec), flowTables: ("flow4tab", "flow6tab"))
        let text = config.text(for: [v4])
        #expect(
            text.contains(
                "    flow4 { table flow4tab; };\n    route flow4 { src 192.0.2.7/32; } { bgp_ext_community.add((generic, 0x80060000, 0)); };"
            )
        )
        #expect(text.contains("protocol static exitblock6 {\n    flow6 { table flow6tab; };\n}"))
    }

    @Test func communities() {
        #expect(Community("65535:666") == .blackhole)
        #expect(Community("65536:1") == nil && Community("1") == nil && Community("1:2:3") == nil)
    }
}
