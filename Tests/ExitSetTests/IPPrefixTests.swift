import ExitSet
import Testing

@Suite("IPPrefix")
struct IPPrefixTests {
    /// Input, canonical description.
    @Test(arguments: [
        ("1.2.3.4", "1.2.3.4"),
        ("1.2.3.4/32", "1.2.3.4"),
        ("1.2.3.0/24", "1.2.3.0/24"),
        ("10.0.0.1/8", "10.0.0.0/8"),  // host bits are cleared
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("255.255.255.255/1", "128.0.0.0/1"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("2001:db8::1/64", "2001:db8::/64"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::]/48", "2001:db8::/48"),
        ("::/0", "::/0"),
        ("::1/128", "::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),  // IPv4-mapped becomes IPv4
        ("::ffff:1.2.3.0/120", "1.2.3.0/24"),
        ("::ffff:0.0.0.0/96", "0.0.0.0/0"),
        ("::ffff:1.2.3.4/95", "::fffe:0:0/95"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"),
    ])
    func parsesAndDescribes(input: String, canonical: String) {
        #expect(IPPrefix(input)?.description == canonical, "\(input)")
    }

    @Test(arguments: [
        "", "/24", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/08", "1.2.3.4/-1", "1.2.3.4/1/2", "1.2.3.4/ 24",
        "::/129", "2001:db8::/0128", "[1.2.3.4]/24", "[::1/64]", "1.2.3/24", "1.2.3.4-1.2.3.9",
        "1.2.3.4 /24", "1.2.3.4/24x", "2001:db8::/1000", "[::1]/", "foo",
    ])
    func rejectsInvalid(text: String) {
        #expect(IPPrefix(text) == nil, "\(text)")
    }

    @Test func masksInTheMemberwiseInitializer() {
        let block = IPPrefix(address("10.20.30.40"), length: 16)
        #expect(block.address == address("10.20.0.0"))
        #expect(block.length == 16)
        let v6 = IPPrefix(address("2001:db8:1:2:3:4:5:6"), length: 33)
        #expect(v6.description == "2001:db8::/33")
        let mapped = IPPrefix(.v6(IPv6Address("::ffff:10.0.0.1")!), length: 104)
        #expect(mapped == prefix("10.0.0.0/8"))
    }

    @Test func containsAddresses() {
        #expect(prefix("10.0.0.0/8").contains(address("10.255.255.255")))
        #expect(!prefix("10.0.0.0/8").contains(address("11.0.0.0")))
        #expect(prefix("0.0.0.0/0").contains(address("255.255.255.255")))
        #expect(!prefix("0.0.0.0/0").contains(address("::1")))
        #expect(prefix("1.2.3.4").contains(address("1.2.3.4")))
        #expect(!prefix("1.2.3.4").contains(address("1.2.3.5")))
        #expect(prefix("1.2.3.0/24").contains(.v6(IPv6Address("::ffff:1.2.3.99")!)))
        #expect(prefix("2001:db8::/32").contains(address("2001:db8:ffff::1")))
        #expect(!prefix("2001:db8::/32").contains(address("2001:db9::")))
        #expect(prefix("::/0").contains(address("ffff::")))
        #expect(prefix("2001:db8::/127").contains(address("2001:db8::1")))
        #expect(!prefix("2001:db8::/127").contains(address("2001:db8::2")))
        #expect(prefix("2001:db8::/65").contains(address("2001:db8::7fff:ffff:ffff:ffff")))
        #expect(!prefix("2001:db8::/65").contains(address("2001:db8::8000:0:0:0")))
    }

    @Test func knowsHosts() {
        #expect(prefix("1.2.3.4").isHost)
        #expect(!prefix("1.2.3.4/31").isHost)
        #expect(prefix("::1").isHost)
        #expect(!prefix("::/127").isHost)
        #expect(IPPrefix(host: address("::ffff:1.2.3.4")) == prefix("1.2.3.4/32"))
    }

    @Test func ordersByAddressThenLength() {
        let sorted = [
            prefix("::/0"), prefix("1.2.3.4"), prefix("1.2.3.0/24"), prefix("1.0.0.0/8"), prefix("1.2.3.0/25"),
        ].sorted()
        #expect(sorted.map(\.description) == ["1.0.0.0/8", "1.2.3.0/24", "1.2.3.0/25", "1.2.3.4", "::/0"])
    }
}
