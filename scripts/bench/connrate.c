/*
 * connrate.c: short TCP connections per second, for scripts/bench.sh (flow mode costs one
 * NFQUEUE round trip per connection, not per packet).
 *
 *   connrate serve --port P [--duration S]
 *       accept and close at once, on IPv4 and IPv6 (port P), for S seconds (default 600).
 *   connrate connect --dst ADDR --port P --src ADDR[,ADDR...] [--threads N] [--duration S]
 *       N threads (default 4), each connecting from the source addresses in turn and closing
 *       with an RST (SO_LINGER 0: no TIME_WAIT, so the run never runs out of ports), for S
 *       seconds (default 4). Each connect waits for the handshake (blocking, 200 ms timeout:
 *       a lost SYN is counted as a failure and costs the thread 200 ms, not the 1 s SYN
 *       retransmission timeout).
 *       Prints one line:
 *         connections=N failures=N seconds=S rate=R
 *       where a connection counts once connect() returned 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 64

static struct sockaddr_storage dst;
static socklen_t dst_len;
static struct sockaddr_storage sources[MAX_SOURCES];
static int nsources;
static double duration = 4;
static atomic_ulong connections, failures;
static atomic_int stop;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static socklen_t parse_address(const char *text, int port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return sizeof *v6;
    }
    fprintf(stderr, "connrate: not an address: %s\n", text);
    exit(2);
}

static void *connect_loop(void *arg)
{
    int next = (int)(long)arg;
    struct timeval timeout = {.tv_usec = 200000};
    struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
    while (!atomic_load(&stop)) {
        struct sockaddr_storage *src = &sources[next++ % nsources];
        int fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            perror("connrate: socket");
            exit(1);
        }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        socklen_t src_len = src->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (bind(fd, (struct sockaddr *)src, src_len) != 0 || connect(fd, (struct sockaddr *)&dst, dst_len) != 0) {
            atomic_fetch_add(&failures, 1);
        } else {
            atomic_fetch_add(&connections, 1);
        }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
        close(fd);
    }
    return NULL;
}

static int run_connect(int threads)
{
    pthread_t tids[64];
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "connrate: --threads must be in 1..64\n");
        return 2;
    }
    double start = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, connect_loop, (void *)(long)i);
    struct timespec pause = {.tv_sec = (time_t)duration, .tv_nsec = (long)((duration - (time_t)duration) * 1e9)};
    nanosleep(&pause, NULL);
    atomic_store(&stop, 1);
    unsigned long counted = atomic_load(&connections);
    double seconds = now() - start;
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    printf("connections=%lu failures=%lu seconds=%.3f rate=%.0f\n", counted, atomic_load(&failures), seconds,
           (double)counted / seconds);
    return 0;
}

static int listener(int family, int port)
{
    struct sockaddr_storage address;
    socklen_t len = parse_address(family == AF_INET ? "0.0.0.0" : "::", port, &address);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, len) != 0 || listen(fd, 4096) != 0) {
        perror("connrate: listen");
        exit(1);
    }
    return fd;
}

static void *accept_loop(void *arg)
{
    int fd = (int)(long)arg;
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0)
            close(c);
        else if (errno != EINTR && errno != ECONNABORTED)
            perror("connrate: accept");
    }
    return NULL;
}

static int run_serve(int port)
{
    pthread_t t4, t6;
    pthread_create(&t4, NULL, accept_loop, (void *)(long)listener(AF_INET, port));
    pthread_create(&t6, NULL, accept_loop, (void *)(long)listener(AF_INET6, port));
    fprintf(stderr, "connrate: listening on port %d\n", port);
    struct timespec pause = {.tv_sec = (time_t)duration};
    nanosleep(&pause, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: connrate serve|connect [options]; see the source\n");
        return 2;
    }
    const char *dst_text = NULL, *src_text = NULL;
    int port = 0, threads = 4;
    int serve = !strcmp(argv[1], "serve");
    if (serve)
        duration = 600;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--dst"))
            dst_text = v;
        else if (!strcmp(k, "--src"))
            src_text = v;
        else if (!strcmp(k, "--port"))
            port = atoi(v);
        else if (!strcmp(k, "--threads"))
            threads = atoi(v);
        else if (!strcmp(k, "--duration"))
            duration = atof(v);
        else {
            fprintf(stderr, "connrate: unknown option %s\n", k);
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || duration <= 0) {
        fprintf(stderr, "connrate: --port and --duration are required and must be positive\n");
        return 2;
    }
    if (serve)
        return run_serve(port);
    if (strcmp(argv[1], "connect") || !dst_text || !src_text) {
        fprintf(stderr, "connrate: connect needs --dst and --src\n");
        return 2;
    }
    dst_len = parse_address(dst_text, port, &dst);
    char *copy = strdup(src_text);
    for (char *save = NULL, *s = strtok_r(copy, ",", &save); s && nsources < MAX_SOURCES; s = strtok_r(NULL, ",", &save))
        parse_address(s, 0, &sources[nsources++]);
    free(copy);
    return run_connect(threads);
}
