import ArgumentParser
import Engine
import Rules

/// A packet mark argument, `VALUE[/MASK]`: decimal or `0x` hexadecimal, value not 0 and
/// within the mask (default every bit) (`Policy.parseMarkMask`).
struct MarkArgument: ExpressibleByArgument, Sendable, Equatable {
    var value: UInt32
    var mask: UInt32

    init?(argument: String) {
        guard let parsed = Policy.parseMarkMask(argument) else { return nil }
        value = parsed.value
        mask = parsed.mask
    }

    init(_ value: UInt32, mask: UInt32 = 0xffff_ffff) {
        self.value = value
        self.mask = mask
    }

    var defaultValueDescription: String { PacketMark.text(value, mask: mask) }
}
