#ifndef CNETFILTERQUEUE_SHIM_H
#define CNETFILTERQUEUE_SHIM_H

// Everything Swift needs from libmnl, libnetfilter_queue and the kernel's netlink UAPI.
// Shims below exist only for what Swift cannot import: function-like macros and
// macro-computed constants. Each says why; remove it when the importer learns the construct.

#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <linux/capability.h>
#include <netinet/in.h>  // before the linux/ headers, so libc-compat.h skips their in.h copies
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_conntrack.h>  // ctnetlink message and attribute numbers
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

// MNL_SOCKET_BUFFER_SIZE expands to a sysconf() expression; Swift imports only literal macros.
static inline size_t cnfq_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

// NLMSG_ALIGN is a function-like macro.
static inline uint32_t cnfq_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }

// recvmmsg(2) and struct mmsghdr are declared only under _GNU_SOURCE, which Swift's Glibc
// module is not built with. The struct is kernel ABI (stable), so we restate it and reach
// the call through syscall(2), which sets errno like the libc wrapper does.
struct cnfq_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
static inline int cnfq_recvmmsg(int fd, struct cnfq_mmsghdr *vec, unsigned int vlen, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, (void *)0);
}

// sched_setaffinity(2) is declared only under _GNU_SOURCE too. Pins the calling thread to
// one CPU; returns 0 or -1 with errno. The mask is a plain array of bits, as the kernel takes it.
static inline int cnfq_pin_current_thread(unsigned int cpu) {
    unsigned long mask[16] = {0};
    if (cpu >= sizeof(mask) * 8) { errno = EINVAL; return -1; }
    mask[cpu / (8 * sizeof(unsigned long))] |= 1UL << (cpu % (8 * sizeof(unsigned long)));
    return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask);
}

// prctl(2) is variadic, and Swift cannot call variadic C functions. Unused arguments are 0,
// as the kernel requires for the options used here (NO_NEW_PRIVS, KEEPCAPS, CAPBSET_*, CAP_AMBIENT).
static inline int cnfq_prctl(int option, unsigned long arg2, unsigned long arg3) {
    return prctl(option, arg2, arg3, 0UL, 0UL);
}

// capget(2)/capset(2) have no glibc wrapper (libcap has one; we do not link it), so they go
// through syscall(2), which is variadic. Version 3 of the ABI: two 32-bit words per set,
// joined here into one 64-bit mask per set. They act on the calling thread only.
static inline int cnfq_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    int result = (int)syscall(SYS_capget, &header, data);
    if (result != 0) { return result; }
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}
static inline int cnfq_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {
        {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
        {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
    };
    return (int)syscall(SYS_capset, &header, data);
}

#endif
