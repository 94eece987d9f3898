import LinuxSystem
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SCM_RIGHTS over a socket pair: the descriptors received are the same open files.
@Suite struct DescriptorPassingTests {
    @Test func passedDescriptorsAreTheSameOpenFiles() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer {
            close(pair[0])
            close(pair[1])
        }
        // Two pipes: what is written into a passed write end comes out of the kept read end.
        var first: [Int32] = [0, 0]
        var second: [Int32] = [0, 0]
        #expect(pipe(&first) == 0 && pipe(&second) == 0)
        try DescriptorPassing.send([first[1], second[1]], message: Array("queues 0,1".utf8), over: pair[0])
        close(first[1])
        close(second[1])
        let (message, descriptors) = try DescriptorPassing.receive(over: pair[1])
        #expect(String(decoding: message, as: UTF8.self) == "queues 0,1")
        #expect(descriptors.count == 2)
        for (index, descriptor) in descriptors.enumerated() {
            #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
            var byte = UInt8(0x41 + index)
            #expect(write(descriptor, &byte, 1) == 1)
            close(descriptor)
        }
        for (index, readEnd) in [first[0], second[0]].enumerated() {
            var byte: UInt8 = 0
            #expect(read(readEnd, &byte, 1) == 1)
            #expect(byte == UInt8(0x41 + index))
            close(readEnd)
        }
    }

    @Test func aMessageWithoutDescriptors() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[1]) }
        try DescriptorPassing.send([], message: [1], over: pair[0])
        close(pair[0])
        let first = try DescriptorPassing.receive(over: pair[1])
        #expect(first.message == [1] && first.descriptors.isEmpty)
        #expect(try DescriptorPassing.receive(over: pair[1]).message.isEmpty)
    }
}
