#!/usr/bin/python3
"""CPU of multinode-worker per no-op attempt (a benchmark, not a test).

Usage: bench/worker_cpu.py [N] WORKER [WORKER...]

Serves a minimal plain-HTTP stand-in of the API's worker endpoints
(PUT .../start answers an ExecutionInfo, PUT .../finish answers {}) in a
child process, then, N times per given binary, interleaved:
  exec'd   `WORKER true` (as in a container), CPU from wait4()'s rusage
           (the worker and the command it waited for);
  spawned  one launch through `WORKER --spawner` (as the local provider
           does, include/multinode/spawner.h), CPU from the spawner's
           cutime + cstime in /proc (its reaped children: each worker and
           its command), averaged over the N launches.
Prints the medians and p10 (exec'd) or the mean (spawned) next to a bare
`true`. Target: ≤ 2 ms per attempt.
"""
import array, ctypes, http.server, json, multiprocessing, os, socket, statistics, sys, time


class Api(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path.endswith("/start"):
            body = json.dumps({"execution_id": "x", "input": "",
                               "invocation_creation_time": int(time.time()),
                               "execution_spec": {"timeout_seconds": 3600}}).encode()
        else:
            body = b"{}"
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.wfile.flush()


def serve(sock):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api, bind_and_activate=False)
    server.socket = sock
    server.serve_forever()


def cpu_ms(argv, env):
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("error: %s exited with %d" % (argv, os.waitstatus_to_exitcode(status)))
    return (ru.ru_utime + ru.ru_stime) * 1000


class Request(ctypes.Structure):  # struct mn_spawner_request
    _fields_ = [("magic", ctypes.c_uint32), ("argc", ctypes.c_uint32),
                ("envc", ctypes.c_uint32), ("nfds", ctypes.c_uint32),
                ("execution_id", ctypes.c_char * 129), ("flags", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32),
                ("ngroups", ctypes.c_uint32), ("groups", ctypes.c_uint32 * 64),
                ("data_rlimit", ctypes.c_uint64), ("nmasks", ctypes.c_uint32)]


class Spawner:
    """`WORKER --spawner`, driven as plugins/local/zygote.c does."""

    def __init__(self, worker, env):
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.env = env
        self.pid = os.posix_spawn(worker, [worker, "--spawner"], env, file_actions=[
            (os.POSIX_SPAWN_DUP2, theirs.fileno(), 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
        theirs.close()
        self.ctl.recv(64)  # the hello

    def cpu_ms(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) * 1000 / os.sysconf("SC_CLK_TCK")

    def launch(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = os.open(os.devnull, os.O_WRONLY)
        argv = ["multinode-worker", "/bin/true"]
        envp = ["%s=%s" % kv for kv in self.env.items()]
        rq = Request(magic=0x4d4e5350, argc=len(argv), envc=len(envp), nfds=2,
                     execution_id=b"x")
        data = bytes(rq) + b"".join(a.encode() + b"\0" for a in argv + envp)
        self.ctl.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", [theirs.fileno(), log]))])
        theirs.close()
        os.close(log)
        ours.recv(64)  # READY
        ours.send(b"g")
        ours.close()
        exit_ = self.ctl.recv(256)  # struct mn_spawner_exit
        status = int.from_bytes(exit_[8:12], "little", signed=True)
        if status != 0:
            sys.exit("error: a spawned worker ended with status %d" % status)

    def stop(self):
        self.ctl.close()
        os.waitpid(self.pid, 0)


def main():
    args = sys.argv[1:]
    n = int(args.pop(0)) if args and args[0].isdigit() else 300
    if not args:
        sys.exit(__doc__)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = multiprocessing.Process(target=serve, args=(sock,), daemon=True)
    server.start()
    env = dict(os.environ, MULTINODE_API_URL="http://127.0.0.1:%d" % sock.getsockname()[1],
               MULTINODE_API_KEY="bench-key", MULTINODE_PROJECT_NAME="p",
               MULTINODE_VERSION_ID="v", MULTINODE_FUNCTION_NAME="f",
               MULTINODE_INVOCATION_ID="i", MULTINODE_EXECUTION_ID="x")
    true = "/bin/true"
    runs = {w: [] for w in ["true"] + args}
    # MN_BENCH_ONLY=spawned or =exec: one of the two (perf record, or
    # binaries other than the worker)
    only_spawned = os.environ.get("MN_BENCH_ONLY") == "spawned"
    only_exec = os.environ.get("MN_BENCH_ONLY") == "exec"
    spawners = {} if only_exec else {w: Spawner(os.path.abspath(w), env) for w in args}
    spawned = {w: 0.0 for w in args}
    for _ in range(n):
        runs["true"].append(cpu_ms([true], env))
        for w in args:
            if not only_spawned:
                runs[w].append(cpu_ms([os.path.abspath(w), true], env))
            if only_exec:
                continue
            before = spawners[w].cpu_ms()
            spawners[w].launch()
            spawned[w] += spawners[w].cpu_ms() - before
    for sp in spawners.values():
        sp.stop()
    server.terminate()
    print("CPU per no-op attempt (utime+stime)     exec'd: median      p10   spawned: mean")
    for w, xs in runs.items():
        xs.sort()
        print("%-40s %9.2f ms %6.2f ms %9s" % (
            w[-40:], statistics.median(xs) if xs else 0, xs[len(xs) // 10] if xs else 0,
            "%.2f ms" % (spawned[w] / n) if w in spawners else "-"))


if __name__ == "__main__":
    main()
