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
 * With --pid, the CPU time of that process (all threads, /proc/PID/stat) and
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
};

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen lines|bulk|idle --port P [--host H] [--conns N] [--inflight K]\n"
          "               [--duration S] [--warmup S] [--pid PID] [--block B] [--window B]\n"
          "               [--count N] [--hold S] [--max-pending N]\n");
  exit(2);
}

static struct opts parse_opts(int argc, char **argv) {
  struct opts o = {NULL, "127.0.0.1", 0, 50, 16, 10000, 256, 0, 5, 1, 30, 65536, 1 << 20};
  if (argc < 2) usage();
  o.mode = argv[1];
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
#ifdef LOADGEN_TLS
    else if (!strcmp(k, "--tls")) tls_sni = v;
#endif
    else usage();
  }
  if (o.port <= 0 || o.port > 65535 || o.conns < 1 || o.inflight < 1 || o.count < 1 ||
      o.max_pending < 1 || o.block < 1 || o.block > READ_BUF || o.window < o.block ||
      o.duration <= 0 || o.warmup < 0)
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
  int ntasks;
  int tid[MAX_TASKS];
  long task_ticks[MAX_TASKS];
};

/* Reads utime+stime (fields 14 and 15) from a /proc stat file; -1 if unreadable. */
static long stat_ticks(const char *path) {
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
  s->ntasks = 0;
  if (!pid) return;
  char path[128];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  s->proc_ticks = stat_ticks(path);
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) && s->ntasks < MAX_TASKS) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char tpath[300];
    snprintf(tpath, sizeof tpath, "/proc/%d/task/%s/stat", pid, e->d_name);
    long t = stat_ticks(tpath);
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
  printf(",\"server_cpu_pct\":%.1f,\"server_busiest_thread_pct\":%.1f,\"other_cpu_pct\":%.1f",
         server, busiest / hz / wall * 100, host - self - server);
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
  usage();
  return 2;
}
