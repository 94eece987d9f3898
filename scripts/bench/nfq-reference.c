/*
 * nfq-reference.c: the best plain-C NFQUEUE verdict loop we know how to write, as the
 * yardstick for exitblock in scripts/bench.sh. Same job as `exitblock run`: DROP packets
 * whose source address is in a list, ACCEPT the rest.
 *
 *   nfq-reference --queue N --list FILE [--burst 64] [--copy-range 64]
 *                 [--queue-max-length 4096] [--receive-buffer BYTES]
 *
 * What makes it fast (the same rules as DESIGN.md, "Hot loop rules"):
 *   - libmnl socket, NETLINK_NO_ENOBUFS, SO_RCVBUFFORCE, copy range 64, NFQA_CFG_F_GSO;
 *   - recvmmsg bursts (MSG_WAITFORONE): block for the first datagram, take what is there;
 *   - the source address is read straight out of the payload attribute, no copies;
 *   - open-addressing hash sets (multiplicative hashing, load <= 0.5, linear probing) for
 *     the IPv4 and IPv6 hosts of the list, the same idea as ExitSet;
 *   - one NFQNL_MSG_VERDICT_BATCH per run of equal verdicts (a batch verdict covers every
 *     queued id up to the one given, and ids arrive in order), all of a burst's verdict
 *     messages sent with one send();
 *   - nothing allocated after start-up.
 *
 * The list is a plain file: one address per line (IPv4 or IPv6, optional /32 or /128),
 * '#' comments. Prefixes shorter than a host are refused: the benchmark lists are hosts.
 *
 * Prints "ready" on stderr once bound; on SIGTERM or SIGINT answers what it holds and prints
 * "total packets=N dropped=N accepted=N ipv4=N ipv6=N unparsable=N bursts=N" on stdout.
 * Build: gcc -O2 -o nfq-reference nfq-reference.c -lnetfilter_queue -lmnl
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_BURST 1024
#define SLOT_SIZE 2048 /* one packet message: ~100 bytes of attributes + copy range */

/* ---------------------------------------------------------------- the exit set */

struct v6key {
    uint64_t high, low;
};

struct exit_set {
    uint32_t *v4;     /* 0 = empty slot; 0.0.0.0 itself is kept in has_v4_zero */
    uint32_t v4_mask; /* capacity - 1 */
    int v4_shift;     /* 32 - log2(capacity) */
    int has_v4_zero;
    struct v6key *v6; /* {0,0} = empty slot; :: is never a source worth listing */
    uint64_t v6_mask;
    int v6_shift;
    size_t v4_count, v6_count;
};

static inline uint32_t hash_v4(uint32_t key, int shift)
{
    return (uint32_t)(key * 0x9E3779B1u) >> shift;
}

static inline uint64_t hash_v6(uint64_t high, uint64_t low, int shift)
{
    return ((high ^ (low * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull) >> shift;
}

static inline int set_contains_v4(const struct exit_set *s, uint32_t key)
{
    if (key == 0)
        return s->has_v4_zero;
    for (uint32_t i = hash_v4(key, s->v4_shift);; i = (i + 1) & s->v4_mask) {
        uint32_t slot = s->v4[i];
        if (slot == key)
            return 1;
        if (slot == 0)
            return 0;
    }
}

static inline int set_contains_v6(const struct exit_set *s, uint64_t high, uint64_t low)
{
    for (uint64_t i = hash_v6(high, low, s->v6_shift);; i = (i + 1) & s->v6_mask) {
        const struct v6key *slot = &s->v6[i];
        if (slot->high == high && slot->low == low)
            return 1;
        if (slot->high == 0 && slot->low == 0)
            return 0;
    }
}

/* Capacity: a power of two at least twice the count, at least 16. */
static int table_bits(size_t count)
{
    int bits = 4;
    while (((size_t)1 << bits) < count * 2)
        bits++;
    return bits;
}

static uint64_t load_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int load_list(const char *path, struct exit_set *s)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "nfq-reference: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap4 = 1024, cap6 = 1024, n4 = 0, n6 = 0;
    uint32_t *keys4 = malloc(cap4 * sizeof *keys4);
    struct v6key *keys6 = malloc(cap6 * sizeof *keys6);
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        char *end = p + strcspn(p, " \t\r\n#");
        if (end == p)
            continue;
        *end = 0;
        char *slash = strchr(p, '/');
        long length = -1;
        if (slash) {
            *slash = 0;
            length = strtol(slash + 1, NULL, 10);
        }
        unsigned char bytes[16];
        if (inet_pton(AF_INET, p, bytes) == 1 && (length < 0 || length == 32)) {
            if (n4 == cap4)
                keys4 = realloc(keys4, (cap4 *= 2) * sizeof *keys4);
            keys4[n4++] = ((uint32_t)bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
        } else if (inet_pton(AF_INET6, p, bytes) == 1 && (length < 0 || length == 128)) {
            if (n6 == cap6)
                keys6 = realloc(keys6, (cap6 *= 2) * sizeof *keys6);
            keys6[n6].high = load_be64(bytes);
            keys6[n6].low = load_be64(bytes + 8);
            n6++;
        } else {
            fprintf(stderr, "nfq-reference: %s:%d: not a host address: %s\n", path, lineno, p);
            fclose(f);
            return -1;
        }
    }
    fclose(f);

    int bits4 = table_bits(n4), bits6 = table_bits(n6);
    s->v4 = calloc((size_t)1 << bits4, sizeof *s->v4);
    s->v4_mask = (1u << bits4) - 1;
    s->v4_shift = 32 - bits4;
    s->v6 = calloc((size_t)1 << bits6, sizeof *s->v6);
    s->v6_mask = ((uint64_t)1 << bits6) - 1;
    s->v6_shift = 64 - bits6;
    for (size_t i = 0; i < n4; i++) {
        uint32_t k = keys4[i];
        if (k == 0) {
            s->has_v4_zero = 1;
            continue;
        }
        uint32_t j = hash_v4(k, s->v4_shift);
        while (s->v4[j] != 0 && s->v4[j] != k)
            j = (j + 1) & s->v4_mask;
        if (s->v4[j] == 0)
            s->v4_count++;
        s->v4[j] = k;
    }
    for (size_t i = 0; i < n6; i++) {
        struct v6key k = keys6[i];
        if (k.high == 0 && k.low == 0)
            continue;
        uint64_t j = hash_v6(k.high, k.low, s->v6_shift);
        while ((s->v6[j].high | s->v6[j].low) != 0 && (s->v6[j].high != k.high || s->v6[j].low != k.low))
            j = (j + 1) & s->v6_mask;
        if ((s->v6[j].high | s->v6[j].low) == 0)
            s->v6_count++;
        s->v6[j] = k;
    }
    free(keys4);
    free(keys6);
    return 0;
}

/* ---------------------------------------------------------------- netlink setup */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Sends one configuration message and waits for its acknowledgement. */
static int config_request(struct mnl_socket *nl, struct nlmsghdr *nlh, const char *what)
{
    static char buf[8192];
    unsigned int portid = mnl_socket_get_portid(nl);
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = (unsigned int)rand();
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        fprintf(stderr, "nfq-reference: %s: send: %s\n", what, strerror(errno));
        return -1;
    }
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            fprintf(stderr, "nfq-reference: %s: recv: %s\n", what, strerror(errno));
            return -1;
        }
        int rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
        if (rc == MNL_CB_ERROR) {
            fprintf(stderr, "nfq-reference: %s: %s\n", what, strerror(errno));
            return -1;
        }
        if (rc == MNL_CB_STOP)
            return 0;
        /* MNL_CB_OK: packets may already be arriving; they are left for the loop's batch
         * verdicts to answer (a batch covers every earlier id). */
    }
}

static int bind_queue(struct mnl_socket *nl, uint16_t queue, int copy_range, uint32_t max_length)
{
    static char buf[8192];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (config_request(nl, nlh, "bind queue") < 0)
        return -1;

    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, copy_range);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, max_length);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
    return config_request(nl, nlh, "configure queue");
}

/* ---------------------------------------------------------------- the loop */

struct counters {
    uint64_t packets, dropped, ipv4, ipv6, unparsable, bursts, send_errors;
};

/* The packet's verdict from its payload (the IP header, network order). */
static inline int decide(const struct exit_set *set, const unsigned char *ip, size_t len, struct counters *c)
{
    if (len >= 20 && (ip[0] >> 4) == 4) {
        c->ipv4++;
        uint32_t src;
        memcpy(&src, ip + 12, 4);
        return set_contains_v4(set, ntohl(src)) ? NF_DROP : NF_ACCEPT;
    }
    if (len >= 40 && (ip[0] >> 4) == 6) {
        c->ipv6++;
        uint64_t high, low;
        memcpy(&high, ip + 8, 8);
        memcpy(&low, ip + 16, 8);
        return set_contains_v6(set, be64toh(high), be64toh(low)) ? NF_DROP : NF_ACCEPT;
    }
    c->unparsable++;
    return NF_ACCEPT;
}

/* Appends one NFQNL_MSG_VERDICT_BATCH for every queued id up to `id`. */
static inline char *put_batch(char *out, uint16_t queue, uint32_t id, int verdict)
{
    struct nlmsghdr *nlh = nfq_nlmsg_put(out, NFQNL_MSG_VERDICT_BATCH, queue);
    nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
    return out + NLMSG_ALIGN(nlh->nlmsg_len);
}

static void usage(void)
{
    fprintf(stderr, "usage: nfq-reference --queue N --list FILE [--burst 64] [--copy-range 64] "
                    "[--queue-max-length 4096] [--receive-buffer BYTES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long queue = -1, burst = 64, copy_range = 64, max_length = 4096, rcvbuf = 8 << 20;
    const char *list = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--queue"))
            queue = atol(argv[++i]);
        else if (!strcmp(argv[i], "--list"))
            list = argv[++i];
        else if (!strcmp(argv[i], "--burst"))
            burst = atol(argv[++i]);
        else if (!strcmp(argv[i], "--copy-range"))
            copy_range = atol(argv[++i]);
        else if (!strcmp(argv[i], "--queue-max-length"))
            max_length = atol(argv[++i]);
        else if (!strcmp(argv[i], "--receive-buffer"))
            rcvbuf = atol(argv[++i]);
        else
            usage();
    }
    if (queue < 0 || queue > 65535 || !list || burst < 1 || burst > MAX_BURST || copy_range < 40)
        usage();

    struct exit_set set = {0};
    if (load_list(list, &set) < 0)
        return 1;

    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        perror("nfq-reference: netlink socket");
        return 1;
    }
    int fd = mnl_socket_get_fd(nl);
    int one = 1, size = (int)rcvbuf;
    if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one) < 0)
        perror("nfq-reference: NETLINK_NO_ENOBUFS");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
        perror("nfq-reference: SO_RCVBUFFORCE");
    if (bind_queue(nl, (uint16_t)queue, (int)copy_range, (uint32_t)max_length) < 0)
        return 1;

    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    /* Receive side: one slot per datagram. Send side: at most one verdict message per packet. */
    static char slots[MAX_BURST][SLOT_SIZE];
    static struct iovec iov[MAX_BURST];
    static struct mmsghdr msgs[MAX_BURST];
    static char out[MAX_BURST * 64];
    for (long i = 0; i < burst; i++) {
        iov[i].iov_base = slots[i];
        iov[i].iov_len = SLOT_SIZE;
    }

    fprintf(stderr, "ready: queue %ld, %zu IPv4 + %zu IPv6 entries\n", queue, set.v4_count, set.v6_count);
    struct counters c = {0};
    uint16_t q = (uint16_t)queue;
    int draining = 0;
    for (;;) {
        if (stop && !draining)
            draining = 1; /* answer what the socket still holds, then leave */
        for (long i = 0; i < burst; i++) {
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, (unsigned int)burst, draining ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (draining && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (errno == ENOBUFS)
                continue;
            perror("nfq-reference: recvmmsg");
            break;
        }
        if (n == 0)
            continue;
        c.bursts++;

        char *o = out;
        int run_verdict = -1;
        uint32_t run_id = 0;
        for (int i = 0; i < n; i++) {
            const char *buf = slots[i];
            int len = (int)msgs[i].msg_len;
            for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
                 nlh = mnl_nlmsg_next(nlh, &len)) {
                if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
                    continue; /* errors for verdicts (none asked for) and other noise */
                const struct nfqnl_msg_packet_hdr *ph = NULL;
                const unsigned char *payload = NULL;
                size_t payload_len = 0;
                const struct nlattr *attr;
                mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg))
                {
                    uint16_t type = mnl_attr_get_type(attr);
                    if (type == NFQA_PACKET_HDR && mnl_attr_get_payload_len(attr) >= sizeof *ph)
                        ph = mnl_attr_get_payload(attr);
                    else if (type == NFQA_PAYLOAD) {
                        payload = mnl_attr_get_payload(attr);
                        payload_len = mnl_attr_get_payload_len(attr);
                    }
                }
                if (!ph)
                    continue;
                uint32_t id = ntohl(ph->packet_id);
                int verdict = payload ? decide(&set, payload, payload_len, &c) : (c.unparsable++, NF_ACCEPT);
                c.packets++;
                c.dropped += verdict == NF_DROP;
                if (verdict != run_verdict && run_verdict >= 0)
                    o = put_batch(o, q, run_id, run_verdict);
                run_verdict = verdict;
                run_id = id;
            }
        }
        if (run_verdict >= 0) {
            o = put_batch(o, q, run_id, run_verdict);
            if (send(fd, out, (size_t)(o - out), 0) < 0)
                c.send_errors++;
        }
    }
    mnl_socket_close(nl);
    printf("total packets=%llu dropped=%llu accepted=%llu ipv4=%llu ipv6=%llu unparsable=%llu bursts=%llu "
           "send_errors=%llu\n",
           (unsigned long long)c.packets, (unsigned long long)c.dropped,
           (unsigned long long)(c.packets - c.dropped), (unsigned long long)c.ipv4, (unsigned long long)c.ipv6,
           (unsigned long long)c.unparsable, (unsigned long long)c.bursts, (unsigned long long)c.send_errors);
    fflush(stdout);
    return 0;
}
