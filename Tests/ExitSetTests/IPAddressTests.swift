import ExitSet
import Testing

@Suite("IPAddress")
struct IPAddressTests {
    @Test func parsesBothFamilies() {
        #expect(IPAddress("192.0.2.1") == .v4(IPv4Address(0xC000_0201)))
        #expect(IPAddress("2001:db8::1") == .v6(IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1)))
        #expect(IPAddress("[2001:db8::1]") == .v6(IPv6Address(high: 0x2001_0DB8_0000_0000, low: 1)))
        #expect(IPAddress("[::]") == .v6(IPv6Address(high: 0, low: 0)))
    }

    @Test func normalizesIPv4Mapped() {
        #expect(IPAddress("::ffff:1.2.3.4") == .v4(IPv4Address(0x0102_0304)))
        #expect(IPAddress("[::ffff:1.2.3.4]") == .v4(IPv4Address(0x0102_0304)))
        #expect(IPAddress("::ffff:102:304") == .v4(IPv4Address(0x0102_0304)))
        // NAT64 and IPv4-compatible addresses are IPv6 addresses of their own.
        #expect(IPAddress("64:ff9b::1.2.3.4")?.description == "64:ff9b::102:304")
    }

    @Test(arguments: [
        "", "[]", "[1.2.3.4]", "[::1", "::1]", "[[::1]]", "[::1]:80", "1.2.3.4:80", "localhost", "fe80::1%eth0",
    ])
    func rejectsInvalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func ordersIPv4BeforeIPv6() {
        #expect(IPAddress("255.255.255.255")! < IPAddress("::")!)
        #expect(IPAddress("1.2.3.4")! < IPAddress("1.2.3.5")!)
        #expect(IPAddress("::1")! < IPAddress("::2")!)
        #expect(!(IPAddress("::")! < IPAddress("0.0.0.0")!))
    }

    @Test func describesWithoutBrackets() {
        #expect(IPAddress("[2001:DB8::0001]")?.description == "2001:db8::1")
        #expect(IPAddress("10.1.2.3")?.description == "10.1.2.3")
    }
}
