import Foundation
import LinuxSystem
import SystemPackage

/// ExaBGP writes acknowledgements to its API process's stdin: the watcher reads and drops them
/// on a thread of its own, and asks the process to stop when ExaBGP closes the pipe (it
/// stopped, or restarts the process).
public enum ExaBGPWatcher {
    /// Starts the watching thread.
    public static func start() {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                // swift-system retries EINTR; an error or the end of input ends the loop.
                let count =
                    (try? buffer.withUnsafeMutableBytes { try FileDescriptor.standardInput.read(into: $0) }) ?? 0
                if count <= 0 { break }
            }
            Output.message("stdin closed (ExaBGP went away): stopping")
            CurrentProcess.requestTermination()
        }
        thread.name = "exabgp-stdin"
        thread.start()
    }
}
