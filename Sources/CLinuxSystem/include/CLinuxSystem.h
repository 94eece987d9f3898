#ifndef CLINUXSYSTEM_H
#define CLINUXSYSTEM_H

// What LinuxSystem needs from libc that Swift cannot import: calls declared only under
// _GNU_SOURCE, variadic calls, and calls without a glibc wrapper. Each says why; remove it
// when the importer or glibc learns the construct.

#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <linux/capability.h>

// sched_setaffinity(2) is declared only under _GNU_SOURCE, which Swift's Glibc module is not
// built with. Pins the calling thread to
// one CPU; returns 0 or -1 with errno. The mask is a plain array of bits, as the kernel takes it.
static inline int clsys_pin_current_thread(unsigned int cpu) {
    unsigned long mask[16] = {0};
    if (cpu >= sizeof(mask) * 8) { errno = EINVAL; return -1; }
    mask[cpu / (8 * sizeof(unsigned long))] |= 1UL << (cpu % (8 * sizeof(unsigned long)));
    return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask);
}

// prctl(2) is variadic, and Swift cannot call variadic C functions. Unused arguments are 0,
// as the kernel requires for the options used here (NO_NEW_PRIVS, KEEPCAPS, CAPBSET_*, CAP_AMBIENT).
static inline int clsys_prctl(int option, unsigned long arg2, unsigned long arg3) {
    return prctl(option, arg2, arg3, 0UL, 0UL);
}

// capget(2)/capset(2) have no glibc wrapper (libcap has one; we do not link it), so they go
// through syscall(2), which is variadic. Version 3 of the ABI: two 32-bit words per set,
// joined here into one 64-bit mask per set. They act on the calling thread only.
static inline int clsys_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    int result = (int)syscall(SYS_capget, &header, data);
    if (result != 0) { return result; }
    *effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
    *permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
    *inheritable = (uint64_t)data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
    return 0;
}
static inline int clsys_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {
        {(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
        {(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
    };
    return (int)syscall(SYS_capset, &header, data);
}

#endif
