#if canImport(Glibc)
    import Glibc
#endif

/// The wall clock in the local time zone (TZ, /etc/localtime), for stamps shown to a person.
public enum LocalTime {
    /// The time of day now, "HH:MM:SS" (localtime_r(3), strftime(3)).
    public static func timeOfDay() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "--:--:--" }
        var buffer = [CChar](repeating: 0, count: 16)
        let count = strftime(&buffer, buffer.count, "%H:%M:%S", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
