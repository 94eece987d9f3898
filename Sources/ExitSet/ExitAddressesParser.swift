/// The `exitAddresses` format (TorDNSEL `exit-addresses`):
///
/// ```
/// @type tordnsel 1.0
/// Downloaded 2024-03-12 14:02:01
/// ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75
/// Published 2024-03-11 13:07:19
/// LastStatus 2024-03-12 08:00:00
/// ExitAddress 185.241.208.232 2024-03-12 08:10:51
/// ```
///
/// Each `ExitAddress` line gives its address (IPv4, or IPv6 should the service ever list one);
/// the date after it is not checked. An `ExitAddress` line without a valid address is a
/// rejected line. Every other keyword is ignored, as are blank lines and `#` lines.
enum ExitAddressesParser {
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ListError) -> ParsedList {
        var scanner = LineScanner(bytes)
        var list = ListAccumulator(format: .exitAddresses)
        var fields: [Range<Int>] = []
        while let line = try scanner.next() {
            let content = ASCII.trimmed(bytes, line)
            guard !content.isEmpty && bytes[content.lowerBound] != ASCII.hash else { continue }
            list.sawContent = true
            ASCII.split(bytes, content, into: &fields, limit: 3)
            guard ASCII.equals(bytes, fields[0], "ExitAddress") else { continue }
            guard fields.count >= 2 else {
                list.reject(line: scanner.lineNumber, "ExitAddress line without an address")
                continue
            }
            if let address = IPAddress.parse(ASCII.slice(bytes, fields[1])) {
                list.accept(IPPrefix(host: address))
            } else {
                list.reject(
                    line: scanner.lineNumber,
                    "ExitAddress is not an IP address: \(Excerpt.quoted(bytes, fields[1]))"
                )
            }
        }
        return try list.finish()
    }
}
