/**
 * Reads the TCP options of a live socket of this process from outside it:
 * Python (Debian's /usr/bin/python3) finds the socket by its two ports in
 * /proc/net/tcp{,6}, takes a copy of its descriptor with pidfd_getfd (Linux
 * 5.6+, needs ptrace rights over this process: root here), and reads the
 * options. No runtime offers getsockopt, so this is how a test checks what
 * setNoDelay and setKeepAlive really did.
 */

import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const PY = "/usr/bin/python3";

const SCRIPT = String.raw`
import ctypes, os, socket, sys, json
pid, lport, rport = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
inode = None
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).read().splitlines()[1:]:
        f = line.split()
        if int(f[1].rsplit(":", 1)[1], 16) == lport and int(f[2].rsplit(":", 1)[1], 16) == rport:
            inode = f[9]
if inode is None:
    sys.exit("no socket %d -> %d" % (lport, rport))
target = None
for name in os.listdir("/proc/%d/fd" % pid):
    try:
        if os.readlink("/proc/%d/fd/%s" % (pid, name)) == "socket:[%s]" % inode:
            target = int(name)
    except OSError:
        pass
if target is None:
    sys.exit("socket inode %s not found among the fds of %d" % (inode, pid))
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, pid, 0)
fd = libc.syscall(438, pidfd, target, 0) if pidfd >= 0 else -1
if fd < 0:
    sys.exit("pidfd_getfd: " + os.strerror(ctypes.get_errno()))
s = socket.socket(fileno=fd)
out = {
    "noDelay": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
    "keepAlive": s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0,
    "keepIdle": s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
}
s.close()
os.close(pidfd)
print(json.dumps(out))
`;

/** TCP options of one socket. */
export interface SockOpts {
  noDelay: boolean;
  keepAlive: boolean;
  /** Seconds of idle before the first keep-alive probe (TCP_KEEPIDLE). */
  keepIdle: number;
}

let usable: string | undefined | null = null;

/** Why the probe cannot run here (undefined when it can): for a test's `skip`. */
export function sockoptUnavailable(): string | undefined {
  if (usable !== null) return usable;
  if (!existsSync(PY)) return usable = "/usr/bin/python3 is missing";
  const pid = (globalThis as { process?: { pid: number } }).process?.pid;
  if (pid === undefined) return usable = "no process.pid";
  // pidfd_getfd on this very process: denied without ptrace rights.
  const r = spawnSync(PY, [
    "-c",
    `import ctypes,sys;l=ctypes.CDLL(None,use_errno=True);p=l.syscall(434,${pid},0);` +
    `sys.exit(0 if p>=0 and l.syscall(438,p,0,0)>=0 else 1)`,
  ]);
  return usable = r.status === 0 ? undefined : "pidfd_getfd is not permitted here";
}

/**
 * The options of this process's TCP socket whose local port is `localPort`
 * and remote port `remotePort`.
 */
export function sockopts(localPort: number, remotePort: number): Promise<SockOpts> {
  const pid = (globalThis as unknown as { process: { pid: number } }).process.pid;
  return new Promise((resolve, reject) => {
    execFile(PY, ["-c", SCRIPT, String(pid), String(localPort), String(remotePort)], {
      timeout: 10_000,
    }, (error, stdout, stderr) => {
      if (error) reject(new Error(`sockopt probe: ${String(stderr).trim() || error.message}`));
      else resolve(JSON.parse(String(stdout)) as SockOpts);
    });
  });
}
