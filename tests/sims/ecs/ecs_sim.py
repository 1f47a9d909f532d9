#!/usr/bin/python3
"""A simulator of Amazon ECS (Fargate), CloudWatch Logs and ECR's
GetAuthorizationToken on loopback, strict about AWS's API:

- every request's SigV4 signature is recomputed with botocore (sigv4.py);
- every body is validated against the AWS SDK models (models.py), plus the
  rules ECS applies to Fargate task definitions and RunTask (ecs_rules.py);
- every task is a real local process (tasks.py);
- faults can be injected, and counters read, through /_sim/ (see control());
  POST /_sim/faults {"status": {"DescribeTasks": [429, 7, 1]}} answers the
  next 1 DescribeTasks with HTTP 429 and "Retry-After: 7".

Usage: ecs_sim.py --port-file F --entrypoint PATH [--access-key K --secret-key S
       [--session-token T]] [--region R] [--cluster NAME] [--path-prepend DIR]
       [--throttle ACTION=N] [--delay ACTION=MS] [--run-failure REASON=N]
       [--pending-ms MS]"""
import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ecs_rules  # noqa: E402
import models  # noqa: E402
import sigv4  # noqa: E402
import tasks  # noqa: E402

ACCOUNT = "123456789012"


class AwsError(Exception):
    def __init__(self, status, kind, message, retry_after=None):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.retry_after = retry_after


class Faults:
    """Injected faults, each for the next N calls of an action."""

    def __init__(self):
        self.lock = threading.Lock()
        self.throttle = {}  # action -> n
        self.delay = {}  # action -> [ms, n (-1: always)]
        self.deny = {}  # action -> n
        self.server_error = {}  # action -> n
        self.run_failures = []  # [reason, n]
        self.status = {}  # action -> [HTTP status, Retry-After seconds or None, n]

    def take_status(self, action):
        """The [status, retry_after] to answer the next call of action, or None."""
        with self.lock:
            s = self.status.get(action)
            if not s or s[2] <= 0:
                return None
            s[2] -= 1
            return s[:2]

    def take(self, table, action):
        with self.lock:
            n = table.get(action, 0)
            if n:
                table[action] = n - 1
                return True
            return False

    def take_delay(self, action):
        with self.lock:
            d = self.delay.get(action)
            if not d or d[1] == 0:
                return 0
            if d[1] > 0:
                d[1] -= 1
            return d[0]

    def take_run_failure(self):
        with self.lock:
            for f in self.run_failures:
                if f[1] > 0:
                    f[1] -= 1
                    return f[0]
            return None


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = {}
        self.throttled = 0
        self.signature_mismatches = 0
        self.signature_errors = []
        self.model_violations = 0
        self.violations = []
        self.client_errors = []
        self.describe_sizes = []  # [time, n] per DescribeTasks call
        self.tasks_started = 0

    def snapshot(self):
        with self.lock:
            return {
                "calls": dict(self.calls),
                "throttled": self.throttled,
                "signature_mismatches": self.signature_mismatches,
                "signature_errors": list(self.signature_errors[-20:]),
                "model_violations": self.model_violations,
                "violations": list(self.violations[-20:]),
                "client_errors": list(self.client_errors[-50:]),
                "describe_sizes": list(self.describe_sizes),
                "tasks_started": self.tasks_started,
            }


class Sim:
    def __init__(self, args):
        self.args = args
        self.region = args.region
        self.models = models.load_all()
        self.by_prefix = {m.target_prefix: (svc, m) for svc, m in self.models.items()}
        self.keys = {args.access_key: (args.secret_key, args.session_token)}
        self.faults = Faults()
        self.counters = Counters()
        self.logs = tasks.LogStore()
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": os.environ.get("HOME", "/root")}
        if args.path_prepend:
            base_env["PATH"] = args.path_prepend + ":" + base_env["PATH"]
        self.runner = tasks.Runner(args.entrypoint, base_env, self.logs, args.pending_ms)
        self.lock = threading.Lock()
        self.clusters = {c: "arn:aws:ecs:%s:%s:cluster/%s" % (self.region, ACCOUNT, c)
                         for c in args.cluster}
        self.task_defs = {}  # arn -> td
        self.task_def_tags = {}  # arn -> [tag]
        self.revisions = {}  # family -> last revision
        self.tasks = {}  # arn -> Task
        self.tokens = {}  # clientToken -> [arn]
        self.run_lock = threading.Lock()  # RunTask's token check and creation
        for spec in args.throttle:
            a, n = spec.split("=")
            self.faults.throttle[a] = int(n)
        for spec in args.delay:
            a, ms = spec.split("=")
            self.faults.delay[a] = [int(ms), -1]
        for spec in args.run_failure:
            r, n = spec.rsplit("=", 1)
            self.faults.run_failures.append([r, int(n)])

    # -- request entry ----------------------------------------------------
    def handle_aws(self, handler, body):
        headers = {k.lower(): v for k, v in handler.headers.items()}
        target = headers.get("x-amz-target", "")
        prefix, _, action = target.partition(".")
        if prefix not in self.by_prefix:
            raise AwsError(400, "UnknownOperationException", "unknown target %r" % target)
        svc, model = self.by_prefix[prefix]
        with self.counters.lock:
            self.counters.calls[action] = self.counters.calls.get(action, 0) + 1
        if headers.get("content-type") != "application/x-amz-json-1.1":
            self.violation("%s: Content-Type %r" % (action, headers.get("content-type")))
            raise AwsError(400, "SerializationException",
                           "Content-Type must be application/x-amz-json-1.1")
        signing = "ecr" if svc == "ecr" else svc
        try:
            sigv4.verify("POST", handler.path, headers, body, signing, self.region, self.keys)
        except sigv4.SignatureError as e:
            with self.counters.lock:
                self.counters.signature_mismatches += 1
                self.counters.signature_errors.append("%s: %s" % (action, e.message[:300]))
            raise AwsError(e.status, e.kind, e.message)
        if not model.has(action):
            raise AwsError(400, "UnknownOperationException", "unknown operation " + action)
        try:
            req = json.loads(body.decode("utf-8")) if body else {}
        except ValueError as e:
            self.violation("%s: body is not JSON: %s" % (action, e))
            raise AwsError(400, "SerializationException", "body is not JSON: %s" % e)
        try:
            model.validate(action, req)
        except models.ModelError as e:
            self.violation("%s: %s" % (action, e.message))
            raise AwsError(400, e.kind, e.message)
        status = self.faults.take_status(action)
        if status:
            with self.counters.lock:
                self.counters.throttled += 1
            raise AwsError(status[0], "ThrottlingException", "Rate exceeded", status[1])
        if self.faults.take(self.faults.throttle, action):
            with self.counters.lock:
                self.counters.throttled += 1
            raise AwsError(400, "ThrottlingException", "Rate exceeded")
        if self.faults.take(self.faults.deny, action):
            raise AwsError(400, "AccessDeniedException",
                           "User: arn:aws:sts::%s:assumed-role/multinode-control-plane/ctl is "
                           "not authorized to perform: %s:%s on resource: * because no "
                           "identity-based policy allows the %s:%s action" %
                           (ACCOUNT, signing, action, signing, action))
        if self.faults.take(self.faults.server_error, action):
            raise AwsError(500, "ServerException", "Service unavailable, try again")
        fn = getattr(self, "%s_%s" % (svc, action), None)
        if fn is None:
            raise AwsError(400, "UnsupportedOperationException",
                           "the simulator does not implement " + action)
        try:
            out = fn(req)
        except ecs_rules.RuleError as e:
            raise AwsError(400, e.kind, e.message)
        ms = self.faults.take_delay(action)
        if ms:
            time.sleep(ms / 1000.0)
        return out

    def violation(self, text):
        with self.counters.lock:
            self.counters.model_violations += 1
            self.counters.violations.append(text)

    # -- ECS --------------------------------------------------------------
    def cluster_arn(self, name):
        name = name or "default"
        for n, arn in self.clusters.items():
            if name in (n, arn):
                return arn
        raise AwsError(400, "ClusterNotFoundException", "Cluster not found.")

    def ecs_RegisterTaskDefinition(self, req):
        ecs_rules.check_task_definition(req)
        with self.lock:
            family = req["family"]
            rev = self.revisions.get(family, 0) + 1
            self.revisions[family] = rev
            arn = "arn:aws:ecs:%s:%s:task-definition/%s:%d" % (self.region, ACCOUNT, family, rev)
            td = dict(req)
            td.pop("tags", None)
            td.update({"taskDefinitionArn": arn, "revision": rev, "status": "ACTIVE",
                       "compatibilities": ["EC2", "FARGATE"], "registeredAt": time.time()})
            self.task_defs[arn] = td
            self.task_def_tags[arn] = list(req.get("tags", []))
        return {"taskDefinition": td, "tags": req.get("tags", [])}

    def ecs_ListTaskDefinitions(self, req):
        status = req.get("status", "ACTIVE")
        n = req.get("maxResults", 100)
        if not 1 <= n <= 100:
            raise AwsError(400, "InvalidParameterException",
                           "maxResults must be between 1 and 100.")
        with self.lock:
            tds = sorted(self.task_defs.values(), key=lambda t: (t["family"], t["revision"]),
                         reverse=req.get("sort", "ASC") == "DESC")
            arns = [t["taskDefinitionArn"] for t in tds if t["status"] == status and
                    ("familyPrefix" not in req or t["family"] == req["familyPrefix"])]
        tok = req.get("nextToken")
        if tok is not None and not tok.isdigit():
            raise AwsError(400, "InvalidParameterException", "Invalid nextToken.")
        start = int(tok) if tok else 0
        out = {"taskDefinitionArns": arns[start:start + n]}
        if start + n < len(arns):
            out["nextToken"] = str(start + n)
        return out

    def ecs_DescribeTaskDefinition(self, req):
        td = self.find_task_def(req["taskDefinition"])
        out = {"taskDefinition": td}
        if "TAGS" in req.get("include", []):
            with self.lock:
                out["tags"] = list(self.task_def_tags.get(td["taskDefinitionArn"], []))
        return out

    def find_task_def(self, ref):
        with self.lock:
            if ref in self.task_defs:
                return self.task_defs[ref]
            fam, _, rev = ref.rpartition(":") if ref.count(":") else (ref, "", "")
            if rev.isdigit() and not ref.startswith("arn:"):
                arn = "arn:aws:ecs:%s:%s:task-definition/%s:%s" % (self.region, ACCOUNT, fam, rev)
                if arn in self.task_defs:
                    return self.task_defs[arn]
            if not ref.startswith("arn:") and ref in self.revisions:
                arn = "arn:aws:ecs:%s:%s:task-definition/%s:%d" % (
                    self.region, ACCOUNT, ref, self.revisions[ref])
                return self.task_defs[arn]
        raise AwsError(400, "ClientException", "Unable to describe task definition.")

    def ecs_RunTask(self, req):
        cluster = self.cluster_arn(req.get("cluster"))
        td = self.find_task_def(req["taskDefinition"])
        ecs_rules.check_run_task(req, td)
        token = req.get("clientToken")
        # one RunTask at a time: the same clientToken sent twice at once
        # still starts one task, as in ECS
        with self.run_lock:
            with self.lock:
                if token and token in self.tokens:
                    return {"tasks": [self.describe(self.tasks[a]) for a in self.tokens[token]],
                            "failures": []}
            reason = self.faults.take_run_failure()
            if reason:
                return {"tasks": [], "failures": [{"arn": cluster, "reason": reason}]}
            created = []
            for _ in range(req.get("count", 1)):
                created.append(self.create_task(cluster, td, req))
            with self.lock:
                if token:
                    self.tokens[token] = [t.arn for t in created]
        for t in created:
            self.runner.start(t)
        return {"tasks": [self.describe(t) for t in created], "failures": []}

    def create_task(self, cluster, td, req):
        c = td["containerDefinitions"][0]
        over = {}
        for o in req.get("overrides", {}).get("containerOverrides", []):
            if o.get("name") == c["name"]:
                over = o
        env = {e["name"]: e.get("value", "") for e in c.get("environment", [])}
        env.update({e["name"]: e.get("value", "") for e in over.get("environment", [])})
        argv = over.get("command", c.get("command", []))
        opts = c.get("logConfiguration", {}).get("options", {})
        task_id = uuid.uuid4().hex
        arn = "arn:aws:ecs:%s:%s:task/%s/%s" % (self.region, ACCOUNT,
                                                cluster.rsplit("/", 1)[1], task_id)
        stream = "%s/%s/%s" % (opts.get("awslogs-stream-prefix"), c["name"], task_id)
        t = tasks.Task(arn, task_id, cluster, td, req, env, argv,
                       (opts.get("awslogs-group"), stream))
        with self.lock:
            self.tasks[arn] = t
        with self.counters.lock:
            self.counters.tasks_started += 1
        return t

    def describe(self, t, with_tags=False):
        c = t.td["containerDefinitions"][0]
        container = {"containerArn": "arn:aws:ecs:%s:%s:container/%s" % (
            self.region, ACCOUNT, uuid.uuid5(uuid.NAMESPACE_URL, t.arn)),
            "taskArn": t.arn, "name": c["name"], "image": c["image"],
            "lastStatus": t.last_status, "cpu": "0"}
        if t.exit_code is not None:
            container["exitCode"] = t.exit_code
        if t.container_reason:
            container["reason"] = t.container_reason
        d = {"taskArn": t.arn, "clusterArn": t.cluster_arn,
             "taskDefinitionArn": t.td["taskDefinitionArn"], "lastStatus": t.last_status,
             "desiredStatus": t.desired_status, "launchType": t.request.get("launchType",
                                                                            "FARGATE"),
             "cpu": t.td.get("cpu"), "memory": t.td.get("memory"), "createdAt": t.created,
             "startedBy": t.request.get("startedBy", ""), "containers": [container],
             "overrides": t.request.get("overrides", {}), "version": 1}
        for k, v in (("startedAt", t.started), ("stoppingAt", t.stopping),
                     ("stoppedAt", t.stopped)):
            if v:
                d[k] = v
        if t.stopped_reason and t.last_status == "STOPPED":
            d["stoppedReason"] = t.stopped_reason
            d["stopCode"] = t.stop_code
        if with_tags:
            d["tags"] = t.request.get("tags", [])
        return d

    def ecs_DescribeTasks(self, req):
        self.cluster_arn(req.get("cluster"))
        ecs_rules.check_describe_tasks(req)
        with self.counters.lock:
            self.counters.describe_sizes.append([time.time(), len(req["tasks"])])
        found, failures = [], []
        tags = "TAGS" in req.get("include", [])
        for ref in req["tasks"]:
            with self.lock:
                t = self.tasks.get(ref) or next(
                    (x for x in self.tasks.values() if x.id == ref), None)
            if t is None or t.missing:
                failures.append({"arn": ref, "reason": "MISSING"})
            else:
                found.append(self.describe(t, tags))
        return {"tasks": found, "failures": failures}

    def find_task(self, cluster, ref):
        with self.lock:
            t = self.tasks.get(ref) or next((x for x in self.tasks.values() if x.id == ref), None)
        if t is None or t.missing or t.cluster_arn != cluster:
            raise AwsError(400, "InvalidParameterException", "The referenced task was not found.")
        return t

    def ecs_StopTask(self, req):
        cluster = self.cluster_arn(req.get("cluster"))
        ecs_rules.check_stop_task(req)
        t = self.find_task(cluster, req["task"])
        stop_timeout = t.td["containerDefinitions"][0].get("stopTimeout", 30)
        self.runner.stop(t, req.get("reason"), stop_timeout)
        return {"task": self.describe(t)}

    def ecs_ListTasks(self, req):
        cluster = self.cluster_arn(req.get("cluster"))
        ecs_rules.check_list_tasks(req)
        want = req.get("desiredStatus", "RUNNING")
        with self.lock:
            arns = [t.arn for t in sorted(self.tasks.values(), key=lambda x: x.created)
                    if t.cluster_arn == cluster and not t.missing and t.desired_status == want and
                    ("startedBy" not in req or t.request.get("startedBy") == req["startedBy"]) and
                    ("family" not in req or t.td["family"] == req["family"])]
        start = int(req["nextToken"]) if req.get("nextToken", "").isdigit() else 0
        n = req.get("maxResults", 100)
        out = {"taskArns": arns[start:start + n]}
        if start + n < len(arns):
            out["nextToken"] = str(start + n)
        return out

    # -- CloudWatch Logs ----------------------------------------------------
    def logs_GetLogEvents(self, req):
        group = req.get("logGroupName")
        if not group:
            raise AwsError(400, "InvalidParameterException",
                           "Either logGroupName or logGroupIdentifier must be specified")
        events = self.logs.events(group, req["logStreamName"])
        if events is None:
            raise AwsError(400, "ResourceNotFoundException",
                           "The specified log stream does not exist.")
        start = 0
        tok = req.get("nextToken")
        if tok is not None:
            ok = len(tok) == 22 and tok[:2] in ("f/", "b/") and tok[2:].isdigit()
            if not ok or int(tok[2:]) > len(events):
                raise AwsError(400, "InvalidParameterException",
                               "The specified nextToken is invalid.")
            start = int(tok[2:])
        if not req.get("startFromHead", False) and tok is None:
            start = max(0, len(events) - req.get("limit", 10000))
        limit = req.get("limit", 10000)
        if limit > 10000 or limit < 1:
            raise AwsError(400, "InvalidParameterException", "limit must be 1 to 10000")
        page = events[start:start + limit]
        return {"events": page, "nextForwardToken": "f/%020d" % (start + len(page)),
                "nextBackwardToken": "b/%020d" % start}

    # -- ECR ----------------------------------------------------------------
    def ecr_GetAuthorizationToken(self, req):
        # --ecr-registry HOST:PORT --ecr-password P: a login to a real
        # registry (user AWS, as ECR's), so that a push with it can be tested
        if self.args.ecr_registry:
            password = self.args.ecr_password.encode()
            endpoint = "https://" + self.args.ecr_registry
        else:
            password = b"sim-password-" + uuid.uuid4().hex.encode()
            endpoint = "https://%s.dkr.ecr.%s.amazonaws.com" % (ACCOUNT, self.region)
        token = base64.b64encode(b"AWS:" + password).decode()
        return {"authorizationData": [{
            "authorizationToken": token, "expiresAt": time.time() + 12 * 3600,
            "proxyEndpoint": endpoint}]}

    # -- control endpoint ---------------------------------------------------
    def control(self, method, path, body):
        if method == "GET" and path == "/_sim/counters":
            return self.counters.snapshot()
        if method == "GET" and path == "/_sim/tasks":
            with self.lock:
                ts = list(self.tasks.values())
            return {"tasks": [{"taskArn": t.arn, "id": t.id, "lastStatus": t.last_status,
                               "desiredStatus": t.desired_status, "exitCode": t.exit_code,
                               "missing": t.missing, "alive": t.alive(),
                               "pid": t.proc.pid if t.proc else None,
                               "invocationId": t.invocation_id(),
                               "executionId": t.env.get("MULTINODE_EXECUTION_ID"),
                               "clientToken": t.request.get("clientToken"),
                               "startedBy": t.request.get("startedBy"),
                               "logStream": t.log_stream} for t in ts]}
        if method == "GET" and path.startswith("/_sim/log?"):
            q = urllib.parse.parse_qs(path.split("?", 1)[1])
            ev = self.logs.events(q.get("group", [""])[0], q.get("stream", [""])[0])
            if ev is None:
                raise AwsError(404, "ResourceNotFoundException", "no such log stream")
            return {"lines": [e["message"] for e in ev]}
        req = json.loads(body or b"{}")
        if method == "POST" and path == "/_sim/faults":
            f = self.faults
            with f.lock:
                for a, n in req.get("throttle", {}).items():
                    f.throttle[a] = int(n)
                for a, n in req.get("deny", {}).items():
                    f.deny[a] = int(n)
                for a, n in req.get("server_error", {}).items():
                    f.server_error[a] = int(n)
                for a, d in req.get("delay_ms", {}).items():
                    f.delay[a] = [int(d[0]), int(d[1])] if isinstance(d, list) else [int(d), -1]
                for r, n in req.get("run_failures", {}).items():
                    f.run_failures.append([r, int(n)])
                for a, s in req.get("status", {}).items():  # [status, retry_after, n]
                    f.status[a] = [int(s[0]), s[1], int(s[2])]
            return {"ok": True}
        if method == "POST" and path in ("/_sim/kill", "/_sim/missing"):
            hit = self.select(req)
            for t in hit:
                if path == "/_sim/missing":
                    t.missing = True
                self.runner.kill(t)
            return {"tasks": [t.arn for t in hit]}
        raise AwsError(404, "NotFound", "no control path %s %s" % (method, path))

    def select(self, req):
        """Running tasks by invocation_id, execution_id or task arn."""
        with self.lock:
            ts = list(self.tasks.values())
        return [t for t in ts if t.last_status != "STOPPED" and (
            t.invocation_id() == req.get("invocation_id") or
            t.env.get("MULTINODE_EXECUTION_ID") == req.get("execution_id") or
            t.arn == req.get("task"))]


def make_handler(sim):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if sim.args.verbose:
                sys.stderr.write("ecs-sim: " + (fmt % args) + "\n")

        def reply(self, status, obj, aws=True, retry_after=None):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type",
                             "application/x-amz-json-1.1" if aws else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            if aws and status != 200:
                self.send_header("x-amzn-ErrorType", obj.get("__type", ""))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            try:
                self.reply(200, sim.control("GET", self.path, None), aws=False)
            except AwsError as e:
                self.reply(e.status, {"message": e.message}, aws=False)

        def do_POST(self):
            body = self.body()
            if self.path.startswith("/_sim/"):
                try:
                    self.reply(200, sim.control("POST", self.path, body), aws=False)
                except AwsError as e:
                    self.reply(e.status, {"message": e.message}, aws=False)
                return
            try:
                self.reply(200, sim.handle_aws(self, body))
            except AwsError as e:
                if e.kind != "ThrottlingException":
                    with sim.counters.lock:
                        sim.counters.client_errors.append("%s: %s" % (e.kind, e.message[:200]))
                self.reply(e.status, {"__type": e.kind, "message": e.message},
                           retry_after=e.retry_after)
            except Exception as e:  # a simulator bug: say so, as a 500
                import traceback
                traceback.print_exc()
                self.reply(500, {"__type": "ServerException", "message": "simulator: %r" % e})

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--region", default="eu-west-2")
    p.add_argument("--cluster", action="append", default=[])
    p.add_argument("--access-key", default="AKIDSIMULATOR0000001")
    p.add_argument("--secret-key", default="simulator/secret/key/0000000000000000000")
    p.add_argument("--session-token", default=None)
    p.add_argument("--entrypoint", required=True)
    p.add_argument("--path-prepend", default="")
    p.add_argument("--pending-ms", type=int, default=0)
    p.add_argument("--throttle", action="append", default=[], metavar="ACTION=N")
    p.add_argument("--delay", action="append", default=[], metavar="ACTION=MS")
    p.add_argument("--run-failure", action="append", default=[], metavar="REASON=N")
    p.add_argument("--ecr-registry", default=None, metavar="HOST:PORT",
                   help="GetAuthorizationToken answers a login to this registry")
    p.add_argument("--ecr-password", default="", help="the password of user AWS there")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if not args.cluster:
        args.cluster = ["multinode"]
    sim = Sim(args)

    def stop(signum, frame):  # the tasks' processes end with the simulator
        with sim.lock:
            for t in sim.tasks.values():
                t.signal_group(signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(sim))
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
