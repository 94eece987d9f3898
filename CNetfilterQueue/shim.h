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
#include <netinet/in.h>  // before the linux/ headers, so libc-compat.h skips their in.h copies
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_conntrack.h>  // ctnetlink message and attribute numbers
#include <linux/netfilter/ipset/ip_set.h>  // ipset commands, attributes and error numbers
#include <linux/netfilter/ipset/ip_set_hash.h>  // IPSET_ERR_HASH_FULL
#include <linux/netfilter/nf_tables.h>  // nf_tables set-element messages and attributes (the nft caches)
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

#endif
