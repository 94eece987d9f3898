/// Why a benchmark could not run.
enum BenchError: Error, CustomStringConvertible {
    case cannotRead(String)
    case cannotParse(String, String)
    case noData

    var description: String {
        switch self {
        case .cannotRead(let path): return "cannot read \(path)"
        case .cannotParse(let path, let why): return "cannot parse \(path): \(why)"
        case .noData:
            return "the Tor lists were not found; give --data DIR (the directory of torbulkexitlist-2024-03-12)"
        }
    }
}
