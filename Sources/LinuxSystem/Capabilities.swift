internal import CLinuxSystem
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// Every prctl/capget/capset/setuid call of the daemon lives in this file. Linux keeps
// capabilities, the bounding set, no_new_privs and keepcaps per thread: each call here acts
// on the calling thread (setuid/setgid/setgroups excepted: glibc applies those to every
// thread). The caller restricts each thread it already has and starts the rest afterwards.

/// A set of Linux capabilities: bit n is capability number n (`CAP_NET_ADMIN` = 12), the
/// layout of the masks in /proc/PID/status.
public struct CapabilitySet: Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(_ numbers: [Int]) {
        rawValue = numbers.reduce(0) { $0 | (1 << UInt64($1)) }
    }

    public static let none = CapabilitySet(rawValue: 0)
    /// CAP_NET_ADMIN: binding NFQUEUE, SO_RCVBUFFORCE, deleting conntrack entries.
    public static let netAdmin = CapabilitySet([12])

    public func contains(_ number: Int) -> Bool { rawValue & (1 << UInt64(number)) != 0 }
    public func isSuperset(of other: CapabilitySet) -> Bool { rawValue & other.rawValue == other.rawValue }
    public func intersection(_ other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(rawValue: rawValue & other.rawValue)
    }
    public func subtracting(_ other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(rawValue: rawValue & ~other.rawValue)
    }
    public var isEmpty: Bool { rawValue == 0 }

    /// The capability numbers in the set, ascending.
    public var numbers: [Int] { (0..<64).filter { contains($0) } }

    /// The mask as /proc/PID/status prints it: 16 hex digits.
    public var hex: String {
        let digits = String(rawValue, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// "cap_net_admin,cap_net_raw", or "none".
    public var description: String {
        isEmpty ? "none" : numbers.map(Self.name(of:)).joined(separator: ",")
    }

    /// The kernel's name of capability `number` ("cap_net_admin"), or "cap_N" for one newer than this table.
    public static func name(of number: Int) -> String {
        number < names.count ? "cap_" + names[number] : "cap_\(number)"
    }

    /// Capability numbers 0...40 (linux/capability.h, Linux 5.9+).
    private static let names = [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
        "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
        "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
        "checkpoint_restore",
    ]
}

/// A user to run as: from the password database.
public struct UserIdentity: Sendable, Equatable {
    public var name: String
    public var uid: UInt32
    public var gid: UInt32

    public init(name: String, uid: UInt32, gid: UInt32) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }
}

/// The privilege state of the calling thread.
public struct ThreadPrivileges: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var effective: CapabilitySet
    public var permitted: CapabilitySet
    public var inheritable: CapabilitySet
    public var bounding: CapabilitySet
    public var ambient: CapabilitySet
    public var noNewPrivileges: Bool
}

/// Errors of running as a service (privileges, notifications): which call failed and why.
public enum ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    case syscall(String, Errno)
    case unknownUser(String)

    public var description: String {
        switch self {
        case .syscall(let call, let errno): return "\(call) failed: \(errno)"
        case .unknownUser(let name): return "no user named \"\(name)\" in the password database"
        }
    }
}

/// Reading and lowering the privileges of the calling thread.
public enum Privileges {
    /// The highest capability number the kernel knows (probed with PR_CAPBSET_READ).
    public static var lastCapability: Int {
        var number = 40
        while number < 63 && clsys_prctl(PR_CAPBSET_READ, UInt(number + 1), 0) >= 0 { number += 1 }
        while number > 0 && clsys_prctl(PR_CAPBSET_READ, UInt(number), 0) < 0 { number -= 1 }
        return number
    }

    /// The calling thread's ids and capability sets.
    public static func current() throws(ServiceError) -> ThreadPrivileges {
        var effective: UInt64 = 0
        var permitted: UInt64 = 0
        var inheritable: UInt64 = 0
        guard clsys_capget(&effective, &permitted, &inheritable) == 0 else { throw .syscall("capget", Errno(errno)) }
        var bounding = CapabilitySet.none
        var ambient = CapabilitySet.none
        for number in 0...lastCapability {
            if clsys_prctl(PR_CAPBSET_READ, UInt(number), 0) == 1 { bounding.rawValue |= 1 << UInt64(number) }
            if clsys_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_IS_SET), UInt(number)) == 1 {
                ambient.rawValue |= 1 << UInt64(number)
            }
        }
        return ThreadPrivileges(
            uid: geteuid(),
            gid: getegid(),
            effective: CapabilitySet(rawValue: effective),
            permitted: CapabilitySet(rawValue: permitted),
            inheritable: CapabilitySet(rawValue: inheritable),
            bounding: bounding,
            ambient: ambient,
            noNewPrivileges: clsys_prctl(PR_GET_NO_NEW_PRIVS, 0, 0) == 1
        )
    }

    /// Looks `name` up in the password database (getpwnam_r).
    public static func user(named name: String) throws(ServiceError) -> UserIdentity {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0 else { throw .syscall("getpwnam_r(\(name))", Errno(status)) }
        guard result != nil else { throw .unknownUser(name) }
        return UserIdentity(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    /// Lowers the calling thread to `keep`: sets no_new_privs, drops every other capability
    /// from the bounding set (when the thread holds CAP_SETPCAP; otherwise the bounding set
    /// stays as the service manager left it), switches to `user` when given (keeping the
    /// capabilities across the switch with PR_SET_KEEPCAPS; glibc switches every thread),
    /// sets permitted = effective = `keep` ∩ permitted, clears the inheritable and ambient
    /// sets. Returns the state afterwards; `keep` capabilities the thread did not have are
    /// simply absent from it (the caller checks).
    @discardableResult
    public static func restrictCurrentThread(
        to keep: CapabilitySet,
        switchingTo user: UserIdentity? = nil
    ) throws(ServiceError) -> ThreadPrivileges {
        guard clsys_prctl(PR_SET_NO_NEW_PRIVS, 1, 0) == 0 else {
            throw .syscall("prctl(PR_SET_NO_NEW_PRIVS)", Errno(errno))
        }
        let before = try current()
        if before.effective.contains(8) {  // CAP_SETPCAP
            for number in before.bounding.subtracting(keep).numbers {
                guard clsys_prctl(PR_CAPBSET_DROP, UInt(number), 0) == 0 else {
                    throw .syscall("prctl(PR_CAPBSET_DROP, \(CapabilitySet.name(of: number)))", Errno(errno))
                }
            }
        }
        if let user {
            guard clsys_prctl(PR_SET_KEEPCAPS, 1, 0) == 0 else {
                throw .syscall("prctl(PR_SET_KEEPCAPS)", Errno(errno))
            }
            var groups = [gid_t(user.gid)]
            guard setgroups(1, &groups) == 0 else { throw .syscall("setgroups(\(user.gid))", Errno(errno)) }
            guard setgid(user.gid) == 0 else { throw .syscall("setgid(\(user.gid))", Errno(errno)) }
            guard setuid(user.uid) == 0 else { throw .syscall("setuid(\(user.uid))", Errno(errno)) }
            _ = clsys_prctl(PR_SET_KEEPCAPS, 0, 0)
        }
        let permitted = try current().permitted.intersection(keep)
        guard clsys_capset(permitted.rawValue, permitted.rawValue, 0) == 0 else {
            throw .syscall("capset(\(permitted))", Errno(errno))
        }
        guard clsys_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0) == 0 || errno == EINVAL else {
            throw .syscall("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", Errno(errno))
        }
        return try current()
    }
}
