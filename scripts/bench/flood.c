/*
 * flood.c: a UDP flooder for scripts/bench.sh. Sends prebuilt Ethernet frames on an
 * AF_PACKET socket with sendmmsg, from many spoofed IPv4 and IPv6 source addresses, to one
 * server address per family, for a fixed time, at a fixed rate or as fast as it can.
 *
 *   flood --iface IF --src-mac MAC --dst-mac MAC --dst4 A --dst6 A --list FILE
 *         [--duration S] [--rate PPS (0 = max)] [--listed-percent 10] [--ipv6-percent 20]
 *         [--frames 8192] [--batch 64] [--seed N] [--clean-sources 4096] [--exclude FILE]
 *         [--print-clean 1]
 *
 * Traffic: a pool of --frames frames, built once and sent round-robin. Each frame is IPv6
 * with probability --ipv6-percent, and its source is a listed exit (taken in turn from the
 * list's addresses of that family) with probability --listed-percent, else an unlisted
 * ("clean") source drawn at random from a fixed set of --clean-sources random unicast
 * addresses per family that are not in the list: a gateway sees a bounded population of
 * clean hosts that send again and again, which is what a kernel accept cache feeds on.
 * --clean-sources 0 draws a fresh random address for every clean frame instead. --exclude FILE
 * (repeatable) names more lists whose addresses are never drawn as clean sources (nor sent as
 * listed ones), e.g. every list a reloading daemon may hold. The class is the marker: UDP destination port 9001 for
 * listed sources, 9000 for unlisted ones (the server counts each with an iptables rule).
 * Frames are 60 bytes (IPv4) and 80 bytes (IPv6) on the wire; all checksums are valid.
 * --print-clean 1 prints the clean sources (one address per line, IPv4 then IPv6; the same
 * for the same --seed, --list, --exclude and --clean-sources) and exits without sending: the
 * bench fills a set with them to price a layout on addresses that are all cached.
 *
 * Prints one line on stdout at the end:
 *   sent=N listed4=N unlisted4=N listed6=N unlisted6=N seconds=S pps=R errors=N cpu_ns=N
 *   voluntary_switches=N involuntary_switches=N
 * (cpu_ns: the flooder's CPU time while sending, kernel included; without IRQ time
 * accounting that includes the softirq work the sends trigger on this CPU: the forwarding
 * path, and for NFQUEUE the enqueue.)
 * Meant to be pinned to one core (taskset); stops on SIGINT/SIGTERM or after --duration.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORT_UNLISTED 9000
#define PORT_LISTED 9001
#define PAYLOAD 18
#define FRAME_MAX 128

enum { UNLISTED4, LISTED4, UNLISTED6, LISTED6, CLASSES };

struct frame {
    unsigned char bytes[FRAME_MAX];
    unsigned len;
    int cls;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* xorshift64*: a seeded RNG, so every run sends the same pool. */
static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static unsigned long long cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (unsigned char)v[i];
    return 0;
}

/* ---------------------------------------------------------------- the list */

static uint32_t *list4;
static unsigned char (*list6)[16];
static size_t n4, n6;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}
static int cmp_16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Addresses never drawn as clean sources: the list's and every --exclude file's. */
static uint32_t *excl4;
static unsigned char (*excl6)[16];
static size_t x4, x6;

static int load_list(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "flood: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t c4 = 1024, c6 = 1024;
    list4 = malloc(c4 * sizeof *list4);
    list6 = malloc(c6 * sizeof *list6);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        p[strcspn(p, " \t\r\n#/")] = 0;
        unsigned char b[16];
        if (!*p)
            continue;
        if (inet_pton(AF_INET, p, b) == 1) {
            if (n4 == c4)
                list4 = realloc(list4, (c4 *= 2) * sizeof *list4);
            memcpy(&list4[n4++], b, 4); /* network order */
        } else if (inet_pton(AF_INET6, p, b) == 1) {
            if (n6 == c6)
                list6 = realloc(list6, (c6 *= 2) * sizeof *list6);
            memcpy(list6[n6++], b, 16);
        }
    }
    fclose(f);
    qsort(list4, n4, sizeof *list4, cmp_u32);
    qsort(list6, n6, sizeof *list6, cmp_16);
    return 0;
}

/* load_exclusions: the list's addresses and those of every --exclude file, sorted. */
static int load_exclusions(const char **paths, int n)
{
    uint32_t *keep4 = list4;
    unsigned char(*keep6)[16] = list6;
    size_t k4 = n4, k6 = n6;
    excl4 = malloc((k4 + 1) * sizeof *excl4);
    excl6 = malloc((k6 + 1) * sizeof *excl6);
    memcpy(excl4, keep4, k4 * sizeof *excl4);
    memcpy(excl6, keep6, k6 * sizeof *excl6);
    x4 = k4, x6 = k6;
    for (int i = 0; i < n; i++) {
        list4 = NULL, list6 = NULL, n4 = 0, n6 = 0;
        if (load_list(paths[i]) < 0)
            return -1;
        excl4 = realloc(excl4, (x4 + n4 + 1) * sizeof *excl4);
        excl6 = realloc(excl6, (x6 + n6 + 1) * sizeof *excl6);
        memcpy(excl4 + x4, list4, n4 * sizeof *excl4);
        memcpy(excl6 + x6, list6, n6 * sizeof *excl6);
        x4 += n4, x6 += n6;
        free(list4);
        free(list6);
    }
    list4 = keep4, list6 = keep6, n4 = k4, n6 = k6;
    qsort(excl4, x4, sizeof *excl4, cmp_u32);
    qsort(excl6, x6, sizeof *excl6, cmp_16);
    return 0;
}

static int listed4(uint32_t a)
{
    return bsearch(&a, excl4, x4, sizeof *excl4, cmp_u32) != NULL;
}
static int listed6(const unsigned char a[16])
{
    return bsearch(a, excl6, x6, sizeof *excl6, cmp_16) != NULL;
}

/* A random IPv4 unicast source the gateway forwards: not 0/8, 10/8 is fine, not 127/8,
 * not 169.254/16, not the lab's documentation ranges, not multicast or class E, not listed. */
static uint32_t random_v4(void)
{
    for (;;) {
        uint32_t a = (uint32_t)rng();
        unsigned b0 = a >> 24, b1 = (a >> 16) & 0xff, b2 = (a >> 8) & 0xff;
        if (b0 == 0 || b0 == 127 || b0 >= 224 || (b0 == 169 && b1 == 254))
            continue;
        if ((b0 == 192 && b1 == 0 && b2 == 2) || (b0 == 198 && b1 == 51 && b2 == 100) ||
            (b0 == 203 && b1 == 0 && b2 == 113))
            continue;
        if ((a & 0xff) == 0 || (a & 0xff) == 255)
            continue;
        uint32_t n = htonl(a);
        if (!listed4(n))
            return n;
    }
}

/* A random global unicast IPv6 source (2000::/3), not 2001:db8::/32, not listed. */
static void random_v6(unsigned char out[16])
{
    for (;;) {
        uint64_t h = rng(), l = rng();
        for (int i = 0; i < 8; i++) {
            out[i] = (unsigned char)(h >> (56 - 8 * i));
            out[8 + i] = (unsigned char)(l >> (56 - 8 * i));
        }
        out[0] = (unsigned char)(0x20 | (out[0] & 0x1f));
        if (out[0] == 0x20 && out[1] == 0x01 && out[2] == 0x0d && out[3] == 0xb8)
            continue;
        if (!listed6(out))
            return;
    }
}

/* The bounded population of clean sources (--clean-sources), built once per family. */
static uint32_t *clean4;
static unsigned char (*clean6)[16];
static long nclean;

static int build_clean_pool(long n)
{
    nclean = n;
    if (n == 0)
        return 0;
    clean4 = malloc((size_t)n * sizeof *clean4);
    clean6 = malloc((size_t)n * sizeof *clean6);
    if (!clean4 || !clean6)
        return -1;
    for (long i = 0; i < n; i++) {
        clean4[i] = random_v4();
        random_v6(clean6[i]);
    }
    return 0;
}

static uint32_t clean_v4(void)
{
    return nclean ? clean4[rng() % (uint64_t)nclean] : random_v4();
}

static void clean_v6(unsigned char out[16])
{
    if (nclean)
        memcpy(out, clean6[rng() % (uint64_t)nclean], 16);
    else
        random_v6(out);
}

/* ---------------------------------------------------------------- frames */

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
    const unsigned char *p = data;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void build_udp(unsigned char *udp, uint16_t sport, uint16_t dport, uint32_t index)
{
    struct udphdr *u = (struct udphdr *)udp;
    u->source = htons(sport);
    u->dest = htons(dport);
    u->len = htons(8 + PAYLOAD);
    u->check = 0;
    unsigned char *payload = udp + 8;
    memset(payload, 0, PAYLOAD);
    memcpy(payload, "exitblock-bench", 15);
    payload[15] = (unsigned char)(dport == PORT_LISTED);
    payload[16] = (unsigned char)(index >> 8);
    payload[17] = (unsigned char)index;
}

static void build_v4(struct frame *f, const unsigned char smac[6], const unsigned char dmac[6], uint32_t src,
                     uint32_t dst, int listed, uint32_t index)
{
    unsigned char *b = f->bytes;
    memcpy(b, dmac, 6);
    memcpy(b + 6, smac, 6);
    b[12] = 0x08, b[13] = 0x00;
    struct iphdr *ip = (struct iphdr *)(b + 14);
    memset(ip, 0, sizeof *ip);
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(20 + 8 + PAYLOAD);
    ip->id = htons((uint16_t)index);
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->saddr = src;
    ip->daddr = dst;
    ip->check = htons(fold(sum16(ip, 20, 0)));
    unsigned char *udp = b + 14 + 20;
    build_udp(udp, (uint16_t)(1024 + index % 60000), listed ? PORT_LISTED : PORT_UNLISTED, index);
    uint32_t s = sum16(&ip->saddr, 8, 0) + IPPROTO_UDP + 8 + PAYLOAD;
    uint16_t c = fold(sum16(udp, 8 + PAYLOAD, s));
    ((struct udphdr *)udp)->check = htons(c ? c : 0xffff);
    f->len = 14 + 20 + 8 + PAYLOAD; /* 60 */
    f->cls = listed ? LISTED4 : UNLISTED4;
}

static void build_v6(struct frame *f, const unsigned char smac[6], const unsigned char dmac[6],
                     const unsigned char src[16], const unsigned char dst[16], int listed, uint32_t index)
{
    unsigned char *b = f->bytes;
    memcpy(b, dmac, 6);
    memcpy(b + 6, smac, 6);
    b[12] = 0x86, b[13] = 0xdd;
    struct ip6_hdr *ip = (struct ip6_hdr *)(b + 14);
    memset(ip, 0, sizeof *ip);
    ip->ip6_flow = htonl(6u << 28);
    ip->ip6_plen = htons(8 + PAYLOAD);
    ip->ip6_nxt = IPPROTO_UDP;
    ip->ip6_hlim = 64;
    memcpy(&ip->ip6_src, src, 16);
    memcpy(&ip->ip6_dst, dst, 16);
    unsigned char *udp = b + 14 + 40;
    build_udp(udp, (uint16_t)(1024 + index % 60000), listed ? PORT_LISTED : PORT_UNLISTED, index);
    uint32_t s = sum16(&ip->ip6_src, 32, 0) + IPPROTO_UDP + 8 + PAYLOAD;
    uint16_t c = fold(sum16(udp, 8 + PAYLOAD, s));
    ((struct udphdr *)udp)->check = htons(c ? c : 0xffff);
    f->len = 14 + 40 + 8 + PAYLOAD; /* 80 */
    f->cls = listed ? LISTED6 : UNLISTED6;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: flood --iface IF --src-mac MAC --dst-mac MAC --dst4 A --dst6 A --list FILE "
                    "[--duration S] [--rate PPS] [--listed-percent P] [--ipv6-percent P] [--frames N] "
                    "[--batch N] [--seed N] [--clean-sources N] [--exclude FILE]... [--print-clean 1]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *iface = NULL, *smac_s = NULL, *dmac_s = NULL, *dst4_s = NULL, *dst6_s = NULL, *list = NULL;
    double duration = 5, rate = 0, listed_pct = 10, v6_pct = 20;
    long frames = 8192, batch = 64, clean_sources = 4096;
    unsigned long long seed = 1;
    int print_clean = 0;
    const char *excludes[16];
    int nexcludes = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--iface"))
            iface = v;
        else if (!strcmp(k, "--src-mac"))
            smac_s = v;
        else if (!strcmp(k, "--dst-mac"))
            dmac_s = v;
        else if (!strcmp(k, "--dst4"))
            dst4_s = v;
        else if (!strcmp(k, "--dst6"))
            dst6_s = v;
        else if (!strcmp(k, "--list"))
            list = v;
        else if (!strcmp(k, "--duration"))
            duration = atof(v);
        else if (!strcmp(k, "--rate"))
            rate = atof(v);
        else if (!strcmp(k, "--listed-percent"))
            listed_pct = atof(v);
        else if (!strcmp(k, "--ipv6-percent"))
            v6_pct = atof(v);
        else if (!strcmp(k, "--frames"))
            frames = atol(v);
        else if (!strcmp(k, "--batch"))
            batch = atol(v);
        else if (!strcmp(k, "--clean-sources"))
            clean_sources = atol(v);
        else if (!strcmp(k, "--exclude") && nexcludes < 16)
            excludes[nexcludes++] = v;
        else if (!strcmp(k, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--print-clean"))
            print_clean = atoi(v);
        else
            usage();
    }
    unsigned char smac[6], dmac[6], dst4[4], dst6[16];
    if (!iface || !smac_s || !dmac_s || !dst4_s || !dst6_s || !list || parse_mac(smac_s, smac) ||
        parse_mac(dmac_s, dmac) || inet_pton(AF_INET, dst4_s, dst4) != 1 || inet_pton(AF_INET6, dst6_s, dst6) != 1 ||
        frames < 1 || batch < 1 || batch > 1024 || duration <= 0 || clean_sources < 0)
        usage();
    if (load_list(list) < 0 || load_exclusions(excludes, nexcludes) < 0)
        return 1;
    if ((listed_pct > 0 && v6_pct < 100 && n4 == 0) || (listed_pct > 0 && v6_pct > 0 && n6 == 0)) {
        fprintf(stderr, "flood: %s lacks listed addresses of a family the mix asks for\n", list);
        return 1;
    }

    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    if (build_clean_pool(clean_sources) < 0) {
        fprintf(stderr, "flood: out of memory\n");
        return 1;
    }
    if (print_clean) {
        char text[INET6_ADDRSTRLEN];
        for (long i = 0; i < nclean; i++)
            printf("%s\n", inet_ntop(AF_INET, &clean4[i], text, sizeof text));
        for (long i = 0; i < nclean; i++)
            printf("%s\n", inet_ntop(AF_INET6, clean6[i], text, sizeof text));
        return 0;
    }
    struct frame *pool = calloc((size_t)frames, sizeof *pool);
    uint32_t d4;
    memcpy(&d4, dst4, 4);
    size_t next4 = 0, next6 = 0;
    long per_class[CLASSES] = {0};
    for (long i = 0; i < frames; i++) {
        int v6 = (double)(rng() % 1000000) < v6_pct * 10000;
        int listed = (double)(rng() % 1000000) < listed_pct * 10000;
        if (v6) {
            unsigned char src[16];
            if (listed)
                memcpy(src, list6[next6++ % n6], 16);
            else
                clean_v6(src);
            build_v6(&pool[i], smac, dmac, src, dst6, listed, (uint32_t)i);
        } else {
            uint32_t src = listed ? list4[next4++ % n4] : clean_v4();
            build_v4(&pool[i], smac, dmac, src, d4, listed, (uint32_t)i);
        }
        per_class[pool[i].cls]++;
    }

    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, never receive */
    if (fd < 0) {
        perror("flood: AF_PACKET socket");
        return 1;
    }
    struct sockaddr_ll sll = {0};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = (int)if_nametoindex(iface);
    if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "flood: bind %s: %s\n", iface, strerror(errno));
        return 1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
        perror("flood: PACKET_QDISC_BYPASS (continuing)");
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);

    /* One mmsghdr per pool frame, so a batch is a window of the pool (no per-send setup). */
    struct iovec *iov = calloc((size_t)frames, sizeof *iov);
    struct mmsghdr *msgs = calloc((size_t)frames, sizeof *msgs);
    for (long i = 0; i < frames; i++) {
        iov[i].iov_base = pool[i].bytes;
        iov[i].iov_len = pool[i].len;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    unsigned long long sent[CLASSES] = {0}, total = 0, errors = 0;
    long pos = 0;
    unsigned long long cpu_start = cpu_ns();
    double start = now(), end = start + duration;
    double interval = rate > 0 ? (double)batch / rate : 0;
    double next_send = start;
    unsigned iter = 0;
    while (!stop) {
        if (rate > 0) {
            double t = now();
            if (t >= end)
                break;
            if (t < next_send) {
                struct timespec ts;
                double wait = next_send - t;
                ts.tv_sec = (time_t)wait;
                ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
                nanosleep(&ts, NULL);
                continue;
            }
            next_send += interval;
            if (next_send < t - 0.1)
                next_send = t; /* far behind (descheduled): do not burst to catch up */
        } else if ((++iter & 15) == 0 && now() >= end) {
            break;
        }
        long want = batch;
        if (pos + want > frames)
            want = frames - pos;
        int n = sendmmsg(fd, &msgs[pos], (unsigned)want, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            errors++;
            if (errno != ENOBUFS && errno != EAGAIN) {
                perror("flood: sendmmsg");
                break;
            }
            continue;
        }
        for (int i = 0; i < n; i++)
            sent[pool[pos + i].cls]++;
        total += (unsigned long long)n;
        pos += n;
        if (pos >= frames)
            pos = 0;
    }
    double seconds = now() - start;
    unsigned long long cpu = cpu_ns() - cpu_start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("sent=%llu listed4=%llu unlisted4=%llu listed6=%llu unlisted6=%llu seconds=%.3f pps=%.0f errors=%llu "
           "cpu_ns=%llu voluntary_switches=%ld involuntary_switches=%ld\n",
           total, sent[LISTED4], sent[UNLISTED4], sent[LISTED6], sent[UNLISTED6], seconds, (double)total / seconds,
           errors, cpu, ru.ru_nvcsw, ru.ru_nivcsw);
    fprintf(stderr,
            "flood: pool %ld frames: %ld listed4 %ld unlisted4 %ld listed6 %ld unlisted6; list %zu+%zu; "
            "clean sources %ld per family\n",
            frames, per_class[LISTED4], per_class[UNLISTED4], per_class[LISTED6], per_class[UNLISTED6], n4, n6, nclean);
    return 0;
}
