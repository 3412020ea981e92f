/*
 * loadgen.c: the TCP load generator behind scripts/bench_tcp.ts.
 *
 * One process, one thread, epoll, non-blocking sockets: a Node or Deno client
 * saturates before the echo server does, so the client is written in C.
 * Every mode stops by itself; SIGINT/SIGTERM end it early (it still reports).
 * The result is one JSON object on the last stdout line; notes go to stderr.
 *
 * Build: gcc -O2 -o /tmp/loadgen scripts/loadgen/loadgen.c
 *        (bench_tcp.ts does this itself, into bench_results/loadgen)
 * Run:
 *   loadgen lines --port P [--host 127.0.0.1] [--conns 50] [--inflight 16]
 *                 [--duration 5] [--warmup 1] [--pid SERVER_PID]
 *     C connections each keep K lines of 64 bytes (63 + "\n") in flight and
 *     send one more line for every line that comes back. A reply line may end
 *     in "\n" or "\r\n"; lines are counted by the "\n" bytes received and
 *     checked (length and content).
 *   loadgen bulk  --port P [--block 65536] [--window 1048576]
 *                 [--duration 5] [--warmup 1] [--pid SERVER_PID]
 *     One connection writes blocks of up to 64 KiB, keeps at most `window`
 *     bytes unechoed, and checks the echo against what was sent (the head and
 *     tail of every read; the payload is a 251-byte period pattern).
 *   loadgen idle  --port P [--count 10000] [--hold 30] [--max-pending 256]
 *     Opens `count` connections (at most `max-pending` handshakes at a time),
 *     then holds them, silent, for `hold` seconds or until SIGTERM, then
 *     closes them. RLIMIT_NOFILE is raised to its hard limit first.
 *
 * WebSocket modes (RFC 6455; scripts/bench_ws.ts): each connection first does
 * the HTTP/1.1 upgrade (GET --path, a fixed Sec-WebSocket-Key, the 101 and its
 * Sec-WebSocket-Accept are checked), then sends masked client frames.
 *   loadgen ws-small --port P [--conns 50] [--inflight 16] [--size 64]
 *   loadgen ws-large --port P [--conns 10] [--inflight 4] [--size 16384]
 *                    [--duration 5] [--warmup 1] [--pid SERVER_PID] [--path /]
 *     ws-small sends text messages, ws-large binary ones, each in one frame.
 *     Each connection keeps K messages in flight and sends one more for every
 *     message echoed. Server frames are parsed (2/4/10-byte headers,
 *     fragmented messages accepted): each echoed message must have the type,
 *     length and content sent (content: all of a small message, the head and
 *     tail of every piece of a large one). A ping gets its pong; a close frame
 *     or a protocol error counts as an error.
 *   loadgen ws-stream --port P [--conns 10] [--inflight 4] [--size 16384]
 *     For proxies that re-frame the bytes (a WebSocket-to-TCP proxy's frames
 *     follow its target reads): as ws-large, but the window is counted in
 *     payload bytes, not messages. Each connection sends S-byte binary
 *     messages while fewer than K * S payload bytes are unechoed; echoed data
 *     frames of any size are checked by their offset in the echoed byte
 *     stream (head and tail of every piece). bytes_per_s counts the frame
 *     bytes read, as in ws-large; payload_in_per_s / payload_out_per_s count
 *     the payload bytes echoed / sent.
 *   loadgen ws-deflate --port P [--conns 50] [--inflight 8] [--size 256]
 *     Only in a build with -DLOADGEN_ZLIB ... -lz (scripts/bench_ws.ts --deflate
 *     does). As ws-small with permessage-deflate (RFC 7692): the upgrade offers
 *     "permessage-deflate; client_no_context_takeover; client_max_window_bits"
 *     (the 101 must accept it), so every request is the same precompressed
 *     frame (RSV1) of a JSON-like text; echoes with RSV1 are inflated with a
 *     stream per connection (the server may keep its context) and checked in
 *     full; uncompressed echoes are checked as in ws-small. "compressed" in
 *     the result counts echoes that came compressed.
 *   loadgen ws-idle --port P [--count 10000] [--hold 30] [--max-pending 256]
 *     As idle, but each connection is upgraded (at most `max-pending`
 *     connects and handshakes at a time) before it is held. When every
 *     connection is up (or failed) a line {"phase":"holding",...} is printed,
 *     then the final JSON after the hold.
 *
 * With --pid, the CPU time of that process (all threads, /proc/PID/stat; its
 * user time alone too: the server's own code, without the kernel's) and
 * of its busiest thread (/proc/PID/task/TID/stat) is sampled over exactly the
 * measurement window, together with the load generator's own CPU time and the
 * rest of the host's (/proc/stat), so the caller can tell which side was
 * saturated and whether other processes took CPU away.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef LOADGEN_ZLIB
#include <zlib.h>
#endif

#ifdef LOADGEN_TLS
/* Built with -DLOADGEN_TLS ... -lssl -lcrypto (scripts/bench_tls.ts does), the
 * lines and bulk modes take `--tls SNI`: each connection does a blocking TLS
 * handshake right after connecting (no certificate check: a benchmark), then
 * the same loops run over SSL_read/SSL_write. Without the define nothing changes. */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
static SSL_CTX *tls_ctx;
static SSL *tls_of[1 << 16];
static const char *tls_sni;

static ssize_t tls_result(SSL *ssl, int r) {
  int e = SSL_get_error(ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) errno = EAGAIN;
  else if (e == SSL_ERROR_ZERO_RETURN) return 0;
  else errno = ECONNRESET;
  return -1;
}
static ssize_t sock_read(int fd, void *buf, size_t n) {
  SSL *ssl = fd < (1 << 16) ? tls_of[fd] : NULL;
  if (!ssl) return read(fd, buf, n);
  int r = SSL_read(ssl, buf, (int)n);
  return r > 0 ? r : tls_result(ssl, r);
}
static ssize_t sock_write(int fd, const void *buf, size_t n) {
  SSL *ssl = fd < (1 << 16) ? tls_of[fd] : NULL;
  if (!ssl) return write(fd, buf, n);
  int r = SSL_write(ssl, buf, (int)n);
  return r > 0 ? r : tls_result(ssl, r);
}
/* Blocking handshake on a connected non-blocking fd, then back to non-blocking. */
static void tls_handshake(int fd) {
  if (!tls_sni) return;
  if (!tls_ctx) {
    tls_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  SSL *ssl = SSL_new(tls_ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, tls_sni);
  if (SSL_connect(ssl) != 1) {
    ERR_print_errors_fp(stderr);
    fprintf(stderr, "loadgen: TLS handshake failed\n");
    exit(2);
  }
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  tls_of[fd] = ssl;
}
#else
#define sock_read read
#define sock_write write
#define tls_handshake(fd) ((void)(fd))
#endif

#define LINE_LEN 64          /* bytes sent per line, "\n" included */
#define READ_BUF (256 * 1024)
#define PATTERN_PERIOD 251   /* bulk payload byte i is (i % 251): catches shifts */
#define MAX_TASKS 512

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* ---------- options ---------- */

struct opts {
  const char *mode, *host;
  int port, conns, inflight, count, max_pending, pid;
  double duration, warmup, hold;
  long block, window;
  long size;        /* WebSocket modes: message payload bytes */
  const char *path; /* WebSocket modes: request target of the upgrade */
};

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen lines|bulk|idle --port P [--host H] [--conns N] [--inflight K]\n"
          "               [--duration S] [--warmup S] [--pid PID] [--block B] [--window B]\n"
          "               [--count N] [--hold S] [--max-pending N]\n"
          "       loadgen ws-small|ws-large|ws-stream|ws-idle --port P [--size B] [--path /] (and the above)\n");
  exit(2);
}

static struct opts parse_opts(int argc, char **argv) {
  struct opts o = {NULL, "127.0.0.1", 0, 50, 16, 10000, 256, 0, 5, 1, 30, 65536, 1 << 20, 64, "/"};
  if (argc < 2) usage();
  o.mode = argv[1];
  if (!strcmp(o.mode, "ws-large") || !strcmp(o.mode, "ws-stream"))
    o.conns = 10, o.inflight = 4, o.size = 16384;
  if (!strcmp(o.mode, "ws-deflate")) o.inflight = 8, o.size = 256;
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i];
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (!strcmp(k, "--host")) o.host = v;
    else if (!strcmp(k, "--port")) o.port = atoi(v);
    else if (!strcmp(k, "--conns")) o.conns = atoi(v);
    else if (!strcmp(k, "--inflight")) o.inflight = atoi(v);
    else if (!strcmp(k, "--duration")) o.duration = atof(v);
    else if (!strcmp(k, "--warmup")) o.warmup = atof(v);
    else if (!strcmp(k, "--pid")) o.pid = atoi(v);
    else if (!strcmp(k, "--block")) o.block = atol(v);
    else if (!strcmp(k, "--window")) o.window = atol(v);
    else if (!strcmp(k, "--count")) o.count = atoi(v);
    else if (!strcmp(k, "--hold")) o.hold = atof(v);
    else if (!strcmp(k, "--max-pending")) o.max_pending = atoi(v);
    else if (!strcmp(k, "--size")) o.size = atol(v);
    else if (!strcmp(k, "--path")) o.path = v;
#ifdef LOADGEN_TLS
    else if (!strcmp(k, "--tls")) tls_sni = v;
#endif
    else usage();
  }
  if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.inflight < 1 || o.count < 1 ||
      o.max_pending < 1 || o.block < 1 || o.block > READ_BUF || o.window < o.block ||
      o.duration <= 0 || o.warmup < 0 || o.size < 0 || o.size > (64L << 20) || o.path[0] != '/')
    usage();
  return o;
}

/* ---------- sockets ---------- */

static struct sockaddr_storage server_addr;
static socklen_t server_addr_len;

static void resolve(const char *host, int port) {
  struct sockaddr_in *a4 = (struct sockaddr_in *)&server_addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&server_addr;
  memset(&server_addr, 0, sizeof server_addr);
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    server_addr_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    server_addr_len = sizeof *a6;
  } else {
    fprintf(stderr, "loadgen: --host must be a numeric IPv4/IPv6 address: current value is %s\n",
            host);
    exit(2);
  }
}

/* Starts a non-blocking connect; returns the fd (connect may still be in progress). */
static int start_connect(void) {
  int fd = socket(server_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&server_addr, server_addr_len) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* Connects blocking-style with a deadline, for the few connections of lines/bulk. */
static int connect_wait(int ep, double deadline) {
  int fd = start_connect();
  if (fd < 0) die("connect");
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}, out;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  while (epoll_wait(ep, &out, 1, 100) == 0)
    if (now_s() > deadline || stop_requested) {
      fprintf(stderr, "loadgen: connect timed out\n");
      exit(2);
    }
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    errno = err;
    die("connect");
  }
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  tls_handshake(fd);
  return fd;
}

static void set_events(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
    die("epoll_ctl");
}

/* ---------- CPU sampling ---------- */

struct cpu_sample {
  double t;              /* monotonic seconds */
  long host_busy, host_idle, host_softirq; /* /proc/stat, all CPUs, ticks */
  long self_ticks_us;    /* our own user+sys, microseconds */
  long proc_ticks;       /* server process user+sys, clock ticks */
  long proc_user_ticks;  /* server process user time alone (its own code, not the kernel's) */
  int ntasks;
  int tid[MAX_TASKS];
  long task_ticks[MAX_TASKS];
};

/* Reads utime+stime (fields 14 and 15) from a /proc stat file; -1 if unreadable.
 * utime alone goes to *user when `user` is not NULL. */
static long stat_ticks(const char *path, long *user) {
  char buf[1024];
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* after ")" come fields 3 (state) .. 13, then utime, stime */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  if (user) *user = (long)ut;
  return (long)(ut + st);
}

/* Reads the "cpu" line of /proc/stat: busy = user+nice+system+irq+softirq. */
static void host_ticks(struct cpu_sample *s) {
  unsigned long u = 0, n = 0, sy = 0, id = 0, io = 0, irq = 0, si = 0;
  FILE *f = fopen("/proc/stat", "r");
  s->host_busy = s->host_idle = s->host_softirq = 0;
  if (!f) return;
  if (fscanf(f, "cpu %lu %lu %lu %lu %lu %lu %lu", &u, &n, &sy, &id, &io, &irq, &si) == 7)
    s->host_busy = (long)(u + n + sy + irq + si), s->host_idle = (long)(id + io),
    s->host_softirq = (long)si;
  fclose(f);
}

static void sample_cpu(int pid, struct cpu_sample *s) {
  struct rusage ru;
  host_ticks(s);
  getrusage(RUSAGE_SELF, &ru);
  s->t = now_s();
  s->self_ticks_us = ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec +
                     ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec;
  s->proc_ticks = -1;
  s->proc_user_ticks = 0;
  s->ntasks = 0;
  if (!pid) return;
  char path[128];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  s->proc_ticks = stat_ticks(path, &s->proc_user_ticks);
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) && s->ntasks < MAX_TASKS) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char tpath[300];
    snprintf(tpath, sizeof tpath, "/proc/%d/task/%s/stat", pid, e->d_name);
    long t = stat_ticks(tpath, NULL);
    if (t < 0) continue;
    s->tid[s->ntasks] = atoi(e->d_name);
    s->task_ticks[s->ntasks++] = t;
  }
  closedir(d);
}

/*
 * Prints the CPU fields of the result JSON (no leading or trailing comma), in
 * percent of one core (200 = both cores of a 2-core host). other_cpu_pct is the
 * host's busy time minus the server's and ours: other processes (a shared host
 * skews the numbers) plus interrupt work charged to no process. Softirq time
 * (mostly loopback TCP) is often charged to the process that was running, so it
 * is also reported apart.
 */
static void print_cpu(const struct cpu_sample *a, const struct cpu_sample *b) {
  double wall = b->t - a->t, hz = (double)sysconf(_SC_CLK_TCK);
  double self = (b->self_ticks_us - a->self_ticks_us) / 1e6 / wall * 100;
  double host = (b->host_busy - a->host_busy) / hz / wall * 100;
  printf("\"loadgen_cpu_pct\":%.1f,\"host_idle_pct\":%.1f,\"host_softirq_pct\":%.1f", self,
         (b->host_idle - a->host_idle) / hz / wall * 100,
         (b->host_softirq - a->host_softirq) / hz / wall * 100);
  if (a->proc_ticks < 0 || b->proc_ticks < 0) {
    printf(",\"other_cpu_pct\":%.1f", host - self);
    return;
  }
  double server = (b->proc_ticks - a->proc_ticks) / hz / wall * 100;
  long busiest = 0;
  for (int i = 0; i < b->ntasks; i++)
    for (int j = 0; j < a->ntasks; j++)
      if (a->tid[j] == b->tid[i] && b->task_ticks[i] - a->task_ticks[j] > busiest)
        busiest = b->task_ticks[i] - a->task_ticks[j];
  printf(",\"server_cpu_pct\":%.1f,\"server_user_cpu_pct\":%.1f,"
         "\"server_busiest_thread_pct\":%.1f,\"other_cpu_pct\":%.1f",
         server, (b->proc_user_ticks - a->proc_user_ticks) / hz / wall * 100,
         busiest / hz / wall * 100, host - self - server);
}

/* ---------- lines ---------- */

struct line_conn {
  int fd;
  long pending;   /* bytes owed to the server but not written yet */
  long written;   /* bytes written so far (position in the repeating line stream) */
  int linepos;    /* bytes received since the last "\n" */
  int want_out;   /* EPOLLOUT currently requested */
};

static char line[LINE_LEN];
static char *line_stream; /* (K + 1) copies of `line`, written from any offset */

static long lines_total, bytes_total, bad_lines, lf_lines, crlf_lines, errors;

/* Checks and counts the reply lines in buf; returns how many lines completed. */
static long scan_lines(struct line_conn *c, const char *buf, long n) {
  const char *p = buf, *end = buf + n;
  long done = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', end - p);
    if (!nl) {
      c->linepos += end - p;
      if (c->linepos > LINE_LEN + 1) bad_lines++, c->linepos = 0; /* resynchronise */
      break;
    }
    long seg = nl - p, len = c->linepos + seg; /* length without the "\n" */
    if (len == LINE_LEN) {                     /* 63 bytes + "\r" */
      crlf_lines++;
      if (c->linepos == 0 && (memcmp(p, line, LINE_LEN - 1) || p[LINE_LEN - 1] != '\r'))
        bad_lines++;
    } else if (len == LINE_LEN - 1) {
      lf_lines++;
      if (c->linepos == 0 && memcmp(p, line, LINE_LEN - 1)) bad_lines++;
    } else {
      bad_lines++;
    }
    done++;
    c->linepos = 0;
    p = nl + 1;
  }
  return done;
}

/* Writes what is owed; returns 0 on success (maybe partial), -1 on a dead socket. */
static int flush_lines(int ep, struct line_conn *c, int idx) {
  while (c->pending > 0) {
    long off = c->written % LINE_LEN;
    ssize_t w = sock_write(c->fd, line_stream + off, c->pending);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    c->pending -= w;
    c->written += w;
  }
  int want = c->pending > 0;
  if (want != c->want_out) {
    set_events(ep, c->fd, EPOLLIN | (want ? EPOLLOUT : 0), (uint64_t)idx);
    c->want_out = want;
  }
  return 0;
}

static int run_lines(const struct opts *o) {
  for (int i = 0; i < LINE_LEN - 1; i++) line[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
  line[LINE_LEN - 1] = '\n';
  line_stream = malloc((size_t)(o->inflight + 1) * LINE_LEN);
  for (int i = 0; i <= o->inflight; i++) memcpy(line_stream + i * LINE_LEN, line, LINE_LEN);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct line_conn *conns = calloc(o->conns, sizeof *conns);
  double t0 = now_s();
  for (int i = 0; i < o->conns; i++) {
    conns[i].fd = connect_wait(ep, t0 + 10);
    conns[i].pending = (long)o->inflight * LINE_LEN;
    conns[i].want_out = -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    conns[i].want_out = 0;
  }
  for (int i = 0; i < o->conns; i++)
    if (flush_lines(ep, &conns[i], i) < 0) die("write");

  static char buf[READ_BUF];
  struct epoll_event evs[256];
  struct cpu_sample cpu_a, cpu_b;
  double start = now_s(), t_measure = start + o->warmup, t_end = t_measure + o->duration;
  long lines_a = 0, bytes_a = 0;
  int measuring = 0, alive = o->conns;
  while (!stop_requested && alive > 0) {
    double t = now_s();
    if (!measuring && t >= t_measure) {
      measuring = 1;
      lines_a = lines_total, bytes_a = bytes_total;
      sample_cpu(o->pid, &cpu_a);
    }
    if (t >= t_end) break;
    int timeout = (int)(((measuring ? t_end : t_measure) - t) * 1000) + 1;
    int n = epoll_wait(ep, evs, 256, timeout > 100 ? 100 : timeout);
    for (int i = 0; i < n; i++) {
      int idx = (int)evs[i].data.u64;
      struct line_conn *c = &conns[idx];
      if (c->fd < 0) continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t r = sock_read(c->fd, buf, sizeof buf);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
          errors++, alive--;
          close(c->fd);
          c->fd = -1;
          continue;
        }
        if (r > 0) {
          long got = scan_lines(c, buf, r);
          lines_total += got;
          bytes_total += r;
          c->pending += got * LINE_LEN; /* keep K lines in flight */
          if (c->pending > (long)o->inflight * LINE_LEN) c->pending = (long)o->inflight * LINE_LEN;
        }
      }
      if (flush_lines(ep, c, idx) < 0) {
        errors++, alive--;
        close(c->fd);
        c->fd = -1;
      }
    }
  }
  if (!measuring) { /* stopped (signal or dead server) before the window opened */
    lines_a = lines_total, bytes_a = bytes_total;
    sample_cpu(o->pid, &cpu_a);
  }
  sample_cpu(o->pid, &cpu_b);
  double wall = cpu_b.t - cpu_a.t;
  if (wall <= 0) wall = 1e-9;
  for (int i = 0; i < o->conns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);

  const char *eol = crlf_lines && lf_lines ? "mixed" : crlf_lines ? "crlf" : lf_lines ? "lf" : "none";
  printf("{\"mode\":\"lines\",\"conns\":%d,\"inflight\":%d,\"line_bytes\":%d,\"seconds\":%.3f,"
         "\"msgs\":%ld,\"msgs_per_s\":%.0f,\"bytes_per_s\":%.0f,\"eol\":\"%s\","
         "\"bad_lines\":%ld,\"errors\":%ld,",
         o->conns, o->inflight, LINE_LEN, wall, lines_total - lines_a,
         (lines_total - lines_a) / wall, (bytes_total - bytes_a) / wall, eol, bad_lines, errors);
  print_cpu(&cpu_a, &cpu_b);
  printf("}\n");
  return errors || bad_lines || lines_total == 0 ? 1 : 0;
}

/* ---------- bulk ---------- */

static int run_bulk(const struct opts *o) {
  size_t plen = READ_BUF + PATTERN_PERIOD;
  unsigned char *pattern = malloc(plen);
  for (size_t i = 0; i < plen; i++) pattern[i] = (unsigned char)(i % PATTERN_PERIOD);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  int fd = connect_wait(ep, now_s() + 10);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  int want_out = 0;

  static unsigned char buf[READ_BUF];
  long sent = 0, recvd = 0, recvd_a = 0, mismatches = 0;
  struct cpu_sample cpu_a, cpu_b;
  double start = now_s(), t_measure = start + o->warmup, t_end = t_measure + o->duration;
  int measuring = 0, dead = 0;
  while (!stop_requested) {
    /* write while the window has room */
    while (sent - recvd < o->window) {
      long room = o->window - (sent - recvd), len = room < o->block ? room : o->block;
      ssize_t w = sock_write(fd, pattern + sent % PATTERN_PERIOD, len);
      if (w < 0) {
        if (errno != EAGAIN) dead = 1;
        break;
      }
      sent += w;
    }
    if (dead) break;
    int want = sent - recvd < o->window; /* room left means the kernel said EAGAIN */
    if (want != want_out) {
      set_events(ep, fd, EPOLLIN | (want ? EPOLLOUT : 0), 0);
      want_out = want;
    }
    double t = now_s();
    if (!measuring && t >= t_measure) {
      measuring = 1;
      recvd_a = recvd;
      sample_cpu(o->pid, &cpu_a);
    }
    if (t >= t_end) break;
    struct epoll_event out[2];
    int timeout = (int)(((measuring ? t_end : t_measure) - t) * 1000) + 1;
    int n = epoll_wait(ep, out, 2, timeout > 100 ? 100 : timeout);
    if (n > 0 && (out[0].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
      ssize_t r = sock_read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        dead = 1;
        break;
      }
      if (r > 0) {
        /* Check the head and tail of each read: any loss, duplication or
         * reordering that is not a multiple of the pattern period shows up
         * there, and a full memcmp would cost the client as much CPU as the
         * copy itself. */
        long k = r < 64 ? r : 64;
        if (memcmp(buf, pattern + recvd % PATTERN_PERIOD, k) ||
            memcmp(buf + r - k, pattern + (recvd + r - k) % PATTERN_PERIOD, k))
          mismatches++;
        recvd += r;
      }
    }
  }
  if (!measuring) {
    recvd_a = recvd;
    sample_cpu(o->pid, &cpu_a);
  }
  sample_cpu(o->pid, &cpu_b);
  close(fd);
  double wall = cpu_b.t - cpu_a.t;
  if (wall <= 0) wall = 1e-9;
  double bps = (recvd - recvd_a) / wall;
  printf("{\"mode\":\"bulk\",\"block\":%ld,\"window\":%ld,\"seconds\":%.3f,\"bytes\":%ld,"
         "\"bytes_per_s\":%.0f,\"mb_per_s\":%.1f,\"msgs_per_s\":%.0f,\"mismatched_reads\":%ld,"
         "\"errors\":%d,",
         o->block, o->window, wall, recvd - recvd_a, bps, bps / 1e6, bps / o->block, mismatches,
         dead);
  print_cpu(&cpu_a, &cpu_b);
  printf("}\n");
  return dead || mismatches || recvd == 0 ? 1 : 0;
}

/* ---------- idle ---------- */

static int run_idle(const struct opts *o) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  long before = (long)rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) die("setrlimit");
  fprintf(stderr, "loadgen: RLIMIT_NOFILE raised from %ld to %ld\n", before, (long)rl.rlim_cur);
  int count = o->count;
  if ((rlim_t)count + 32 > rl.rlim_cur) {
    count = (int)rl.rlim_cur - 32;
    fprintf(stderr, "loadgen: only %d connections fit under RLIMIT_NOFILE %ld\n", count,
            (long)rl.rlim_cur);
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  int *fds = malloc(sizeof(int) * count);
  char *state = calloc(count, 1); /* 0 none, 1 connecting, 2 connected, 3 failed/closed */
  int started = 0, pending = 0, ok = 0, failed = 0, closed_by_server = 0, first_errno = 0;
  struct epoll_event evs[512];
  double t0 = now_s(), deadline = t0 + 60;

  while (!stop_requested && (started < count || pending > 0) && now_s() < deadline) {
    while (started < count && pending < o->max_pending) {
      int fd = start_connect();
      if (fd < 0) {
        if (!first_errno) first_errno = errno;
        failed++, state[started] = 3, fds[started++] = -1;
        continue;
      }
      struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)started};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      state[started] = 1, fds[started++] = fd, pending++;
    }
    int n = epoll_wait(ep, evs, 512, 100);
    for (int i = 0; i < n; i++) {
      int idx = (int)evs[i].data.u64, err = 0;
      socklen_t len = sizeof err;
      if (state[idx] != 1) continue;
      getsockopt(fds[idx], SOL_SOCKET, SO_ERROR, &err, &len);
      pending--;
      if (err) {
        if (!first_errno) first_errno = err;
        failed++, state[idx] = 3;
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[idx], NULL);
        close(fds[idx]);
        continue;
      }
      ok++, state[idx] = 2;
      set_events(ep, fds[idx], EPOLLIN | EPOLLRDHUP, (uint64_t)idx); /* notice server closes */
    }
  }
  for (int i = 0; i < started; i++) /* handshakes still unfinished at the deadline */
    if (state[i] == 1) failed++, state[i] = 3, close(fds[i]);
  double connect_s = now_s() - t0;
  fprintf(stderr, "loadgen: idle: %d connected, %d failed in %.2f s%s%s; holding %.0f s\n", ok,
          failed, connect_s, first_errno ? ", first error: " : "",
          first_errno ? strerror(first_errno) : "", o->hold);

  double t_end = now_s() + o->hold;
  while (!stop_requested && now_s() < t_end) {
    int n = epoll_wait(ep, evs, 512, 100);
    for (int i = 0; i < n; i++) {
      int idx = (int)evs[i].data.u64;
      if (state[idx] != 2) continue;
      char b[256];
      ssize_t r = read(fds[idx], b, sizeof b); /* a banner is fine; EOF/reset is a loss */
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        closed_by_server++, state[idx] = 3;
        epoll_ctl(ep, EPOLL_CTL_DEL, fds[idx], NULL);
        close(fds[idx]);
      }
    }
  }
  double held = now_s() - t0 - connect_s;
  for (int i = 0; i < started; i++)
    if (state[i] == 2) close(fds[i]);
  printf("{\"mode\":\"idle\",\"requested\":%d,\"connected\":%d,\"failed\":%d,"
         "\"closed_by_server\":%d,\"connect_seconds\":%.2f,\"held_seconds\":%.1f,"
         "\"nofile_limit\":%ld}\n",
         o->count, ok, failed, closed_by_server, connect_s, held, (long)rl.rlim_cur);
  return ok == o->count && closed_by_server == 0 ? 0 : 1;
}

/* ---------- WebSocket (RFC 6455) ---------- */

/* The sample key of RFC 6455 section 1.3 and its accept value: a benchmark may
 * reuse one key (the server cannot tell). */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define WS_CHECK 64 /* a large payload piece is checked at its head and tail */

static char ws_request[1024];
static int ws_request_len;
static int ws_deflate; /* ws-deflate mode (LOADGEN_ZLIB builds only) */
static long ws_compressed; /* echoes that came with RSV1 */

static void ws_build_request(const struct opts *o) {
  const char *h = o->host;
  int v6 = strchr(h, ':') != NULL;
  ws_request_len = snprintf(ws_request, sizeof ws_request,
                            "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: " WS_KEY "\r\n"
                            "Sec-WebSocket-Version: 13\r\n%s\r\n",
                            o->path, v6 ? "[" : "", h, v6 ? "]" : "", o->port,
                            ws_deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                         "client_no_context_takeover; client_max_window_bits\r\n"
                                       : "");
  if (ws_request_len >= (int)sizeof ws_request) {
    fprintf(stderr, "loadgen: --path too long\n");
    exit(2);
  }
}

/* Checks a complete response head: status 101 and the expected accept value. */
static int ws_response_ok(const char *head) {
  if (strncmp(head, "HTTP/1.1 101", 12)) return 0;
  if (ws_deflate && !strcasestr(head, "\r\nSec-WebSocket-Extensions: permessage-deflate")) return 0;
  return strcasestr(head, "\r\nSec-WebSocket-Accept: " WS_ACCEPT "\r\n") != NULL;
}

/* Waits for fd to be readable/writable (deadline: absolute monotonic seconds). */
static void ws_wait(int fd, short events, double deadline) {
  struct pollfd p = {.fd = fd, .events = events};
  while (poll(&p, 1, 100) == 0)
    if (now_s() > deadline || stop_requested) {
      fprintf(stderr, "loadgen: WebSocket handshake timed out\n");
      exit(2);
    }
}

/*
 * Upgrades a connected socket, blocking-style with a deadline. Bytes read past
 * the response head (frames the server sent at once) are copied to `extra`;
 * returns their count.
 */
static long ws_upgrade(int fd, double deadline, char *extra, long extra_cap) {
  for (int off = 0; off < ws_request_len;) {
    ssize_t w = sock_write(fd, ws_request + off, ws_request_len - off);
    if (w > 0) off += (int)w;
    else if (w < 0 && errno == EAGAIN) ws_wait(fd, POLLOUT, deadline);
    else die("write (upgrade request)");
  }
  char head[8192];
  long have = 0;
  for (;;) {
    ssize_t r = sock_read(fd, head + have, sizeof head - 1 - have);
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
      fprintf(stderr, "loadgen: the server closed the connection during the upgrade\n");
      exit(2);
    }
    if (r < 0) {
      ws_wait(fd, POLLIN, deadline);
      continue;
    }
    have += r;
    head[have] = 0;
    char *end = strstr(head, "\r\n\r\n");
    if (!end) {
      if (have >= (long)sizeof head - 1) {
        fprintf(stderr, "loadgen: upgrade response head over %zu bytes\n", sizeof head);
        exit(2);
      }
      continue;
    }
    end[2] = 0;
    if (!ws_response_ok(head)) {
      fprintf(stderr, "loadgen: upgrade refused or malformed:\n%s\n", head);
      exit(2);
    }
    long rest = have - (end + 4 - head);
    if (rest > extra_cap) rest = extra_cap;
    memcpy(extra, end + 4, rest);
    return rest;
  }
}

struct ws_conn {
  int fd;
  long pending;   /* frame bytes owed to the server but not written yet */
  long written;   /* frame bytes written so far (position in the repeating frame stream) */
  int want_out;   /* EPOLLOUT currently requested */
  /* server frame parser */
  unsigned char hdr[14];
  int hdr_have;   /* header bytes collected (0 when between frames) */
  long payload_left; /* payload bytes of the current frame still to come */
  int in_control; /* the current frame is a control frame */
  int control_op;
  unsigned char control[125];
  int control_len;
  int in_msg;     /* inside a data message (after a frame without FIN) */
  int msg_op;
  int frame_fin;
  long msg_len;   /* bytes of the current message so far */
  long pong_owed; /* bytes of a pong still to send (servers rarely ping) */
  long pong_sent;
  unsigned char pong[2 + 4 + 125];
  int msg_deflated; /* the current message came with RSV1 */
  long stream_in;   /* ws-stream: payload bytes echoed so far */
  long sent_msgs;   /* ws-stream: messages queued (written or pending) so far */
#ifdef LOADGEN_ZLIB
  z_stream zs;      /* inflates the server's compressed echoes (its context kept) */
  int zs_ready;
#endif
};

static unsigned char *ws_payload;      /* what every message carries */
static unsigned char *ws_frame_stream; /* (K + 1) copies of the masked frame */
static long ws_frame_len, ws_msg_size;
static int ws_opcode;
static int ws_stream; /* ws-stream mode: byte window, pieces checked by stream offset */
static long ws_payload_in; /* ws-stream: payload bytes echoed (all connections) */
static const unsigned char ws_mask[4] = {0x37, 0xfa, 0x21, 0x3d};
static long ws_msgs_total, ws_bytes_total, ws_bad_msgs, ws_errors, ws_pings, ws_fragmented;

/* Appends a masked client frame header for a payload of n bytes; returns its length. */
static int ws_client_header(unsigned char *h, int opcode, long n) {
  int i = 0;
  h[i++] = (unsigned char)(0x80 | opcode);
  if (n < 126) h[i++] = (unsigned char)(0x80 | n);
  else if (n < 65536) h[i++] = 0x80 | 126, h[i++] = (unsigned char)(n >> 8), h[i++] = (unsigned char)n;
  else {
    h[i++] = 0x80 | 127;
    for (int b = 7; b >= 0; b--) h[i++] = (unsigned char)((unsigned long)n >> (8 * b));
  }
  memcpy(h + i, ws_mask, 4);
  return i + 4;
}

static void ws_build_frames(const struct opts *o) {
  ws_msg_size = o->size;
  ws_opcode = !strcmp(o->mode, "ws-large") || ws_stream ? 2 : 1;
  /* ws-stream checks a piece (at most one read) against the payload repeated from any offset */
  long ref_len = ws_stream ? ws_msg_size + READ_BUF : ws_msg_size;
  ws_payload = malloc(ref_len + 1);
  for (long i = 0; i < ref_len; i++)
    ws_payload[i] = ws_opcode == 1 ? (unsigned char)"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]
                                   : (unsigned char)((i % (ws_msg_size ? ws_msg_size : 1)) % PATTERN_PERIOD);
  unsigned char *body = ws_payload;
  long body_len = ws_msg_size;
#ifdef LOADGEN_ZLIB
  if (ws_deflate) {
    /* A JSON-like text, compressed once without context (client_no_context_takeover):
     * deflate with a sync flush, the 00 00 ff ff tail removed (RFC 7692 7.2.1). */
    char *text = malloc(ws_msg_size + 64);
    long at = 0;
    for (int k = 0; at < ws_msg_size; k++)
      at += sprintf(text + at, "{\"seq\":%d,\"user\":\"alice\",\"text\":\"hello again\"}", k % 10);
    memcpy(ws_payload, text, ws_msg_size);
    free(text);
    z_stream z = {0};
    uLong cap = compressBound(ws_msg_size) + 16;
    body = malloc(cap);
    if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit2");
    z.next_in = ws_payload, z.avail_in = (uInt)ws_msg_size;
    z.next_out = body, z.avail_out = (uInt)cap;
    if (deflate(&z, Z_SYNC_FLUSH) != Z_OK || z.avail_in != 0) die("deflate");
    body_len = (long)(cap - z.avail_out) - 4; /* strip 00 00 ff ff */
    deflateEnd(&z);
  }
#endif
  unsigned char h[14];
  int hl = ws_client_header(h, ws_opcode, body_len);
  if (ws_deflate) h[0] |= 0x40; /* RSV1: compressed (RFC 7692 6) */
  ws_frame_len = hl + body_len;
  ws_frame_stream = malloc((size_t)(o->inflight + 1) * ws_frame_len);
  for (int k = 0; k <= o->inflight; k++) {
    unsigned char *f = ws_frame_stream + (size_t)k * ws_frame_len;
    memcpy(f, h, hl);
    for (long i = 0; i < body_len; i++) f[hl + i] = body[i] ^ ws_mask[i & 3];
  }
  if (body != ws_payload) free(body);
}

#ifdef LOADGEN_ZLIB
/* Inflates a piece of a compressed echo (and, at its end, the 00 00 ff ff tail)
 * and checks it against the payload at the message's offset. Returns 0 if bad. */
static int ws_inflate_piece(struct ws_conn *c, const unsigned char *p, long n, int end) {
  static const unsigned char tail[4] = {0, 0, 0xff, 0xff};
  static unsigned char out[READ_BUF];
  if (!c->zs_ready) {
    if (inflateInit2(&c->zs, -15) != Z_OK) die("inflateInit2");
    c->zs_ready = 1;
  }
  int ok = 1;
  for (int part = 0; part < (end ? 2 : 1); part++) {
    c->zs.next_in = (unsigned char *)(part ? tail : p);
    c->zs.avail_in = (uInt)(part ? 4 : n);
    do {
      c->zs.next_out = out, c->zs.avail_out = sizeof out;
      int r = inflate(&c->zs, Z_SYNC_FLUSH);
      if (r != Z_OK && r != Z_BUF_ERROR) return 0;
      long got = (long)(sizeof out - c->zs.avail_out);
      if (got > 0) {
        if (c->msg_len + got > ws_msg_size || memcmp(out, ws_payload + c->msg_len, got)) ok = 0;
        c->msg_len += got;
      }
    } while (c->zs.avail_out == 0);
  }
  return ok;
}
#endif

/* Checks a piece of an echoed message that starts at message offset `off`. */
static int ws_piece_ok(const unsigned char *p, long off, long n) {
  if (off + n > ws_msg_size) return 0;
  if (n <= 2 * WS_CHECK) return memcmp(p, ws_payload + off, n) == 0;
  return memcmp(p, ws_payload + off, WS_CHECK) == 0 &&
         memcmp(p + n - WS_CHECK, ws_payload + off + n - WS_CHECK, WS_CHECK) == 0;
}

/* ws-stream: checks n echoed bytes at stream offset `off` (n <= READ_BUF). */
static int ws_stream_piece_ok(const unsigned char *p, long off, long n) {
  const unsigned char *ref = ws_payload + off % ws_msg_size;
  if (n <= 2 * WS_CHECK) return memcmp(p, ref, n) == 0;
  return memcmp(p, ref, WS_CHECK) == 0 && memcmp(p + n - WS_CHECK, ref + n - WS_CHECK, WS_CHECK) == 0;
}

/* Queues a pong echoing a ping's payload (RFC 6455 5.5.3). */
static void ws_queue_pong(struct ws_conn *c) {
  if (c->pong_owed) return; /* one pong at a time; a pong may answer only the latest ping */
  int hl = ws_client_header(c->pong, 10, c->control_len);
  for (int i = 0; i < c->control_len; i++) c->pong[hl + i] = c->control[i] ^ ws_mask[i & 3];
  c->pong_owed = hl + c->control_len;
}

/* Parses server frames in buf; returns the number of messages completed, or -1 on a
 * protocol error or close frame (the connection is then dropped). */
static long ws_scan(struct ws_conn *c, const unsigned char *buf, long n) {
  const unsigned char *p = buf, *end = buf + n;
  long done = 0;
  while (p < end) {
    if (c->payload_left == 0 && (c->hdr_have > 0 || !c->in_control)) {
      /* collect a header: 2 bytes, then 2 or 8 length bytes (a server never masks) */
      while (p < end && c->hdr_have < 2) c->hdr[c->hdr_have++] = *p++;
      if (c->hdr_have < 2) break;
      int len7 = c->hdr[1] & 0x7f, need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
      while (p < end && c->hdr_have < need) c->hdr[c->hdr_have++] = *p++;
      if (c->hdr_have < need) break;
      int fin = c->hdr[0] & 0x80, rsv = c->hdr[0] & 0x70, op = c->hdr[0] & 0x0f;
      long len = len7;
      if (len7 == 126) len = (c->hdr[2] << 8) | c->hdr[3];
      else if (len7 == 127) {
        len = 0;
        for (int b = 2; b < 10; b++) len = (len << 8) | c->hdr[b];
      }
      c->hdr_have = 0;
      /* RSV1 only with permessage-deflate, on the first frame of a message (RFC 7692 6.1) */
      int deflated = rsv == 0x40 && ws_deflate && (op == 1 || op == 2);
      if ((rsv && !deflated) || (c->hdr[1] & 0x80) || len < 0) return -1; /* masked server frame */
      if (op >= 8) {
        if (!fin || len > 125 || (op != 9 && op != 10)) return -1; /* close (8) or bad control */
        c->in_control = 1, c->control_op = op, c->control_len = 0, c->payload_left = len;
        if (op == 9) ws_pings++;
      } else {
        if (op == 0 ? !c->in_msg : (op > 2 || c->in_msg)) return -1;
        if (op != 0) c->msg_op = op, c->msg_len = 0, c->in_msg = 1, c->msg_deflated = deflated;
        else ws_fragmented++;
        c->in_control = 0, c->frame_fin = fin != 0, c->payload_left = len;
      }
    }
    long take = end - p < c->payload_left ? end - p : c->payload_left;
    if (c->in_control) {
      memcpy(c->control + c->control_len, p, take);
      c->control_len += (int)take;
    } else if (c->msg_deflated) {
#ifdef LOADGEN_ZLIB
      if (!ws_inflate_piece(c, p, take, c->frame_fin && take == c->payload_left)) ws_bad_msgs++;
#endif
    } else if (ws_stream) {
      if (take > 0 && !ws_stream_piece_ok(p, c->stream_in, take)) ws_bad_msgs++;
      c->stream_in += take, ws_payload_in += take;
      c->msg_len += take;
    } else if (take > 0) {
      if (!ws_piece_ok(p, c->msg_len, take)) ws_bad_msgs++;
      c->msg_len += take;
    }
    p += take;
    c->payload_left -= take;
    if (c->payload_left == 0) {
      if (c->in_control) {
        if (c->control_op == 9) ws_queue_pong(c);
        c->in_control = 0;
      } else if (c->frame_fin) {
        if (c->msg_op != ws_opcode || (!ws_stream && c->msg_len != ws_msg_size)) ws_bad_msgs++;
        if (c->msg_deflated) ws_compressed++;
        c->in_msg = 0, c->frame_fin = 0;
        done++;
      }
    }
  }
  return done;
}

/*
 * Writes what is owed: frame bytes, and a pong when one is owed, sent between
 * two of our frames (never inside one). Returns 0 (maybe partial) or -1 on a
 * dead socket.
 */
static int ws_flush(int ep, struct ws_conn *c, int idx) {
  for (;;) {
    long off = c->written % ws_frame_len;
    if (c->pong_owed > 0 && off == 0) {
      ssize_t w = sock_write(c->fd, c->pong + c->pong_sent, c->pong_owed);
      if (w < 0) {
        if (errno == EAGAIN) break;
        return -1;
      }
      c->pong_sent += w, c->pong_owed -= w;
      if (c->pong_owed == 0) c->pong_sent = 0;
      continue;
    }
    if (c->pending == 0) break;
    long n = c->pending;
    if (c->pong_owed > 0 && n > ws_frame_len - off) n = ws_frame_len - off; /* finish this frame */
    ssize_t w = sock_write(c->fd, ws_frame_stream + off, n);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    c->pending -= w;
    c->written += w;
  }
  int want = c->pending > 0 || c->pong_owed > 0;
  if (want != c->want_out) {
    set_events(ep, c->fd, EPOLLIN | (want ? EPOLLOUT : 0), (uint64_t)idx);
    c->want_out = want;
  }
  return 0;
}

/* Payload bytes written on all connections (whole frames, plus the payload part of a partial one). */
static long ws_payload_out(const struct ws_conn *conns, int n) {
  long hl = ws_frame_len - ws_msg_size, total = 0;
  for (int i = 0; i < n; i++) {
    long w = conns[i].written, part = w % ws_frame_len - hl;
    total += w / ws_frame_len * ws_msg_size + (part > 0 ? part : 0);
  }
  return total;
}

static int run_ws(const struct opts *o) {
  ws_build_request(o);
  ws_build_frames(o);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct ws_conn *conns = calloc(o->conns, sizeof *conns);
  static unsigned char buf[READ_BUF];
  double t0 = now_s();
  for (int i = 0; i < o->conns; i++) {
    struct ws_conn *c = &conns[i];
    c->fd = connect_wait(ep, t0 + 10);
    long extra = ws_upgrade(c->fd, t0 + 10, (char *)buf, sizeof buf);
    if (extra > 0 && ws_scan(c, buf, extra) < 0) {
      fprintf(stderr, "loadgen: bad frame right after the upgrade\n");
      exit(2);
    }
    c->pending = (long)o->inflight * ws_frame_len;
    c->sent_msgs = o->inflight;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->want_out = 0;
  }
  for (int i = 0; i < o->conns; i++)
    if (ws_flush(ep, &conns[i], i) < 0) die("write");

  struct epoll_event evs[256];
  struct cpu_sample cpu_a, cpu_b;
  double start = now_s(), t_measure = start + o->warmup, t_end = t_measure + o->duration;
  long msgs_a = 0, bytes_a = 0, in_a = 0, out_a = 0;
  int measuring = 0, alive = o->conns;
  while (!stop_requested && alive > 0) {
    double t = now_s();
    if (!measuring && t >= t_measure) {
      measuring = 1;
      msgs_a = ws_msgs_total, bytes_a = ws_bytes_total;
      in_a = ws_payload_in, out_a = ws_payload_out(conns, o->conns);
      sample_cpu(o->pid, &cpu_a);
    }
    if (t >= t_end) break;
    int timeout = (int)(((measuring ? t_end : t_measure) - t) * 1000) + 1;
    int n = epoll_wait(ep, evs, 256, timeout > 100 ? 100 : timeout);
    for (int i = 0; i < n; i++) {
      int idx = (int)evs[i].data.u64;
      struct ws_conn *c = &conns[idx];
      if (c->fd < 0) continue;
      int dead = 0;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t r = sock_read(c->fd, buf, sizeof buf);
        if (r <= 0 && !(r < 0 && errno == EAGAIN)) dead = 1;
        else if (r > 0) {
          long got = ws_scan(c, buf, r);
          if (got < 0) dead = 1;
          else {
            ws_msgs_total += got;
            ws_bytes_total += r;
            if (ws_stream) {
              /* keep at most K * S payload bytes unechoed: whole messages as bytes allow */
              long allowed = c->stream_in / (ws_msg_size ? ws_msg_size : 1) + o->inflight;
              if (allowed > c->sent_msgs) {
                c->pending += (allowed - c->sent_msgs) * ws_frame_len;
                c->sent_msgs = allowed;
              }
            } else {
              c->pending += got * ws_frame_len; /* keep K messages in flight */
              if (c->pending > (long)o->inflight * ws_frame_len)
                c->pending = (long)o->inflight * ws_frame_len;
            }
          }
        }
      }
      if (!dead && ws_flush(ep, c, idx) < 0) dead = 1;
      if (dead) {
        ws_errors++, alive--;
        close(c->fd);
        c->fd = -1;
      }
    }
  }
  if (!measuring) {
    msgs_a = ws_msgs_total, bytes_a = ws_bytes_total;
    in_a = ws_payload_in, out_a = ws_payload_out(conns, o->conns);
    sample_cpu(o->pid, &cpu_a);
  }
  long in_b = ws_payload_in, out_b = ws_payload_out(conns, o->conns);
  sample_cpu(o->pid, &cpu_b);
  double wall = cpu_b.t - cpu_a.t;
  if (wall <= 0) wall = 1e-9;
  for (int i = 0; i < o->conns; i++)
    if (conns[i].fd >= 0) close(conns[i].fd);
  printf("{\"mode\":\"%s\",\"conns\":%d,\"inflight\":%d,\"size\":%ld,\"opcode\":%d,"
         "\"seconds\":%.3f,\"msgs\":%ld,\"msgs_per_s\":%.0f,\"bytes_per_s\":%.0f,"
         "\"bad_msgs\":%ld,\"errors\":%ld,\"pings\":%ld,\"fragments\":%ld,",
         o->mode, o->conns, o->inflight, ws_msg_size, ws_opcode, wall, ws_msgs_total - msgs_a,
         (ws_msgs_total - msgs_a) / wall, (ws_bytes_total - bytes_a) / wall, ws_bad_msgs,
         ws_errors, ws_pings, ws_fragmented);
  if (ws_deflate) printf("\"compressed\":%ld,", ws_compressed);
  if (ws_stream)
    printf("\"payload_in_per_s\":%.0f,\"payload_out_per_s\":%.0f,", (in_b - in_a) / wall,
           (out_b - out_a) / wall);
  print_cpu(&cpu_a, &cpu_b);
  printf("}\n");
  return ws_errors || ws_bad_msgs || ws_msgs_total == 0 ? 1 : 0;
}

/* Raises RLIMIT_NOFILE to its hard limit; returns how many of `count` connections fit. */
static int ws_raise_nofile(int count, struct rlimit *rl) {
  getrlimit(RLIMIT_NOFILE, rl);
  long before = (long)rl->rlim_cur;
  rl->rlim_cur = rl->rlim_max;
  if (setrlimit(RLIMIT_NOFILE, rl) < 0) die("setrlimit");
  fprintf(stderr, "loadgen: RLIMIT_NOFILE raised from %ld to %ld\n", before, (long)rl->rlim_cur);
  if ((rlim_t)count + 32 > rl->rlim_cur) {
    count = (int)rl->rlim_cur - 32;
    fprintf(stderr, "loadgen: only %d connections fit under RLIMIT_NOFILE %ld\n", count,
            (long)rl->rlim_cur);
  }
  return count;
}

/* ws-idle connection states */
enum { WSI_NONE, WSI_CONNECTING, WSI_UPGRADING, WSI_HELD, WSI_DONE };

static int run_ws_idle(const struct opts *o) {
  ws_build_request(o);
  struct rlimit rl;
  int count = ws_raise_nofile(o->count, &rl);
  static const char status[] = "HTTP/1.1 101";
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int *fds = malloc(sizeof(int) * count);
  unsigned char *state = calloc(count, 1);
  unsigned char *seen = calloc(count, 1);  /* status-line bytes matched, up to 12 */
  unsigned char *crlf = calloc(count, 1);  /* progress through "\r\n\r\n" */
  int started = 0, pending = 0, ok = 0, failed = 0, refused = 0, closed_by_server = 0;
  int first_errno = 0, holding = 0;
  struct epoll_event evs[512];
  static unsigned char buf[READ_BUF];
  double t0 = now_s(), deadline = t0 + 60, connect_s = 0, t_end = 0;

  while (!stop_requested) {
    if (!holding) {
      while (started < count && pending < o->max_pending) {
        int fd = start_connect();
        if (fd < 0) {
          if (!first_errno) first_errno = errno;
          failed++, state[started] = WSI_DONE, fds[started++] = -1;
          continue;
        }
        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)started};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        state[started] = WSI_CONNECTING, fds[started++] = fd, pending++;
      }
      if ((started == count && pending == 0) || now_s() > deadline) {
        for (int i = 0; i < started; i++) /* handshakes still unfinished at the deadline */
          if (state[i] == WSI_CONNECTING || state[i] == WSI_UPGRADING)
            failed++, state[i] = WSI_DONE, close(fds[i]);
        holding = 1;
        connect_s = now_s() - t0;
        t_end = now_s() + o->hold;
        fprintf(stderr,
                "loadgen: ws-idle: %d upgraded, %d failed (%d refused) in %.2f s%s%s; holding %.0f s\n",
                ok, failed, refused, connect_s, first_errno ? ", first error: " : "",
                first_errno ? strerror(first_errno) : "", o->hold);
        printf("{\"mode\":\"ws-idle\",\"phase\":\"holding\",\"upgraded\":%d,\"failed\":%d,"
               "\"connect_seconds\":%.2f}\n",
               ok, failed, connect_s);
      }
    } else if (now_s() >= t_end) break;
    int n = epoll_wait(ep, evs, 512, 100);
    for (int i = 0; i < n; i++) {
      int idx = (int)evs[i].data.u64, fd = fds[idx];
      if (state[idx] == WSI_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (!err && write(fd, ws_request, ws_request_len) != ws_request_len)
          err = errno ? errno : EIO; /* a fresh socket takes a small request whole */
        if (err) {
          if (!first_errno) first_errno = err;
          failed++, pending--, state[idx] = WSI_DONE;
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
          close(fd);
          continue;
        }
        state[idx] = WSI_UPGRADING;
        set_events(ep, fd, EPOLLIN | EPOLLRDHUP, (uint64_t)idx);
        continue;
      }
      if (state[idx] != WSI_UPGRADING && state[idx] != WSI_HELD) continue;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EAGAIN) continue;
      int bad = r <= 0;
      if (!bad && state[idx] == WSI_UPGRADING) {
        for (ssize_t k = 0; k < r && state[idx] == WSI_UPGRADING; k++) {
          unsigned char b = buf[k];
          if (seen[idx] < sizeof status - 1) {
            if (b != (unsigned char)status[seen[idx]++]) {
              bad = 1, refused++;
              break;
            }
          }
          unsigned char m = crlf[idx];
          crlf[idx] = b == '\r' ? (m == 2 ? 3 : 1) : (b == '\n' && (m == 1 || m == 3)) ? m + 1 : 0;
          if (crlf[idx] == 4) state[idx] = WSI_HELD, ok++, pending--; /* later bytes: frames, ignored */
        }
        if (bad) failed++, pending--;
      } else if (bad) closed_by_server++; /* a held connection: EOF or reset is a loss */
      if (bad) {
        state[idx] = WSI_DONE;
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
      }
    }
  }
  if (!holding) connect_s = now_s() - t0;
  double held = holding ? now_s() - t0 - connect_s : 0;
  for (int i = 0; i < started; i++)
    if (state[i] != WSI_DONE) close(fds[i]);
  printf("{\"mode\":\"ws-idle\",\"requested\":%d,\"upgraded\":%d,\"failed\":%d,\"refused\":%d,"
         "\"closed_by_server\":%d,\"connect_seconds\":%.2f,\"held_seconds\":%.1f,"
         "\"nofile_limit\":%ld}\n",
         o->count, ok, failed, refused, closed_by_server, connect_s, held, (long)rl.rlim_cur);
  return ok == o->count && closed_by_server == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  struct opts o = parse_opts(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  setvbuf(stdout, NULL, _IOLBF, 0);
  resolve(o.host, o.port);
  if (!strcmp(o.mode, "lines")) return run_lines(&o);
  if (!strcmp(o.mode, "bulk")) return run_bulk(&o);
  if (!strcmp(o.mode, "idle")) return run_idle(&o);
  if (!strcmp(o.mode, "ws-small") || !strcmp(o.mode, "ws-large")) return run_ws(&o);
  if (!strcmp(o.mode, "ws-stream")) {
    ws_stream = 1;
    return run_ws(&o);
  }
  if (!strcmp(o.mode, "ws-deflate")) {
#ifdef LOADGEN_ZLIB
    ws_deflate = 1;
    return run_ws(&o);
#else
    fprintf(stderr, "loadgen: ws-deflate needs a build with -DLOADGEN_ZLIB ... -lz\n");
    return 2;
#endif
  }
  if (!strcmp(o.mode, "ws-idle")) return run_ws_idle(&o);
  usage();
  return 2;
}
