"""Checks a request's AWS Signature Version 4 with botocore, an
implementation independent of the client's (libcurl's).

The request is rebuilt with exactly the headers the client says it signed,
then botocore's SigV4Auth computes the canonical request, the string to sign
and the signature for the same credentials, scope and X-Amz-Date. Besides the
signature itself, the headers botocore would sign for an AWS JSON call (host,
x-amz-date, content-type, x-amz-target, and x-amz-security-token when
present) must be among the signed ones."""
import datetime
import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
    r"SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")
MUST_SIGN = ("host", "x-amz-date", "content-type", "x-amz-target")
MAX_SKEW = datetime.timedelta(minutes=15)


class SignatureError(Exception):
    """status, AWS error type, message"""

    def __init__(self, status, kind, message):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def verify(method, path, headers, body, service, region, keys):
    """headers: a dict of lower-case names; keys: {access key: (secret,
    session token or None)}. Raises SignatureError; returns the access key."""
    auth = headers.get("authorization")
    if not auth:
        raise SignatureError(400, "MissingAuthenticationTokenException",
                             "Missing Authentication Token")
    m = AUTH_RE.match(auth)
    if not m:
        raise SignatureError(400, "IncompleteSignatureException",
                             "Authorization header requires 'Credential', 'Signature' and "
                             "'SignedHeaders' parameters. Authorization=" + auth[:40])
    akid, day, sregion, sservice, signed, signature = m.groups()
    if akid not in keys:
        raise SignatureError(400, "UnrecognizedClientException",
                             "The security token included in the request is invalid.")
    secret, token = keys[akid]
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise SignatureError(400, "IncompleteSignatureException",
                             "Authorization header requires existence of either a "
                             "'X-Amz-Date' or a 'Date' header.")
    if abs(datetime.datetime.utcnow() - when) > MAX_SKEW:
        raise SignatureError(400, "InvalidSignatureException",
                             "Signature expired: %s is now earlier than the allowed skew" %
                             amz_date)
    if day != amz_date[:8] or sregion != region or sservice != service:
        raise SignatureError(403, "InvalidSignatureException",
                             "Credential should be scoped to a valid region and service: "
                             "got %s/%s/%s, expected %s/%s/%s" %
                             (day, sregion, sservice, amz_date[:8], region, service))
    names = signed.split(";")
    missing = [h for h in MUST_SIGN if h not in names]
    if token is not None:
        if headers.get("x-amz-security-token") != token:
            raise SignatureError(400, "UnrecognizedClientException",
                                 "The security token included in the request is invalid.")
        if "x-amz-security-token" not in names:
            missing.append("x-amz-security-token")
    if missing:
        raise SignatureError(403, "InvalidSignatureException",
                             "The request signature we calculated does not match the "
                             "signature you provided: not signed: " + ", ".join(missing))
    for n in names:
        if n not in headers:
            raise SignatureError(403, "InvalidSignatureException",
                                 "Signed header %s is not in the request" % n)
    req = AWSRequest(method=method, url="http://%s%s" % (headers["host"], path), data=body,
                     headers={n: headers[n] for n in names})
    req.context["timestamp"] = amz_date
    sig = SigV4Auth(Credentials(akid, secret, token), service, region)
    canonical = sig.canonical_request(req)
    expected = sig.signature(sig.string_to_sign(req, canonical), req)
    if not hmac.compare_digest(expected, signature):
        raise SignatureError(403, "InvalidSignatureException",
                             "The request signature we calculated does not match the signature "
                             "you provided. Check your AWS Secret Access Key and signing method. "
                             "Consult the service documentation for details.\n\nThe Canonical "
                             "String for this request should have been\n'%s'" % canonical)
    return akid
