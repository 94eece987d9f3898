import Testing

@testable import ExitBlockCLI

@Suite("check --socket: the explain query")
struct CheckSocketTests {
    @Test("addresses pass unchanged; anything else is written as %XX")
    func percentEncoding() {
        #expect(CheckSocketCommand.percentEncoded("192.0.2.7") == "192.0.2.7")
        #expect(CheckSocketCommand.percentEncoded("2001:db8::1") == "2001:db8::1")
        #expect(CheckSocketCommand.percentEncoded("a b&c=d/e") == "a%20b%26c%3Dd%2Fe")
        #expect(CheckSocketCommand.percentEncoded("é") == "%C3%A9")
    }
}
