import LinuxSystem
import Testing

@testable import Daemon

/// The restart hand-over's pure parts: its lines, what a starting daemon does with the
/// sockets it is given, and the service manager's LISTEN_* variables.
struct HandoverTests {
    @Test func takeAndGiveLinesRoundTrip() throws {
        let take = HandoverMessage(kind: .take, pid: 812, queues: [0, 1])
        #expect(String(decoding: take.encoded, as: UTF8.self) == "exitblock-handover/1 take pid=812 queues=0,1\n")
        #expect(try HandoverMessage.parse(take.encoded) == take)
        let give = HandoverMessage(kind: .give, pid: 790, queues: [3], stoppedNanoseconds: 123_456_789)
        #expect(
            String(decoding: give.encoded, as: UTF8.self)
                == "exitblock-handover/1 give pid=790 queues=3 stopped-ns=123456789\n"
        )
        #expect(try HandoverMessage.parse(give.encoded) == give)
    }

    @Test(arguments: [
        "",
        "exitblock-handover/1 take pid=1 queues=0",  // no newline
        "exitblock-handover/2 take pid=1 queues=0\n",  // another version
        "exitblock-handover/1 steal pid=1 queues=0\n",
        "exitblock-handover/1 take pid=0 queues=0\n",
        "exitblock-handover/1 take pid=1\n",
        "exitblock-handover/1 take pid=1 queues=\n",
        "exitblock-handover/1 take pid=1 queues=0,0\n",
        "exitblock-handover/1 take pid=1 queues=65536\n",
        "exitblock-handover/1 take pid=1 pid=2 queues=0\n",
        "exitblock-handover/1 give pid=1 queues=0\n",  // no stopped-ns
    ])
    func malformedLinesAreRefused(_ line: String) {
        #expect(throws: HandoverError.self) { try HandoverMessage.parse(Array(line.utf8)) }
    }

    @Test func aTakeFromAnotherQueueSetOrNamespaceIsRefused() {
        let here: (Int32?) -> String? = { $0 == 812 ? "net:[1]" : ($0 == nil ? "net:[1]" : "net:[2]") }
        let take = HandoverMessage(kind: .take, pid: 812, queues: [1, 0])
        #expect(HandoverListener.refusal(of: take, running: [0, 1], namespace: here) == nil)
        let otherQueues = HandoverMessage(kind: .take, pid: 812, queues: [7])
        #expect(HandoverListener.refusal(of: otherQueues, running: [0, 1], namespace: here) != nil)
        let otherNamespace = HandoverMessage(kind: .take, pid: 900, queues: [0, 1])
        #expect(HandoverListener.refusal(of: otherNamespace, running: [0, 1], namespace: here) != nil)
        #expect(HandoverListener.refusal(of: take, running: [0, 1], namespace: { _ in nil }) != nil)
        #expect(CurrentProcess.networkNamespace()?.hasPrefix("net:[") == true)
    }

    @Test func planAdoptsTheConfiguredQueues() {
        let plan = HandoverPlan.make(offered: [0, 1], descriptors: [7, 8], wanted: [0, 1])
        #expect(plan.adopt == [0: 7, 1: 8])
        #expect(plan.close.isEmpty && plan.bind.isEmpty && plan.notes.isEmpty)
    }

    @Test func planClosesUnconfiguredAndBindsMissingQueues() {
        let plan = HandoverPlan.make(offered: [0, 5], descriptors: [7, 8], wanted: [0, 1])
        #expect(plan.adopt == [0: 7])
        #expect(plan.close == [8])
        #expect(plan.bind == [1])
        #expect(plan.notes.count == 2)
    }

    @Test func planAdoptsNothingWhenTheCountsDiffer() {
        let plan = HandoverPlan.make(offered: [0, 1], descriptors: [7], wanted: [0, 1])
        #expect(plan.adopt.isEmpty)
        #expect(plan.close == [7])
        #expect(plan.bind == [0, 1])
    }

    @Test func storedQueuesFromTheEnvironment() {
        let environment = ["LISTEN_PID": "42", "LISTEN_FDS": "3", "LISTEN_FDNAMES": "nfqueue-0:other:nfqueue-2"]
        let stored = StoredQueues.parse(environment: environment, pid: 42)
        #expect(stored == StoredQueues(queues: [0, 2], descriptors: [3, 5], others: [4]))
        #expect(StoredQueues.name(7) == "nfqueue-7")
    }

    @Test func storedQueuesForAnotherProcessAreNotTaken() {
        #expect(StoredQueues.parse(environment: ["LISTEN_PID": "41", "LISTEN_FDS": "1"], pid: 42) == nil)
        #expect(StoredQueues.parse(environment: ["LISTEN_FDS": "1"], pid: 42) == nil)
        #expect(StoredQueues.parse(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "0"], pid: 42) == nil)
    }

    @Test func storedQueuesWithoutNamesAreNotQueues() {
        let stored = StoredQueues.parse(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "2"], pid: 42)
        #expect(stored == StoredQueues(queues: [], descriptors: [], others: [3, 4]))
    }
}
