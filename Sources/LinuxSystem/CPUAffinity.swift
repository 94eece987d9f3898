internal import CLinuxSystem
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// CPU pinning of threads (sched_setaffinity).
public enum CPUAffinity {
    /// Pins the calling thread to one CPU.
    public static func pinCurrentThread(toCPU cpu: Int) throws(ServiceError) {
        guard cpu >= 0 else { throw .syscall("sched_setaffinity(cpu \(cpu))", .invalidArgument) }
        guard clsys_pin_current_thread(UInt32(cpu)) == 0 else {
            throw .syscall("sched_setaffinity(cpu \(cpu))", SystemCall.lastError)
        }
    }
}
