#!/usr/bin/env python3
"""A local stand-in for the three AWS credential endpoints the ECS provider's
credentials chain calls, on one loopback HTTP server (Python 3 stdlib only):

  * the ECS container credentials endpoint: GET /v2/credentials/<id> (the
    relative-URI form) and GET /full/<anything> (the full-URI form), with an
    optional required Authorization header;
  * EC2 instance metadata, IMDSv2 only: PUT /latest/api/token (needs
    X-aws-ec2-metadata-token-ttl-seconds), then GET
    /latest/meta-data/iam/security-credentials/[ROLE] with
    X-aws-ec2-metadata-token; a request without a valid token gets 401;
  * STS AssumeRoleWithWebIdentity, query protocol: POST / with a form body,
    checked against the operation's input shape in the AWS SDK model
    sts-2011-06-15.min.json (required members, unknown members, types),
    answered in the model's XML shape.

Every credential it hands out is new (the fetch number is in the key id) and
expires `ttl` seconds from now. Control and counters, for the tests:
  GET /_config?key=value...   ttl, fail (HTTP status), fail_count, sts_error
                              (an STS error Code), malformed (json|nofield|
                              badtime|xml|text), delay (seconds), auth_token,
                              role ("" = no role attached), expect_token,
                              token_extra (appended to the session token),
                              fixed_key/fixed_secret/fixed_token (hand out
                              these instead of new ones: an end-to-end test
                              whose ECS simulator knows one key)
  GET /_stats                 JSON counters, the last STS form, violations
The first line on stdout is "PORT <n>" once it listens.
"""
import argparse
import datetime
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
CREDS_PATH = "/latest/meta-data/iam/security-credentials/"

LOCK = threading.Lock()
CONFIG = {"ttl": 3600, "fail": 0, "fail_count": 0, "sts_error": "", "malformed": "",
          "delay": 0.0, "auth_token": "", "role": "sim-instance-role", "expect_token": "",
          "token_extra": "", "fixed_key": "", "fixed_secret": "", "fixed_token": ""}
STATS = {"container": 0, "imds_token": 0, "imds_role_list": 0, "imds_creds": 0, "sts": 0,
         "issued": 0, "rejected": 0, "violations": [], "last_sts_form": None,
         "last_authorization": None, "model": None}
IMDS_TOKENS = set()
STS_INPUT = None  # (required, members) from the model


def load_sts_model(path):
    with open(path) as f:
        model = json.load(f)
    op = model["operations"]["AssumeRoleWithWebIdentity"]
    shape = op["input"]
    if "shape" in shape:
        shape = model["shapes"][shape["shape"]]
    members = {}
    for name, m in shape["members"].items():
        target = model["shapes"].get(m["shape"], {}) if "shape" in m else m
        members[name] = target.get("type", "string")
    return set(shape.get("required", [])), members


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_credentials():
    with LOCK:
        STATS["issued"] += 1
        n = STATS["issued"]
        ttl = int(CONFIG["ttl"])
        extra = CONFIG["token_extra"]
        fixed = (CONFIG["fixed_key"], CONFIG["fixed_secret"], CONFIG["fixed_token"])
    if fixed[0]:
        return {"AccessKeyId": fixed[0], "SecretAccessKey": fixed[1], "Token": fixed[2],
                "Expiration": iso(time.time() + ttl)}
    return {"AccessKeyId": "ASIASIM%09d" % n,
            "SecretAccessKey": "sim/secret+%d/" % n + secrets.token_hex(12),
            "Token": "simtoken-%d-" % n + "Q" * 1500 + extra,
            "Expiration": iso(time.time() + ttl)}


def take_failure():
    """The status to fail this request with, or 0."""
    with LOCK:
        if CONFIG["fail"] and CONFIG["fail_count"] > 0:
            CONFIG["fail_count"] -= 1
            return int(CONFIG["fail"])
    return 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, ctype="application/json", control=False):
        if isinstance(body, str):
            body = body.encode()
        with LOCK:
            delay = 0.0 if control else float(CONFIG["delay"])
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def violation(self, what):
        with LOCK:
            STATS["violations"].append(what)
            STATS["rejected"] += 1

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # ---- credentials as JSON (container endpoint, IMDS) ----
    def json_credentials(self, imds):
        with LOCK:
            mal = CONFIG["malformed"]
        c = new_credentials()
        if imds:
            c = dict(Code="Success", LastUpdated=iso(time.time()), Type="AWS-HMAC", **c)
        if mal == "json":
            return self.send(200, '{"AccessKeyId": "ASIA', "application/json")
        if mal == "nofield":
            del c["SecretAccessKey"]
        if mal == "badtime":
            c["Expiration"] = "tomorrow"
        if mal == "text":
            return self.send(200, "<html>not json</html>", "text/html")
        self.send(200, json.dumps(c))

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/_config":
            q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            with LOCK:
                for k, v in q.items():
                    if k not in CONFIG:
                        return self.send(400, json.dumps({"error": "unknown key " + k}),
                                         control=True)
                    old = CONFIG[k]
                    CONFIG[k] = type(old)(v[-1]) if not isinstance(old, str) else v[-1]
                body = json.dumps(CONFIG)
            return self.send(200, body, control=True)
        if u.path == "/_stats":
            with LOCK:
                body = json.dumps(STATS)
            return self.send(200, body, control=True)
        if u.path.startswith("/v2/credentials/") or u.path.startswith("/full/"):
            with LOCK:
                STATS["container"] += 1
                want = CONFIG["auth_token"]
                STATS["last_authorization"] = self.headers.get("Authorization")
            if want and self.headers.get("Authorization") != want:
                return self.send(401, json.dumps({"message": "bad Authorization header"}))
            status = take_failure()
            if status:
                return self.send(status, json.dumps({"message": "injected failure"}))
            return self.json_credentials(imds=False)
        if u.path.startswith(CREDS_PATH):
            token = self.headers.get("X-aws-ec2-metadata-token")
            with LOCK:
                ok = token in IMDS_TOKENS
                role = CONFIG["role"]
            if not ok:
                self.violation("IMDS GET %s without a valid session token" % u.path)
                return self.send(401, "", "text/plain")
            status = take_failure()
            if status:
                return self.send(status, "injected failure", "text/plain")
            rest = u.path[len(CREDS_PATH):]
            if rest == "":
                with LOCK:
                    STATS["imds_role_list"] += 1
                if not role:
                    return self.send(404, "Not Found", "text/plain")
                return self.send(200, role + "\n", "text/plain")
            with LOCK:
                STATS["imds_creds"] += 1
            if rest != role:
                return self.send(404, "Not Found", "text/plain")
            return self.json_credentials(imds=True)
        self.send(404, json.dumps({"message": "no route " + u.path}))

    def do_PUT(self):
        u = urllib.parse.urlsplit(self.path)
        self.read_body()
        if u.path != "/latest/api/token":
            return self.send(404, "", "text/plain")
        with LOCK:
            STATS["imds_token"] += 1
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self.violation("IMDS token PUT with X-aws-ec2-metadata-token-ttl-seconds %r" % ttl)
            return self.send(400, "", "text/plain")
        if self.headers.get("X-Forwarded-For"):
            return self.send(403, "", "text/plain")
        status = take_failure()
        if status:
            return self.send(status, "injected failure", "text/plain")
        token = "simimds-" + secrets.token_urlsafe(24)
        with LOCK:
            IMDS_TOKENS.add(token)
        self.send(200, token, "text/plain")

    # ---- STS ----
    def sts_error(self, status, code, message, kind="Sender"):
        root = ET.Element("ErrorResponse", xmlns=STS_NS)
        err = ET.SubElement(root, "Error")
        ET.SubElement(err, "Type").text = kind
        ET.SubElement(err, "Code").text = code
        ET.SubElement(err, "Message").text = message
        ET.SubElement(root, "RequestId").text = secrets.token_hex(16)
        self.send(status, ET.tostring(root, encoding="unicode"), "text/xml")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        body = self.read_body().decode("utf-8", "replace")
        if u.path != "/":
            return self.send(404, "", "text/plain")
        with LOCK:
            STATS["sts"] += 1
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            self.violation("STS Content-Type %r" % ctype)
            return self.sts_error(400, "InvalidParameterValue", "bad Content-Type")
        try:
            pairs = urllib.parse.parse_qsl(body, keep_blank_values=True, strict_parsing=True)
        except ValueError as e:
            self.violation("STS form does not parse: %s" % e)
            return self.sts_error(400, "MalformedQueryString", str(e))
        form = {}
        for k, v in pairs:
            if k in form:
                self.violation("STS form repeats %s" % k)
            form[k] = v
        with LOCK:
            STATS["last_sts_form"] = {k: (v if k != "WebIdentityToken" else "<%d bytes>" % len(v))
                                      for k, v in form.items()}
        if form.pop("Action", None) != "AssumeRoleWithWebIdentity" or \
                form.pop("Version", None) != "2011-06-15":
            self.violation("STS Action/Version wrong: %r" % body[:120])
            return self.sts_error(400, "InvalidAction", "unknown Action or Version")
        required, members = STS_INPUT
        for name in sorted(required):
            if not form.get(name):
                self.violation("STS request lacks required member %s" % name)
                return self.sts_error(400, "MissingParameter", "%s is required" % name)
        for name, value in form.items():
            if name not in members and not name.split(".")[0] in members:
                self.violation("STS request has unknown member %s" % name)
                return self.sts_error(400, "InvalidParameter", "unknown member " + name)
            if members.get(name) == "integer" and not value.lstrip("-").isdigit():
                self.violation("STS member %s is not an integer" % name)
                return self.sts_error(400, "InvalidParameterValue", name + " not an integer")
        with LOCK:
            expect = CONFIG["expect_token"]
            code = CONFIG["sts_error"]
            mal = CONFIG["malformed"]
        if expect and form["WebIdentityToken"] != expect:
            return self.sts_error(400, "InvalidIdentityToken",
                                  "Couldn't retrieve verification key from your identity provider")
        status = take_failure()
        if code:
            return self.sts_error(status or 400, code, "injected %s & friends" % code)
        if status:
            return self.sts_error(status, "ServiceUnavailable", "injected failure", "Receiver")
        c = new_credentials()
        role = form["RoleArn"].rsplit("/", 1)[-1]
        session = form["RoleSessionName"]
        root = ET.Element("AssumeRoleWithWebIdentityResponse", xmlns=STS_NS)
        res = ET.SubElement(root, "AssumeRoleWithWebIdentityResult")
        ET.SubElement(res, "SubjectFromWebIdentityToken").text = "system:serviceaccount:sim:sim"
        ET.SubElement(res, "Audience").text = "sts.amazonaws.com"
        aru = ET.SubElement(res, "AssumedRoleUser")
        ET.SubElement(aru, "Arn").text = "arn:aws:sts::123456789012:assumed-role/%s/%s" % (role, session)
        ET.SubElement(aru, "AssumedRoleId").text = "AROASIM:%s" % session
        cr = ET.SubElement(res, "Credentials")
        ET.SubElement(cr, "SessionToken").text = c["Token"]
        ET.SubElement(cr, "SecretAccessKey").text = c["SecretAccessKey"]
        ET.SubElement(cr, "Expiration").text = c["Expiration"] if mal != "badtime" else "soon"
        if mal != "nofield":
            ET.SubElement(cr, "AccessKeyId").text = c["AccessKeyId"]
        ET.SubElement(res, "Provider").text = "sim.example"
        meta = ET.SubElement(root, "ResponseMetadata")
        ET.SubElement(meta, "RequestId").text = secrets.token_hex(16)
        text = ET.tostring(root, encoding="unicode")
        if mal == "xml":
            text = text[: len(text) // 2]
        self.send(200, text, "text/xml")


def main():
    global STS_INPUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--sts-model", help="sts-2011-06-15.min.json")
    ap.add_argument("--port-file", help="also write the port here (atomically)")
    args = ap.parse_args()
    model = args.sts_model
    if not model:
        here = os.path.dirname(os.path.abspath(__file__))
        for cand in [os.environ.get("MN_AWS_MODELS", ""),
                     os.path.join(here, "..", "ecs", "models")]:
            p = os.path.join(cand, "sts-2011-06-15.min.json")
            if cand and os.path.exists(p):
                model = p
                break
    if not model or not os.path.exists(model):
        print("aws_creds sim: cannot find the STS API model sts-2011-06-15.min.json "
              "(set MN_AWS_MODELS to its directory)", file=sys.stderr)
        sys.exit(2)
    STS_INPUT = load_sts_model(model)
    STATS["model"] = os.path.abspath(model)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(args.port_file + ".tmp", args.port_file)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
