"""Rules ECS enforces beyond the API model, for Fargate task definitions
and the calls that use them, with the messages AWS answers."""
import re

FAMILY_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
CONTAINER_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
IMAGE_RE = re.compile(r"^[A-Za-z0-9_:./@#-]{1,255}$")
STARTED_BY_RE = re.compile(r"^[A-Za-z0-9_/-]{1,128}$")
TAG_RE = re.compile(r"^[\w .:/=+@-]*$")

# Fargate (Linux): CPU units -> allowed memory (MiB)
FARGATE = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}


class RuleError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def client(msg):
    raise RuleError("ClientException", msg)


def invalid(msg):
    raise RuleError("InvalidParameterException", msg)


def check_tags(tags):
    if len(tags) > 50:
        invalid("Tags cannot be more than 50.")
    keys = set()
    for t in tags:
        k, v = t.get("key", ""), t.get("value", "")
        if not 1 <= len(k) <= 128 or len(v) > 256 or not TAG_RE.match(k) or not TAG_RE.match(v):
            invalid("Tag key or value is not valid: %r=%r" % (k, v))
        if k.lower().startswith("aws:"):
            invalid("Tag keys beginning with 'aws:' are reserved.")
        if k in keys:
            invalid("Duplicate tag key %r." % k)
        keys.add(k)


def check_task_definition(req):
    if not FAMILY_RE.match(req["family"]):
        client("Family contains invalid characters or is longer than 255 characters: up to 255 "
               "letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
    fargate = "FARGATE" in req.get("requiresCompatibilities", [])
    containers = req["containerDefinitions"]
    if not containers:
        client("Container list cannot be empty.")
    names = set()
    for c in containers:
        name, image = c.get("name"), c.get("image")
        if not name or not CONTAINER_RE.match(name) or name in names:
            client("Container.name should not be null or empty, must be unique, and may "
                   "contain letters, numbers, hyphens and underscores.")
        names.add(name)
        if not image:
            client("Container.image should not be null or empty.")
        if not IMAGE_RE.match(image):
            client("Invalid 'image' %r: up to 255 letters (uppercase and lowercase), numbers, "
                   "hyphens, underscores, colons, periods, forward slashes, and number signs "
                   "are allowed." % image)
        if "stopTimeout" in c and fargate and not 0 <= c["stopTimeout"] <= 120:
            client("stopTimeout must be 0 to 120 seconds on Fargate.")
        log = c.get("logConfiguration")
        if log and log.get("logDriver") == "awslogs":
            if fargate and not req.get("executionRoleArn"):
                client("Fargate requires task definition to have execution role ARN to "
                       "support log driver awslogs.")
            opts = log.get("options", {})
            for need in ("awslogs-group", "awslogs-region") + (
                    ("awslogs-stream-prefix",) if fargate else ()):
                if not opts.get(need):
                    client("Log driver awslogs requires options: " + need)
        env = [e.get("name") for e in c.get("environment", [])]
        if len(env) != len(set(env)):
            client("Duplicate environment variable names in container %s." % name)
    if fargate:
        if req.get("networkMode") != "awsvpc":
            client("Fargate only supports network mode 'awsvpc'.")
        cpu, mem = req.get("cpu"), req.get("memory")
        if cpu is None or mem is None:
            client("Fargate requires that 'cpu' be defined at the task level.")
        try:
            cpu_i, mem_i = int(cpu), int(mem)
        except ValueError:
            client("Invalid 'cpu' or 'memory' setting for Fargate: %s/%s" % (cpu, mem))
        if mem_i not in FARGATE.get(cpu_i, []):
            client("No Fargate configuration exists for given values: %s CPU, %s memory. See "
                   "the Amazon ECS documentation for the valid values." % (cpu, mem))
    check_tags(req.get("tags", []))


def check_network(req, td):
    if td.get("networkMode") != "awsvpc":
        return
    net = req.get("networkConfiguration", {}).get("awsvpcConfiguration")
    if not net:
        invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    if not 1 <= len(net["subnets"]) <= 16:
        invalid("subnets can not be empty.")
    for s in net["subnets"]:
        if not re.match(r"^subnet-[0-9a-zA-Z]+$", s):
            invalid("Error retrieving subnet information for [%s]: The subnet ID '%s' is "
                    "malformed" % (s, s))
    if len(net.get("securityGroups", [])) > 5:
        invalid("securityGroups can have at most 5 items.")
    for g in net.get("securityGroups", []):
        if not re.match(r"^sg-[0-9a-zA-Z]+$", g):
            invalid("Error retrieving security group information for [%s]: The security group "
                    "'%s' does not exist" % (g, g))


def check_run_task(req, td):
    if "launchType" in req and "capacityProviderStrategy" in req:
        invalid("Specifying both a launch type and capacity provider strategy is not supported. "
                "Remove one and try again.")
    count = req.get("count", 1)
    if not 1 <= count <= 10:
        invalid("Count must be between 1 and 10.")
    if req.get("launchType") == "FARGATE" and "FARGATE" not in td.get(
            "requiresCompatibilities", []):
        invalid("Task definition does not support launch_type FARGATE.")
    tok = req.get("clientToken")
    if tok is not None and (not 1 <= len(tok) <= 64 or any(not 33 <= ord(c) <= 126 for c in tok)):
        invalid("clientToken: up to 64 ASCII characters in the range 33-126 are allowed.")
    sb = req.get("startedBy")
    if sb is not None and not STARTED_BY_RE.match(sb):
        invalid("startedBy: up to 128 letters, numbers, hyphens, forward slashes and "
                "underscores are allowed.")
    for s in req.get("capacityProviderStrategy", []):
        if s["capacityProvider"] not in ("FARGATE", "FARGATE_SPOT"):
            invalid("The specified capacity provider strategy cannot contain a capacity "
                    "provider that is not associated with the cluster.")
    check_network(req, td)
    names = {c["name"] for c in td["containerDefinitions"]}
    over = req.get("overrides", {})
    size = 0
    for o in over.get("containerOverrides", []):
        if o.get("name") not in names:
            invalid("Override for container named %s is not a container in the TaskDefinition."
                    % o.get("name"))
        for e in o.get("environment", []):
            size += len(e.get("name", "")) + len(e.get("value", ""))
        size += sum(len(a) for a in o.get("command", []))
    if size > 8192:
        invalid("Container Overrides length must be at most 8192.")
    check_tags(req.get("tags", []))


def check_describe_tasks(req):
    if not req["tasks"]:
        invalid("Tasks cannot be empty.")
    if len(req["tasks"]) > 100:
        invalid("Tasks cannot be longer than 100.")


def check_stop_task(req):
    if len(req.get("reason", "")) > 255:
        invalid("Reason cannot be longer than 255 characters.")


def check_list_tasks(req):
    n = req.get("maxResults")
    if n is not None and not 1 <= n <= 100:
        invalid("maxResults must be between 1 and 100.")
    if "startedBy" in req and not STARTED_BY_RE.match(req["startedBy"]):
        invalid("startedBy: up to 128 letters, numbers, hyphens, forward slashes and "
                "underscores are allowed.")
    if "startedBy" in req and "serviceName" in req:
        invalid("startedBy and serviceName cannot both be specified.")
