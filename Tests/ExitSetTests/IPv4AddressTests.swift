import ExitSet
import Testing

@Suite("IPv4Address")
struct IPv4AddressTests {
    @Test(arguments: [
        ("0.0.0.0", UInt32(0)),
        ("1.2.3.4", 0x0102_0304),
        ("192.0.2.1", 0xC000_0201),
        ("255.255.255.255", 0xFFFF_FFFF),
        ("10.0.0.10", 0x0A00_000A),
        ("100.200.250.199", 0x64C8_FAC7),
    ])
    func parsesDottedQuads(text: String, value: UInt32) {
        #expect(IPv4Address(text)?.value == value)
        #expect(IPv4Address(value).description == text)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3.00",
        "0x7f.0.0.1", "1..2.3", ".1.2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "1.2.3.-4",
        "1234.1.1.1", "a.b.c.d", "1.2.3.4\n", "999.999.999.999", "1,2,3,4", "::1",
    ])
    func rejectsInvalid(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func parsesSubstrings() {
        let line = "x 192.0.2.7 y"
        let middle = line.split(separator: " ")[1]
        #expect(IPv4Address(middle)?.value == 0xC000_0207)
    }

    @Test func ordersNumerically() {
        #expect(IPv4Address("9.0.0.0")! < IPv4Address("10.0.0.0")!)
        #expect(IPv4Address("1.2.3.4")! < IPv4Address("1.2.3.5")!)
        #expect(!(IPv4Address("1.2.3.5")! < IPv4Address("1.2.3.5")!))
    }
}
