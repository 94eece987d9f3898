/// Reads a list of addresses from bytes, in one of the `ListFormat`s.
///
/// Pure: bytes in, entries out; no I/O, no `String` per line. A line-oriented list of 1,000,000
/// lines parses in a fraction of a second in a release build.
public enum ListParser {
    /// The longest line (in bytes, without its line end) of a line-oriented format. A longer
    /// line refuses the whole list (`ListError.lineTooLong`). Onionoo JSON has no line cap:
    /// a minified document is one line; its nesting depth is capped instead (64).
    public static let maximumLineLength = 4096

    /// Parses `bytes` as `format`, or as the format `ListFormat.detect` guesses when nil.
    ///
    /// Bad lines (an address that does not parse) are returned in `ParsedList.rejected`; the
    /// rest of the list is still used. In `exitAddresses` and `consensus` documents unknown
    /// keywords are ignored (real documents hold many), while a malformed address on an
    /// `ExitAddress`, `r` or `a` line is a rejected line; in a consensus and in Onionoo, only
    /// the lines of relays that count (Exit and not BadExit) are reported.
    ///
    /// - Throws: `.empty` for no bytes or only blank and comment lines; `.binary` for a NUL
    ///   byte or mostly non-text bytes; `.lineTooLong`; `.malformed` when the document breaks its
    ///   format (JSON syntax, nesting over 64, a consensus without a relay); `.noValidEntry`
    ///   when nothing gave an entry.
    public static func parse(_ bytes: [UInt8], format: ListFormat? = nil) throws(ListError) -> ParsedList {
        guard !bytes.isEmpty else { throw .empty }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(ListError) -> ParsedList in try parse(in: buffer, format: format) }
        }
        return try result.get()
    }

    static func parse(in bytes: UnsafeBufferPointer<UInt8>, format: ListFormat?) throws(ListError) -> ParsedList {
        if let offset = ByteSearch.binaryOffset(bytes) { throw .binary(offset: offset) }
        switch format ?? ListFormat.detect(in: bytes) {
        case .plain: return try PlainListParser.parse(bytes)
        case .exitAddresses: return try ExitAddressesParser.parse(bytes)
        case .consensus: return try ConsensusParser.parse(bytes)
        case .onionoo: return try OnionooParser.parse(bytes)
        case .relays:
            if ListFormat.detect(in: bytes) == .onionoo { return try OnionooParser.parse(bytes, relays: true) }
            return try ConsensusParser.parse(bytes, relays: true)
        }
    }
}
