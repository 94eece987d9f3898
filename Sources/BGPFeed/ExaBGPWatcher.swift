import LinuxSystem
import SystemPackage

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// ExaBGP writes acknowledgements to its API process's stdin: the watcher reads and drops them
/// on a thread of its own, and asks the process to stop when ExaBGP closes the pipe (it
/// stopped, or restarts the process).
public enum ExaBGPWatcher {
    /// Starts the watching thread.
    public static func start() {
        SystemThread.start(name: "exabgp-stdin") {
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
    }
}
