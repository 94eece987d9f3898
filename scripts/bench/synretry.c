/*
 * synretry.c: the SYN retransmission profile of scripts/bench.sh. Real TCP connects through
 * the gateway, made by the kernel's own TCP stack, so the SYNs and their retransmissions
 * follow the kernel's schedule (1 s, then 2 s, 4 s, ... apart: tcp_syn_retries, RFC 6298).
 *
 *   synretry --dst4 A --dst6 A --listed FILE --clean ADDR[,ADDR...] [--listed-port 9101]
 *            [--clean-port 9100] [--duration 8] [--clean-interval-ms 50]
 *
 * Listed: one non-blocking connect() to DST:listed-port from each address of FILE (one a
 * line, IPv4 or IPv6; each must be a local address of this namespace: the client holds the
 * listed exits' addresses), started together at time 0 and left alone: a gateway that drops
 * them makes the kernel retransmit each SYN until --duration ends, when every socket is
 * read (TCP_INFO: SYNs sent = 1 + retransmissions) and closed (a socket in SYN-SENT closes
 * without sending anything).
 * Clean: meanwhile every --clean-interval-ms, one connect() to DST:clean-port from each
 * clean address, closed with an RST (SO_LINGER 0) once established. A clean connect counts
 * as failed when it is refused, errs, or is not established within 900 ms, before the
 * kernel's first SYN retransmission: a clean SYN the gateway lost is a failure, not a delay.
 *
 * Prints one line on stdout:
 *   listed=N listed_syns=N listed_established=N listed_errors=N clean=N clean_ok=N
 *   clean_failed=N seconds=S
 * (listed_established / listed_errors: listed connects that got any answer, a SYN-ACK or an
 * RST / ICMP error; both must be 0 behind a gateway that drops listed sources.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTED 65536
#define MAX_CLEAN 64
#define MAX_INFLIGHT 4096
#define CLEAN_DEADLINE 0.9 /* seconds: before the first SYN retransmission (1 s) */

struct inflight {
    int fd;
    double started;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* parse_addr: ADDR into *ss with PORT; the length, or 0 if ADDR is no address. */
static socklen_t parse_addr(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        return sizeof *a4;
    }
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return sizeof *a6;
    }
    return 0;
}

/* start_connect: a non-blocking socket bound to SRC, connecting to DST; the descriptor, or -1. */
static int start_connect(const struct sockaddr_storage *src, socklen_t src_len, const struct sockaddr_storage *dst,
                         socklen_t dst_len)
{
    int fd = socket(src->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close with an RST: no TIME_WAIT */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (bind(fd, (const struct sockaddr *)src, src_len) < 0 ||
        (connect(fd, (const struct sockaddr *)dst, dst_len) < 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

static int socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

static void usage(void)
{
    fprintf(stderr, "usage: synretry --dst4 A --dst6 A --listed FILE --clean ADDR[,ADDR...] [--listed-port P] "
                    "[--clean-port P] [--duration S] [--clean-interval-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dst4_s = NULL, *dst6_s = NULL, *listed_path = NULL, *clean_s = NULL;
    unsigned listed_port = 9101, clean_port = 9100;
    double duration = 8, clean_interval = 0.05;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--dst4"))
            dst4_s = v;
        else if (!strcmp(k, "--dst6"))
            dst6_s = v;
        else if (!strcmp(k, "--listed"))
            listed_path = v;
        else if (!strcmp(k, "--clean"))
            clean_s = v;
        else if (!strcmp(k, "--listed-port"))
            listed_port = (unsigned)atoi(v);
        else if (!strcmp(k, "--clean-port"))
            clean_port = (unsigned)atoi(v);
        else if (!strcmp(k, "--duration"))
            duration = atof(v);
        else if (!strcmp(k, "--clean-interval-ms"))
            clean_interval = atof(v) / 1000;
        else
            usage();
    }
    if (!dst4_s || !dst6_s || !listed_path || !clean_s || duration <= 0 || clean_interval <= 0 ||
        listed_port == 0 || listed_port > 65535 || clean_port == 0 || clean_port > 65535)
        usage();

    /* Destinations, one per family and class. */
    struct sockaddr_storage dst[2][2]; /* [listed][v6] */
    socklen_t dst_len[2][2];
    for (int l = 0; l < 2; l++) {
        dst_len[l][0] = parse_addr(dst4_s, l ? listed_port : clean_port, &dst[l][0]);
        dst_len[l][1] = parse_addr(dst6_s, l ? listed_port : clean_port, &dst[l][1]);
        if (dst_len[l][0] != sizeof(struct sockaddr_in) || dst_len[l][1] != sizeof(struct sockaddr_in6))
            usage();
    }

    /* Clean sources. */
    static struct sockaddr_storage clean[MAX_CLEAN];
    static socklen_t clean_len[MAX_CLEAN];
    int nclean = 0;
    char *list = strdup(clean_s);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (nclean == MAX_CLEAN || !(clean_len[nclean] = parse_addr(tok, 0, &clean[nclean]))) {
            fprintf(stderr, "synretry: bad or too many clean sources at %s\n", tok);
            return 2;
        }
        nclean++;
    }
    free(list);

    /* Listed connects, all at time 0. */
    static int listed_fd[MAX_LISTED];
    int nlisted = 0;
    FILE *f = fopen(listed_path, "r");
    if (!f) {
        fprintf(stderr, "synretry: %s: %s\n", listed_path, strerror(errno));
        return 1;
    }
    char line[256];
    double start = now();
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, " \t\r\n#")] = 0;
        struct sockaddr_storage src;
        socklen_t src_len;
        if (!line[0])
            continue;
        if (nlisted == MAX_LISTED || !(src_len = parse_addr(line, 0, &src))) {
            fprintf(stderr, "synretry: %s: bad or too many addresses at %s\n", listed_path, line);
            return 2;
        }
        int v6 = src.ss_family == AF_INET6;
        int fd = start_connect(&src, src_len, &dst[1][v6], dst_len[1][v6]);
        if (fd < 0) {
            fprintf(stderr, "synretry: connect from %s: %s\n", line, strerror(errno));
            return 1;
        }
        listed_fd[nlisted++] = fd;
    }
    fclose(f);

    /* Clean connects until the end, polling the clean ones in flight. */
    static struct inflight flight[MAX_INFLIGHT];
    static struct pollfd pfd[MAX_INFLIGHT];
    int nflight = 0;
    unsigned long clean_started = 0, clean_ok = 0, clean_failed = 0;
    double end = start + duration, next_round = start;
    for (;;) {
        double t = now();
        if (t >= next_round && t < end) {
            for (int i = 0; i < nclean; i++) {
                int v6 = clean[i].ss_family == AF_INET6;
                int fd = nflight < MAX_INFLIGHT ? start_connect(&clean[i], clean_len[i], &dst[0][v6], dst_len[0][v6]) : -1;
                clean_started++;
                if (fd < 0) {
                    clean_failed++;
                    continue;
                }
                flight[nflight++] = (struct inflight){fd, t};
            }
            next_round += clean_interval;
        }
        if (t >= end && nflight == 0)
            break;
        for (int i = 0; i < nflight; i++)
            pfd[i] = (struct pollfd){.fd = flight[i].fd, .events = POLLOUT};
        double wait = (t < end ? next_round : t + 0.01) - t;
        if (wait < 0)
            wait = 0;
        if (poll(pfd, (nfds_t)nflight, (int)(wait * 1000) + 1) < 0 && errno != EINTR) {
            perror("synretry: poll");
            return 1;
        }
        t = now();
        for (int i = 0; i < nflight;) {
            int done = 0;
            if (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP)) {
                if (socket_error(flight[i].fd) == 0)
                    clean_ok++;
                else
                    clean_failed++;
                done = 1;
            } else if (t - flight[i].started > CLEAN_DEADLINE) {
                clean_failed++;
                done = 1;
            }
            if (done) {
                close(flight[i].fd);
                flight[i] = flight[--nflight];
                pfd[i] = pfd[nflight];
            } else {
                i++;
            }
        }
    }

    /* Read the listed sockets: how many SYNs each sent, whether any got an answer. */
    unsigned long syns = 0, established = 0, errors = 0;
    for (int i = 0; i < nlisted; i++) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(listed_fd[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
            unsigned retrans = ti.tcpi_total_retrans > ti.tcpi_retransmits ? ti.tcpi_total_retrans : ti.tcpi_retransmits;
            syns += 1 + retrans;
            if (ti.tcpi_state == TCP_ESTABLISHED)
                established++;
            else if (ti.tcpi_state != TCP_SYN_SENT || socket_error(listed_fd[i]) != 0)
                errors++;
        } else {
            errors++;
        }
        close(listed_fd[i]);
    }
    printf("listed=%d listed_syns=%lu listed_established=%lu listed_errors=%lu clean=%lu clean_ok=%lu "
           "clean_failed=%lu seconds=%.3f\n",
           nlisted, syns, established, errors, clean_started, clean_ok, clean_failed, now() - start);
    return 0;
}
