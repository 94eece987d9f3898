import Foundation

extension CurrentProcess {
    /// The Unix time this process started, from /proc (boot time + start ticks), or now when
    /// unreadable.
    public static func startTime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"),
            let uptime = try? String(contentsOfFile: "/proc/stat", encoding: .utf8)
        else { return WallClock.now() }
        // Field 22 (starttime) counts from 1; after the ")" the fields start at 3 (state).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]),
            let line = uptime.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return WallClock.now() }
        return boot + ticks / Double(clockTicksPerSecond)
    }
}
