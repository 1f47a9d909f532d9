"""Fargate tasks as real local processes.

A task runs ENTRYPOINT + the container's command (the task definition's, or
the override's) in its own process group, with the task definition's
environment plus the overrides. Its standard output and error become the
events of its awslogs stream. When the main process exits the rest of its
group is killed (a container's processes end with it). StopTask sends
SIGTERM to the group and SIGKILL after the container's stopTimeout."""
import os
import signal
import subprocess
import threading
import time


def now_ms():
    return int(time.time() * 1000)


class LogStore:
    """CloudWatch Logs: group -> stream -> [event]."""

    def __init__(self):
        self.lock = threading.Lock()
        self.groups = {}

    def create_stream(self, group, stream):
        with self.lock:
            self.groups.setdefault(group, {}).setdefault(stream, [])

    def append(self, group, stream, message):
        t = now_ms()
        with self.lock:
            self.groups.setdefault(group, {}).setdefault(stream, []).append(
                {"timestamp": t, "message": message, "ingestionTime": t})

    def events(self, group, stream):
        with self.lock:
            g = self.groups.get(group)
            if g is None or stream not in g:
                return None
            return list(g[stream])


class Task:
    def __init__(self, arn, task_id, cluster_arn, td, request, env, argv, log_target):
        self.arn, self.id, self.cluster_arn = arn, task_id, cluster_arn
        self.td, self.request, self.env, self.argv = td, request, env, argv
        self.log_group, self.log_stream = log_target
        self.last_status = "PROVISIONING"
        self.desired_status = "RUNNING"
        self.created = time.time()
        self.started = None
        self.stopped = None
        self.stopping = None
        self.exit_code = None
        self.stopped_reason = None
        self.stop_code = None
        self.container_reason = None
        self.proc = None
        self.missing = False
        self.lock = threading.Lock()

    def invocation_id(self):
        return self.env.get("MULTINODE_INVOCATION_ID")

    def alive(self):
        """Whether any process of the task's group still runs (not a zombie)."""
        if self.proc is None:
            return False
        pgid = self.proc.pid
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
        return False

    def signal_group(self, sig):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class Runner:
    def __init__(self, entrypoint, base_env, logs, pending_ms=0):
        self.entrypoint = entrypoint
        self.base_env = base_env
        self.logs = logs
        self.pending_ms = pending_ms

    def start(self, task):
        threading.Thread(target=self._run, args=(task,), daemon=True).start()

    def _run(self, task):
        if self.pending_ms:
            task.last_status = "PENDING"
            time.sleep(self.pending_ms / 1000.0)
        env = dict(self.base_env)
        env.update(task.env)
        with task.lock:
            if task.desired_status == "STOPPED":  # stopped before it started
                task.last_status = "STOPPED"
                task.stopped = time.time()
                return
            try:
                task.proc = subprocess.Popen(
                    [self.entrypoint] + task.argv, env=env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                    close_fds=True)
            except OSError as e:
                task.last_status = "STOPPED"
                task.stopped = time.time()
                task.stop_code = "TaskFailedToStart"
                task.stopped_reason = "CannotStartContainerError: %s" % e
                return
            self.logs.create_stream(task.log_group, task.log_stream)
            task.started = time.time()
            task.last_status = "RUNNING"
        for raw in task.proc.stdout:
            self.logs.append(task.log_group, task.log_stream,
                             raw.decode("utf-8", "replace").rstrip("\n"))
        rc = task.proc.wait()
        task.signal_group(signal.SIGKILL)  # the container's other processes end with it
        with task.lock:
            task.exit_code = rc if rc >= 0 else 128 - rc
            task.stopped = time.time()
            if task.stopped_reason is None:
                task.stop_code = "EssentialContainerExited"
                task.stopped_reason = "Essential container in task exited"
            task.desired_status = "STOPPED"
            task.last_status = "STOPPED"

    def stop(self, task, reason, stop_timeout):
        with task.lock:
            if task.last_status == "STOPPED" or task.desired_status == "STOPPED":
                return
            task.desired_status = "STOPPED"
            task.stopping = time.time()
            task.stop_code = "UserInitiated"
            task.stopped_reason = reason or "Task stopped by user"
        task.signal_group(signal.SIGTERM)

        def kill_later():
            deadline = time.time() + stop_timeout
            while time.time() < deadline:
                if task.last_status == "STOPPED":
                    return
                time.sleep(0.05)
            if task.last_status != "STOPPED":
                task.signal_group(signal.SIGKILL)

        threading.Thread(target=kill_later, daemon=True).start()

    def kill(self, task):
        task.signal_group(signal.SIGKILL)
