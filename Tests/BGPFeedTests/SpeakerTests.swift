import LinuxSystem
import ExitSet
import Foundation
import ListSources
import Synchronization
import Testing

@testable import BGPFeed

/// BIRD's control socket stand-in: answers every command with a fixed reply, records the calls.
final class FakeBird: Sendable {
    let reply: BIRDReply
    let calls = Mutex<[[String]]>([])

    init(code: Int, text: String) { reply = BIRDReply(code: code, lines: [text]) }

    var control: BIRDSpeaker.Control {
        { command, path in
            self.calls.withLock { $0.append([command, path]) }
            return self.reply
        }
    }
}

@Suite("Speakers")
struct SpeakerTests {
    let routes = ["192.0.2.1", "2001:db8::/64"].map { IPPrefix($0)! }

    func temporaryPath() throws -> String {
        let directory = "/tmp/exitblock-bgp-test-\(UInt64.random(in: 0...UInt64.max))"
        try DurableFile.makeDirectory(directory)
        return directory + "/bird-routes.conf"
    }

    @Test func birdWritesTheFileAndReloads() throws {
        let path = try temporaryPath()
        let bird = FakeBird(code: 3, text: "Reconfigured")
        let config = BIRDStaticConfig(settings: RouteSettings())
        let speaker = BIRDSpeaker(config: config, includePath: path, socketPath: "/s", control: bird.control)
        try speaker.apply(RouteDelta(announce: routes), routes: routes, initial: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == config.text(for: routes))
        #expect(bird.calls.withLock { $0 } == [["configure", "/s"]])
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test func aRefusedReloadPutsThePreviousFileBack() throws {
        let path = try temporaryPath()
        try "previous\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bird = FakeBird(code: 8002, text: "bird-routes.conf:3:5 syntax error")
        let speaker = BIRDSpeaker(
            config: BIRDStaticConfig(settings: RouteSettings()),
            includePath: path,
            socketPath: "/s",
            control: bird.control
        )
        #expect(throws: BGPFeedError.self) {
            try speaker.apply(RouteDelta(announce: routes), routes: routes, initial: false)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous\n")
    }

    @Test func exabgpAnnouncesEverythingAtStartAndOnlyTheDeltaAfter() throws {
        let written = Mutex<[String]>([])
        let speaker = ExaBGPSpeaker(settings: RouteSettings(communities: [])) { text in
            written.withLock { $0.append(text) }
        }
        let stale = IPPrefix("192.0.2.9")!
        try speaker.apply(RouteDelta(announce: [], withdraw: [stale]), routes: routes, initial: true)
        try speaker.apply(RouteDelta(announce: [], withdraw: [routes[0]]), routes: [routes[1]], initial: false)
        try speaker.apply(RouteDelta(), routes: [routes[1]], initial: false)
        #expect(
            written.withLock { $0 } == [
                "withdraw route 192.0.2.9/32 next-hop 192.0.2.1\n"
                    + "announce route 192.0.2.1/32 next-hop 192.0.2.1\n"
                    + "announce route 2001:db8::/64 next-hop 100::1\n",
                "withdraw route 192.0.2.1/32 next-hop 192.0.2.1\n",
            ]
        )
    }
}
