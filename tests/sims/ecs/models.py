"""Validates request bodies against the AWS SDK's published API models.

The structure (members, required members, types) comes from the models
copied into models/ (the JavaScript SDK's minified service models). Where
the full botocore model installed with python3-botocore gives more for the
same member - enums, length or value ranges, patterns - those are checked
too. A violation is reported the way AWS's JSON services report it."""
import json
import os
import re

try:
    import botocore.loaders
    _LOADER = botocore.loaders.create_loader()
except ImportError:  # the simulator's start-up fails on botocore anyway
    _LOADER = None

HERE = os.path.dirname(os.path.abspath(__file__))


class ModelError(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


class Model:
    def __init__(self, filename, botocore_name):
        with open(os.path.join(HERE, "models", filename)) as f:
            self.m = json.load(f)
        self.shapes = self.m["shapes"]
        self.full = None
        if _LOADER is not None:
            try:
                self.full = _LOADER.load_service_model(botocore_name, "service-2")
            except Exception:
                self.full = None
        self._patterns = {}

    @property
    def target_prefix(self):
        return self.m["metadata"]["targetPrefix"]

    def has(self, action):
        return action in self.m["operations"]

    def validate(self, action, body):
        op = self.m["operations"][action]
        full = None
        if self.full and action in self.full["operations"]:
            full = self.full["shapes"].get(self.full["operations"][action]["input"]["shape"])
        self._check(op.get("input", {"type": "structure", "members": {}}), full, body, "")

    # -- internals --------------------------------------------------------
    def _resolve(self, node):
        while "shape" in node:
            node = self.shapes[node["shape"]]
        return node

    def _full_member(self, full, name):
        if not full:
            return None
        member = full.get("members", {}).get(name)
        return self.full["shapes"].get(member["shape"]) if member else None

    def _full_of(self, full, key):
        if not full or key not in full:
            return None
        return self.full["shapes"].get(full[key]["shape"])

    def _pattern(self, p):
        if p not in self._patterns:
            try:
                self._patterns[p] = re.compile(p)
            except re.error:
                self._patterns[p] = None  # Java-only syntax (\p{L}...): not checked
        return self._patterns[p]

    @staticmethod
    def _where(path):
        return path or "request"

    def _constraint(self, value, path, what):
        raise ModelError("InvalidParameterException",
                         "1 validation error detected: Value %s at '%s' failed to satisfy "
                         "constraint: %s" % (json.dumps(value)[:80], self._where(path), what))

    def _type(self, value, path, want):
        raise ModelError("SerializationException",
                         "%s at '%s' is not a %s" % (type(value).__name__, self._where(path), want))

    def _check(self, node, full, value, path):
        node = self._resolve(node)
        t = node.get("type", "string")
        if t == "structure":
            if not isinstance(value, dict):
                self._type(value, path, "structure")
            members = node.get("members", {})
            for name in value:
                if name not in members:
                    raise ModelError("SerializationException",
                                     "Unrecognized field \"%s\" at '%s'" %
                                     (name, self._where(path)))
            for name in node.get("required", []):
                if value.get(name) is None:
                    self._constraint(None, (path + "." if path else "") + name,
                                     "Member must not be null")
            for name, v in value.items():
                if v is None:
                    continue
                self._check(members[name], self._full_member(full, name), v,
                            (path + "." if path else "") + name)
        elif t == "list":
            if not isinstance(value, list):
                self._type(value, path, "list")
            self._length(len(value), full, value, path, "length")
            for i, v in enumerate(value):
                self._check(node["member"], self._full_of(full, "member"), v,
                            "%s.%d.member" % (path, i + 1))
        elif t == "map":
            if not isinstance(value, dict):
                self._type(value, path, "map")
            self._length(len(value), full, value, path, "length")
            for k, v in value.items():
                self._check(node.get("key", {}), self._full_of(full, "key"), k, path + ".key")
                self._check(node.get("value", {}), self._full_of(full, "value"), v,
                            "%s.%s" % (path, k))
        elif t in ("string", "blob"):
            if not isinstance(value, str):
                self._type(value, path, "string")
            self._length(len(value), full, value, path, "length")
            if full and "enum" in full and value not in full["enum"]:
                self._constraint(value, path, "Member must satisfy enum value set: [%s]" %
                                 ", ".join(full["enum"]))
            if full and "pattern" in full:
                rx = self._pattern(full["pattern"])
                if rx is not None and not rx.fullmatch(value):
                    self._constraint(value, path, "Member must satisfy regular expression "
                                     "pattern: " + full["pattern"])
        elif t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                self._type(value, path, t)
            self._length(value, full, value, path, "value")
        elif t in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._type(value, path, t)
        elif t == "boolean":
            if not isinstance(value, bool):
                self._type(value, path, "boolean")
        elif t == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self._type(value, path, "timestamp")
        else:
            raise ModelError("SerializationException", "unknown model type %s" % t)

    def _length(self, n, full, value, path, what):
        if not full:
            return
        if "min" in full and n < full["min"]:
            self._constraint(value, path, "Member must have %s greater than or equal to %s" %
                             (what, full["min"]))
        if "max" in full and n > full["max"]:
            self._constraint(value, path, "Member must have %s less than or equal to %s" %
                             (what, full["max"]))


def load_all():
    return {
        "ecs": Model("ecs-2014-11-13.min.json", "ecs"),
        "logs": Model("logs-2014-03-28.min.json", "logs"),
        "ecr": Model("ecr-2015-09-21.min.json", "ecr"),
    }
