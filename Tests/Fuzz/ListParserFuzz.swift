// libFuzzer target for the list parsers, built by scripts/fuzz.sh with swiftc over the ExitSet
// sources only (-sanitize=fuzzer,address). FUZZ_FORMAT picks the parser (plain,
// exit-addresses, consensus, onionoo; unset: detected from the bytes). Any accepted list must
// build a set that contains each of its entries' addresses.
#if canImport(Glibc)
    import Glibc
#endif

/// The parser under test, read once from the environment.
let fuzzFormat: ListFormat? = getenv("FUZZ_FORMAT").flatMap { ListFormat(rawValue: String(cString: $0)) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzListParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let list = try? ListParser.parse(bytes, format: fuzzFormat) else { return 0 }
    let set = ExitSet(list.entries)
    for entry in list.entries.prefix(256) where !set.contains(entry.address) {
        fatalError("parsed entry \(entry) is not in the set built from it")
    }
    _ = ListFormat.detect(bytes)
    return 0
}
