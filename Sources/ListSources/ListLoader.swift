import ExitSet
import Foundation

/// Why a list file could not be used. Names the file; the CLI prints `description`.
public enum ListLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case tooLarge(path: String, bytes: Int, limit: Int)
    case refused(path: String, ListError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .tooLarge(let path, let bytes, let limit):
            return "\(path): \(bytes) bytes is larger than the \(limit)-byte limit for a list"
        case .refused(let path, let error):
            return "\(path): \(error)"
        }
    }
}

extension ListLoadError {
    /// The file the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .tooLarge(let path, _, _), .refused(let path, _): return path
        }
    }

    /// A short snake_case reason, the `reason` label of the refusal metric.
    public var reason: String {
        switch self {
        case .unreadable: return "unreadable"
        case .tooLarge: return "too_large"
        case .refused(_, let error): return error.reason
        }
    }
}

/// One list file, read and parsed.
public struct LoadedList: Sendable {
    public var path: String
    public var list: ParsedList
}

/// Reads list files and builds the exit set from them.
public enum ListLoader {
    /// The largest list file accepted (the full Tor consensus is about 3 MB).
    public static let maximumBytes = 256 << 20

    /// The bytes of `path`, refusing directories and files over `limit` bytes.
    public static func read(_ path: String, limit: Int = maximumBytes) throws(ListLoadError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
        defer { try? handle.close() }
        do {
            guard let data = try handle.read(upToCount: limit + 1) else { return [] }
            guard data.count <= limit else {
                throw ListLoadError.tooLarge(path: path, bytes: data.count, limit: limit)
            }
            return [UInt8](data)
        } catch let error as ListLoadError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Reads and parses one list; a list with no valid entry is refused.
    public static func load(_ path: String, format: ListFormat? = nil) throws(ListLoadError) -> LoadedList {
        let bytes = try read(path)
        do {
            return LoadedList(path: path, list: try ListParser.parse(bytes, format: format))
        } catch {
            throw .refused(path: path, error)
        }
    }

    /// Loads every path and returns the union set and the lists it came from.
    public static func loadSet(_ paths: [String], format: ListFormat? = nil) throws(ListLoadError) -> (
        set: ExitSet, lists: [LoadedList]
    ) {
        var lists: [LoadedList] = []
        for path in paths { lists.append(try load(path, format: format)) }
        let policies = PortPolicy.merge(lists.map { ($0.list.entries, $0.list.policies) })
        return (ExitSet(lists.flatMap(\.list.entries), policies: policies), lists)
    }
}
