import Foundation
import Synchronization
import Testing

@testable import BGPFeed

#if canImport(Glibc)
    import Glibc
#endif

/// BIRD's control-socket protocol against a fake peer on a real unix socket: the welcome, the
/// command line, a reply of several lines (continuations with `-` and with a leading space).
@Suite struct BIRDControlSocketTests {
    @Test func repliesAreReadToTheirLastLine() {
        let text = "0002-Reading configuration from /etc/bird.conf\n more of it\n0003 Reconfigured\n0001 next"
        let (reply, rest) = BIRDReply.parse(text[...])!
        #expect(
            reply
                == BIRDReply(
                    code: 3,
                    lines: ["Reading configuration from /etc/bird.conf", "more of it", "Reconfigured"]
                )
        )
        #expect(reply.tookConfiguration && !reply.isError)
        #expect(rest == "0001 next")
        #expect(BIRDReply.parse("0002-half a reply\n"[...]) == nil)
        let error = BIRDReply.parse("8002 /etc/bird.conf:3:5 syntax error\n"[...])!.reply
        #expect(error.isError && !error.tookConfiguration)
    }

    @Test func configureOverTheSocket() throws {
        let path = "/tmp/exitblock-bird-\(UInt64.random(in: 0...UInt64.max)).ctl"
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer {
            close(server)
            unlink(path)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        #expect(listen(server, 1) == 0)
        let received = Mutex<String>("")
        let peer = Thread {
            let client = accept(server, nil, nil)
            guard client >= 0 else { return }
            let welcome = Array("0001 BIRD 2.0.12 ready.\n".utf8)
            _ = welcome.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
            received.withLock { $0 = String(decoding: buffer[0..<max(count, 0)], as: UTF8.self) }
            // The reply in two writes, split inside a line.
            for part in ["0002-Reading configuration from /etc/bird.conf\n00", "03 Reconfigured\n"] {
                _ = Array(part.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            }
            close(client)
        }
        peer.start()
        let reply = try BIRDControlSocket.send("configure", to: path, timeoutSeconds: 5)
        #expect(received.withLock { $0 } == "configure\n")
        #expect(reply.code == 3)
        #expect(reply.lines == ["Reading configuration from /etc/bird.conf", "Reconfigured"])
    }
}
