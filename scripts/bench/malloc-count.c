/*
 * malloc-count.c: an LD_PRELOAD shim that counts heap allocations, for scripts/bench.sh
 * ("does the steady-state loop allocate?"). It forwards to glibc's __libc_* allocator entry
 * points (so no dlsym, which itself may allocate) and keeps its counters in a file that
 * it maps shared, so the benchmark reads them at any moment without signalling the process:
 *
 *   MALLOC_COUNT_FILE=/tmp/x LD_PRELOAD=./malloc-count.so program ...
 *   od -An -v -t u8 /tmp/x
 *
 * File layout, little-endian uint64 words:
 *   [0] malloc  [1] calloc  [2] realloc  [3] posix_memalign/aligned_alloc/memalign/valloc
 *   [4] free    [5..7] reserved
 *   [8 + 2k] thread id, [9 + 2k] allocations made by that thread, for k < 64 threads.
 *
 * Build: gcc -O2 -shared -fPIC -o malloc-count.so malloc-count.c
 * Cost: one gettid() per thread (cached), two atomic adds per call. For diagnosis only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define WORDS (8 + 2 * 64)
enum { C_MALLOC, C_CALLOC, C_REALLOC, C_MEMALIGN, C_FREE };

/* Counts land here until the file is mapped (the dynamic loader allocates early). */
static uint64_t early[WORDS];
static uint64_t *counters = early;
static __thread uint64_t *thread_slot;

static uint64_t *slot_for_this_thread(void)
{
    uint64_t tid = (uint64_t)syscall(SYS_gettid);
    for (int k = 0; k < 64; k++) {
        uint64_t *t = &counters[8 + 2 * k];
        uint64_t expected = 0;
        if (__atomic_load_n(t, __ATOMIC_RELAXED) == tid ||
            __atomic_compare_exchange_n(t, &expected, tid, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return t + 1;
    }
    return &counters[5]; /* more than 64 threads: counted in a reserved word */
}

static inline void count(int which)
{
    __atomic_fetch_add(&counters[which], 1, __ATOMIC_RELAXED);
    if (which == C_FREE)
        return;
    if (counters == early)
        return;
    if (!thread_slot)
        thread_slot = slot_for_this_thread();
    __atomic_fetch_add(thread_slot, 1, __ATOMIC_RELAXED);
}

__attribute__((constructor(101))) static void map_counters(void)
{
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (ftruncate(fd, WORDS * sizeof(uint64_t)) == 0) {
        void *p = mmap(NULL, WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            memcpy(p, early, sizeof early);
            counters = p;
        }
    }
    close(fd);
}

void *malloc(size_t n)
{
    count(C_MALLOC);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    count(C_CALLOC);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    count(C_REALLOC);
    return __libc_realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

void free(void *p)
{
    if (p)
        count(C_FREE);
    __libc_free(p);
}

void *memalign(size_t alignment, size_t n)
{
    count(C_MEMALIGN);
    return __libc_memalign(alignment, n);
}

void *aligned_alloc(size_t alignment, size_t n)
{
    return memalign(alignment, n);
}

int posix_memalign(void **out, size_t alignment, size_t n)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)))
        return EINVAL;
    void *p = memalign(alignment, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}
