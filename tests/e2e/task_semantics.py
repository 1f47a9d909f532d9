"""Task semantics on the queue model, one rule per scenario, run side by side
against one daemon (test_task_semantics.sh starts it). Timings come from the
times the server recorded (the *_us fields), never from sleeps here.

usage: task_semantics.py URL KEY WORKDIR
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

URL, KEY, WORK = sys.argv[1:4]
SLACK = 1.5  # seconds a wake-up may come late (a pass, a sanitizer build)
GATE = os.path.join(WORK, "gate")
os.makedirs(GATE, exist_ok=True)
os.chmod(GATE, 0o1777)
BASE = ""
CLI = os.path.join(os.environ["MN_BIN_DIR"], "multinode")


def cli(*args):
    """Runs the CLI against the daemon; its standard output, stripped."""
    env = dict(os.environ, MULTINODE_API_URL=URL, MULTINODE_API_KEY=KEY)
    run = subprocess.run([CLI] + list(args), env=env, capture_output=True, text=True, timeout=60)
    check(run.returncode == 0, "multinode %s: exit %d: %s" % (args, run.returncode, run.stderr))
    return run.stdout.strip()


def cli_start(name, *args):
    return cli("start", name, "--project-name", "ts", "--version-id", BASE.rsplit("/", 1)[1],
               *args)


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method, headers={
        "Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def wait(secs, what, pred):
    deadline = time.monotonic() + secs
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (secs, what))
        time.sleep(0.05)


def gate_cmd():
    """Marks <id>.started, then waits (bounded) for <id>.go."""
    return ("touch {g}/$MULTINODE_INVOCATION_ID.started; i=0; "
            "while [ ! -f {g}/$MULTINODE_INVOCATION_ID.go ] && [ $i -lt 1200 ]; do "
            "sleep 0.05; i=$((i+1)); done").format(g=GATE)


def started(inv_id):
    return os.path.exists(os.path.join(GATE, inv_id + ".started"))


def release(inv_id):
    open(os.path.join(GATE, inv_id + ".go"), "w").close()


def fn(name, cmd, conc=10, retries=0, timeout=60, res=None, exe=None):
    spec = {"function_name": name, "command": ["sh", "-c", cmd],
            "resource_spec": {"virtual_cpus": 0.25, "memory_gbs": 0.5, "max_concurrency": conc},
            "execution_spec": {"max_retries": retries, "timeout_seconds": timeout}}
    spec["resource_spec"].update(res or {})
    spec["execution_spec"].update(exe or {})
    return spec


def start(name, inp="", **extra):
    body = {"input": inp}
    body.update(extra)
    st, j = call("POST", BASE + "/functions/%s/invocations" % name, body)
    check(st == 200, "start %s: HTTP %s %s" % (name, st, j))
    return j["invocation_id"]


def get(name, inv_id):
    st, j = call("GET", BASE + "/functions/%s/invocations/%s" % (name, inv_id))
    check(st == 200, "get %s: HTTP %s %s" % (inv_id, st, j))
    return j


def terminated(name, inv_id, secs=30):
    return wait(secs, "%s to be TERMINATED" % inv_id,
                lambda: (lambda j: j if j["invocation_status"] == "TERMINATED" else None)(
                    get(name, inv_id)))


def secs(a_us, b_us):
    return (a_us - b_us) / 1e6


HB_URL = ('"$MULTINODE_API_URL/projects/$MULTINODE_PROJECT_NAME/versions/$MULTINODE_VERSION_ID'
          '/functions/$MULTINODE_FUNCTION_NAME/invocations/$MULTINODE_INVOCATION_ID'
          '/executions/$MULTINODE_EXECUTION_ID/heartbeat"')
HEARTBEAT = ('in=$(cat); if [ "$in" = beat ]; then i=0; while [ $i -lt 8 ]; do '
             'curl -sf -X PUT -H "Authorization: Bearer $MULTINODE_API_KEY" ' + HB_URL +
             ' >/dev/null || exit 7; sleep 0.5; i=$((i+1)); done; echo ok; '
             'elif [ "$in" = cli ]; then i=0; while [ $i -lt 8 ]; do ' + CLI +
             ' heartbeat || exit 8; sleep 0.5; i=$((i+1)); done; echo ok; else sleep 30; fi')

FUNCTIONS = [
    fn("flaky", "exit 1", retries=3,
       exe={"retry_delay_seconds": 1, "retry_backoff_factor": 2, "retry_max_delay_seconds": 3}),
    fn("slow", "sleep 30", retries=1, exe={"attempt_timeout_seconds": 1}),
    fn("hb", HEARTBEAT, retries=1, exe={"heartbeat_timeout_seconds": 2}),
    fn("qt", gate_cmd(), conc=1, exe={"queue_timeout_seconds": 2}),
    fn("keyed", gate_cmd(), conc=2, res={"max_concurrency_per_key": 1}),
    fn("idem", "cat"),
    fn("refuse", "cat"),
    fn("delayed", "cat", timeout=1),
    fn("prio", 'in=$(cat); if [ "$in" = blocker ]; then %s; fi; echo "$in"' % gate_cmd(),
       conc=1),
]


def backoff():
    """Equal jitter: the n-th retry waits within [cap/2, cap], cap = min(3, 1 * 2^(n-1))."""
    j = terminated("flaky", start("flaky"))
    ex = j["executions"]
    check(len(ex) == 4, "flaky: %d attempts, expected 4" % len(ex))
    for n, cap in enumerate([1, 2, 3], start=1):
        gap = secs(ex[n]["creation_time_us"], ex[n - 1]["last_update_time_us"])
        check(cap / 2 <= gap <= cap + SLACK,
              "retry %d waited %.3f s, expected [%g, %g]" % (n, gap, cap / 2, cap))
    return "retries waited %s s" % ", ".join(
        "%.2f" % secs(ex[n]["creation_time_us"], ex[n - 1]["last_update_time_us"])
        for n in (1, 2, 3))


def attempt_timeout():
    j = terminated("slow", start("slow"))
    ex = j["executions"]
    check(len(ex) == 2, "slow: %d attempts, expected 2 (one retry)" % len(ex))
    for e in ex:
        check(e["outcome"] == "FAILED" and "attempt_timeout_seconds" in (e["error_message"] or ""),
              "slow: attempt %s" % e)
        ran = secs(e["termination_signal_time_us"], e["execution_start_time_us"])
        check(1 <= ran <= 1 + SLACK, "slow: attempt ended after %.3f s, expected 1 s" % ran)
    return "both attempts failed after %.2f, %.2f s" % tuple(
        secs(e["termination_signal_time_us"], e["execution_start_time_us"]) for e in ex)


def heartbeat():
    silent, beat, by_cli = start("hb", "silent"), start("hb", "beat"), start("hb", "cli")
    js = terminated("hb", silent)
    check(len(js["executions"]) == 2, "hb silent: %d attempts" % len(js["executions"]))
    for e in js["executions"]:
        check(e["outcome"] == "FAILED" and "heartbeat" in (e["error_message"] or ""),
              "hb silent: attempt %s" % e)
        quiet = secs(e["termination_signal_time_us"], e["execution_start_time_us"])
        check(2 <= quiet <= 2 + SLACK, "hb silent: failed after %.3f s, expected 2 s" % quiet)
    jb = terminated("hb", beat)
    check([e["outcome"] for e in jb["executions"]] == ["SUCCEEDED"],
          "hb beat: %s" % jb["executions"])
    e = jb["executions"][0]
    ran = secs(e["execution_finish_time_us"], e["execution_start_time_us"])
    check(ran > 3, "hb beat ran %.3f s, expected past the 2 s timeout" % ran)
    jc = terminated("hb", by_cli)
    check([x["outcome"] for x in jc["executions"]] == ["SUCCEEDED"],
          "`multinode heartbeat`: %s" % jc["executions"])
    hb = BASE + "/functions/hb/invocations/%s/executions/%s/heartbeat"
    st, j = call("PUT", hb % (beat, e["execution_id"]))
    check(st == 409 and "finished" in j["detail"], "heartbeat after the end: %s %s" % (st, j))
    st, j = call("PUT", hb % (beat, "exe-none"))
    check(st == 404, "heartbeat of no execution: %s %s" % (st, j))
    return "silent failed twice; heartbeating ran %.2f s and SUCCEEDED" % ran


def queue_timeout():
    for _ in range(3):
        # the function is prepared at its first invocation, which counts against the
        # blocker's own queue timeout: on a loaded machine it may time out first
        blocker = start("qt", "b")
        wait(30, "the qt blocker to start or end", lambda: started(blocker) or get(
            "qt", blocker)["invocation_status"] == "TERMINATED")
        if started(blocker):
            break
        check(get("qt", blocker).get("termination_reason") == "QUEUE_TIMEOUT",
              "qt blocker ended: %s" % get("qt", blocker))
    check(started(blocker), "no qt blocker started")
    q = start("qt", "q")
    j = terminated("qt", q, 15)
    check(j.get("termination_reason") == "QUEUE_TIMEOUT", "qt: %s" % j)
    check(j["executions"] == [], "qt: queued one got an attempt")
    waited = secs(j["last_update_time_us"], j["creation_time_us"])
    check(2 <= waited <= 2 + SLACK, "qt: ended after %.3f s, expected 2 s" % waited)
    release(blocker)
    jb = terminated("qt", blocker)
    check("termination_reason" not in jb, "qt blocker: %s" % jb)
    check([e["outcome"] for e in jb["executions"]] == ["SUCCEEDED"], "qt blocker: %s" % jb)
    return "queued one ended QUEUE_TIMEOUT after %.2f s" % waited


def keys():
    """max_concurrency 2, 1 per key: A1..A4 then B1, B2. The B's never wait for the A's."""
    a = [start("keyed", "a%d" % k, concurrency_key="A") for k in range(4)]
    b = [start("keyed", "b0", concurrency_key="B"), cli_start("keyed", "--input", "b1", "--key", "B")]
    check(get("keyed", a[0]).get("concurrency_key") == "A", "GET shows the concurrency key")
    wait(30, "A1 and B1 to start", lambda: started(a[0]) and started(b[0]))
    for i in a[1:] + b[1:]:
        check(get("keyed", i)["executions"] == [], "%s got an attempt while its key was full" % i)
    release(b[0])
    wait(30, "B2 to start while A1 still runs", lambda: started(b[1]))
    check(not started(a[1]), "A2 started while A1 holds key A")
    for i in a[1:]:
        check(get("keyed", i)["executions"] == [], "%s started while A1 runs" % i)
    for k in range(4):
        release(a[k])
        if k + 1 < 4:
            wait(30, "A%d to start" % (k + 2), lambda k=k: started(a[k + 1]))
    release(b[1])
    infos = [terminated("keyed", i) for i in a + b]
    ex = [j["executions"][0] for j in infos]
    check(all(j["executions"][0]["outcome"] == "SUCCEEDED" for j in infos), "keyed outcomes")
    for k in range(3):
        check(ex[k + 1]["execution_start_time_us"] >= ex[k]["execution_finish_time_us"],
              "A%d overlapped A%d" % (k + 2, k + 1))
    check(ex[5]["execution_start_time_us"] < ex[0]["execution_finish_time_us"],
          "B2 waited for A1")
    return "B2 started %.2f s before A1 ended; A's one at a time in order" % secs(
        ex[0]["execution_finish_time_us"], ex[5]["execution_start_time_us"])


def idempotency():
    body = {"input": "same", "idempotency_key": "k1"}
    path = BASE + "/functions/idem/invocations"
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: call("POST", path, body), range(20)))
    check(all(st == 200 for st, _ in answers), "duplicates: %s" % [st for st, _ in answers])
    ids = {j["invocation_id"] for _, j in answers}
    check(len(ids) == 1, "20 duplicate POSTs made %d invocations" % len(ids))
    st, j = call("POST", path, {"input": "other", "idempotency_key": "k1"})
    check(st == 409 and "idempotency" in j["detail"].lower(), "different input: %s %s" % (st, j))
    st, lst = call("GET", path)
    check(st == 200 and len(lst["invocations"]) == 1,
          "list: %d invocations" % len(lst["invocations"]))
    first = ids.pop()
    check(cli_start("idem", "--input", "same", "--idempotency-key", "k1") == first,
          "multinode start --idempotency-key made another invocation")
    j = terminated("idem", first)
    check(j["idempotency_key"] == "k1", "GET shows the idempotency key")
    st, again = call("POST", path, body)
    check(st == 200 and again["invocation_id"] == first, "after the end: %s %s" % (st, again))
    return "20 concurrent POSTs, one invocation; a different input 409"


def delayed_start():
    at = round(time.time() + 2, 3)
    inv = start("delayed", "d", start_at=at)
    j = get("delayed", inv)
    check(abs(j["start_at"] - at) < 1e-6, "GET start_at %s, set %s" % (j.get("start_at"), at))
    j = terminated("delayed", inv)
    ex = j["executions"]
    check([e["outcome"] for e in ex] == ["SUCCEEDED"], "delayed: %s (timeout_seconds 1 counts "
          "from start_at)" % ex)
    late = ex[0]["creation_time_us"] / 1e6 - at
    check(0 <= late <= SLACK, "first attempt %.3f s after start_at" % late)
    before = time.time()
    by_cli = cli_start("delayed", "--input", "d", "--delay", "1s")
    j = get("delayed", by_cli)
    check(before + 1 <= j["start_at"] <= time.time() + 1, "--delay 1s: start_at %s" % j)
    j = terminated("delayed", by_cli)
    check(j["executions"][0]["creation_time_us"] / 1e6 >= j["start_at"], "--delay respected")
    return "first attempt %.3f s after start_at" % late


def priority():
    blocker = start("prio", "blocker")
    wait(30, "the prio blocker to start", lambda: started(blocker))
    names = ["low", "normal", "high1", "high2"]
    prios = [-5, 0, 10, 10]
    ids = [cli_start("prio", "--input", "low", "--priority", "-5")]
    ids += [start("prio", n, priority=p) for n, p in zip(names[1:], prios[1:])]
    check(get("prio", ids[0])["priority"] == -5 and "priority" not in get("prio", ids[1]),
          "GET shows a priority when set")
    release(blocker)
    infos = [terminated("prio", i) for i in ids]
    order = [n for _, n in sorted(
        (j["executions"][0]["creation_time_us"], n) for j, n in zip(infos, names))]
    check(order == ["high1", "high2", "normal", "low"], "served in order %s" % order)
    return "served %s" % " > ".join(order)


def bad_input():
    path = BASE + "/functions/refuse/invocations"
    for body, field in [({"input": "", "priority": 101}, "priority"),
                        ({"input": "", "priority": "x"}, "priority"),
                        ({"input": "", "start_at": -1}, "start_at"),
                        ({"input": "", "start_at": "soon"}, "start_at"),
                        ({"input": "", "concurrency_key": ""}, "concurrency_key"),
                        ({"input": "", "idempotency_key": "k" * 257}, "idempotency_key")]:
        st, j = call("POST", path, body)
        check(st == 422 and j["detail"][0]["loc"][-1] == field, "%s: %s %s" % (body, st, j))
    for exe, res, field in [({"retry_backoff_factor": 0.5}, {}, "retry_backoff_factor"),
                            ({"attempt_timeout_seconds": 0}, {}, "attempt_timeout_seconds"),
                            ({"retry_delay_seconds": -1}, {}, "retry_delay_seconds"),
                            ({}, {"max_concurrency_per_key": 0}, "max_concurrency_per_key")]:
        st, j = call("POST", "/projects/ts/versions", {
            "default_docker_image": "none", "functions": [fn("f", "true", exe=exe, res=res)]})
        check(st == 422 and j["detail"][0]["loc"][-1] == field, "%s: %s %s" % (field, st, j))
    for args, word in [(["--priority", "101"], "--priority"), (["--priority", "x"], "--priority"),
                       (["--delay", "soon"], "--delay")]:
        env = dict(os.environ, MULTINODE_API_URL=URL, MULTINODE_API_KEY=KEY)
        run = subprocess.run([CLI, "start", "refuse", "--project-name", "ts"] + args, env=env,
                             capture_output=True, text=True, timeout=60)
        check(run.returncode != 0 and word in run.stderr, "multinode start %s: %s %s" % (
            args, run.returncode, run.stderr))
    st, lst = call("GET", path)
    check(lst["invocations"] == [], "a refused request created an invocation")
    return "10 invalid requests refused with 422, 3 invalid CLI starts refused"


def main():
    global BASE
    st, _ = call("PUT", "/projects/ts")
    check(st == 200, "create project: %s" % st)
    st, v = call("POST", "/projects/ts/versions",
                 {"default_docker_image": "none", "functions": FUNCTIONS})
    check(st == 200, "create version: %s %s" % (st, v))
    BASE = "/projects/ts/versions/" + v["version_id"]
    got = {f["function_name"]: f for f in v["functions"]}
    check(got["flaky"]["execution_spec"] == {
        "max_retries": 3, "timeout_seconds": 60, "retry_delay_seconds": 1,
        "retry_backoff_factor": 2, "retry_max_delay_seconds": 3}, "flaky spec %s" % got["flaky"])
    check(got["keyed"]["resource_spec"]["max_concurrency_per_key"] == 1, "keyed spec")
    st, again = call("GET", BASE)
    check(st == 200 and [f["execution_spec"] for f in again["functions"]] ==
          [got[f["function_name"]]["execution_spec"] for f in again["functions"]],
          "GET version shows the specs set")
    rules = [backoff, attempt_timeout, heartbeat, queue_timeout, keys, idempotency,
             delayed_start, priority, bad_input]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(len(rules)) as pool:
        futures = {pool.submit(r): r.__name__ for r in rules}
        for f in concurrent.futures.as_completed(futures):
            try:
                print("ok: %s: %s" % (futures[f], f.result()), flush=True)
            except Exception as e:  # report every rule, then fail
                failed += 1
                print("FAIL: %s: %s" % (futures[f], e), flush=True)
    sys.exit(1 if failed else 0)


main()
