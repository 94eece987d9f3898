import ExitSet
import Testing
import SeededRandom

@Suite("IPv6Address")
struct IPv6AddressTests {
    /// Text, expected halves.
    @Test(arguments: [
        ("::", UInt64(0), UInt64(0)),
        ("::1", 0, 1),
        ("1::", 0x0001_0000_0000_0000, 0),
        ("2001:db8::1", 0x2001_0DB8_0000_0000, 1),
        ("2001:DB8::1", 0x2001_0DB8_0000_0000, 1),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", 0x2001_0DB8_0000_0000, 1),
        ("2001:0470:0001:0908:0000:0000:0000:9001", 0x2001_0470_0001_0908, 0x9001),
        ("1:2:3:4:5:6:7:8", 0x0001_0002_0003_0004, 0x0005_0006_0007_0008),
        ("1:2:3:4:5:6:7::", 0x0001_0002_0003_0004, 0x0005_0006_0007_0000),
        ("::2:3:4:5:6:7:8", 0x0000_0002_0003_0004, 0x0005_0006_0007_0008),
        ("1::8", 0x0001_0000_0000_0000, 8),
        ("fe80::1:2", 0xFE80_0000_0000_0000, 0x0000_0000_0001_0002),
        ("::ffff:1.2.3.4", 0, 0x0000_FFFF_0102_0304),
        ("::FFFF:1.2.3.4", 0, 0x0000_FFFF_0102_0304),
        ("64:ff9b::1.2.3.4", 0x0064_FF9B_0000_0000, 0x0000_0000_0102_0304),
        ("::1.2.3.4", 0, 0x0102_0304),
        ("1:2:3:4:5:6:1.2.3.4", 0x0001_0002_0003_0004, 0x0005_0006_0102_0304),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .max, .max),
        ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", .max, .max),
        ("0:0:0:0:0:0:0:0", 0, 0),
        ("2a0b:f4c2:2::33", 0x2A0B_F4C2_0002_0000, 0x33),
    ])
    func parsesTextualForms(text: String, high: UInt64, low: UInt64) {
        #expect(IPv6Address(text) == IPv6Address(high: high, low: low), "\(text)")
    }

    @Test(arguments: [
        "", ":", ":::", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::",
        "1::2:", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "[::1]", "fe80::1%eth0", "1.2.3.4",
        "::ffff:1.2.3", "::ffff:1.2.3.4.5", "::ffff:256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
        " ::1", "::1 ", "0:0:0:0:0:0:0:0:0", "::00000", "2001:db8:::1", "1:::2", "-1::",
        "::ffff:01.2.3.4",
    ])
    func rejectsInvalid(text: String) {
        #expect(IPv6Address(text) == nil, "\(text)")
    }

    /// Input, RFC 5952 canonical output.
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),  // a single zero group stays
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),  // the longest run
        ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),  // the first run on a tie
        ("::", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("0:0:0:0:0:ffff:0102:0304", "::ffff:1.2.3.4"),
        ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        ("ABCD:EF01::", "abcd:ef01::"),
        ("0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1"),
    ])
    func writesCanonicalText(input: String, canonical: String) {
        #expect(IPv6Address(input)?.description == canonical)
        #expect(IPv6Address(canonical)?.description == canonical)
    }

    @Test func knowsIPv4Mapped() {
        #expect(IPv6Address("::ffff:1.2.3.4")!.isIPv4Mapped)
        #expect(IPv6Address("::ffff:0:0")!.isIPv4Mapped)
        #expect(!IPv6Address("::1.2.3.4")!.isIPv4Mapped)
        #expect(!IPv6Address("64:ff9b::1.2.3.4")!.isIPv4Mapped)
        #expect(!IPv6Address("1::ffff:1.2.3.4")!.isIPv4Mapped)
    }

    @Test func ordersNumerically() {
        #expect(IPv6Address("::1")! < IPv6Address("::2")!)
        #expect(IPv6Address("::ffff:ffff:ffff:ffff")! < IPv6Address("0:0:0:1::")!)
        #expect(IPv6Address("2001:db8::")! < IPv6Address("2001:db9::")!)
    }

    @Test func roundTripsRandomAddresses() {
        var generator = SeededGenerator(seed: 6)
        for _ in 0..<2000 {
            // Many zero groups, so that compression shows up in every position.
            var high: UInt64 = 0
            var low: UInt64 = 0
            for group in 0..<8 {
                let value: UInt64 =
                    Bool.random(using: &generator) ? 0 : UInt64.random(in: 0...0xFFFF, using: &generator)
                if group < 4 {
                    high |= value << (48 - 16 * UInt64(group))
                } else {
                    low |= value << (48 - 16 * UInt64(group - 4))
                }
            }
            let original = IPv6Address(high: high, low: low)
            let text = original.description
            #expect(IPv6Address(text) == original, "\(text)")
            #expect(!text.contains(":::"))
            #expect(text == text.lowercased())
        }
    }
}
