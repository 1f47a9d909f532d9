#!/usr/bin/python3
"""One AWS API call to the simulator, made and signed by botocore as any AWS
client would (so the simulator checks its signature and body like the
daemon's), for tests that look at what ECS itself shows.

Usage: aws_call.py ENDPOINT_URL SERVICE ACTION [JSON_PARAMS]
  e.g. aws_call.py http://127.0.0.1:PORT ecs DescribeTaskDefinition \
       '{"taskDefinition": "...", "include": ["TAGS"]}'
Credentials and region come from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, default eu-west-2).
Prints the answer as JSON (without ResponseMetadata); exits 1 with AWS's
error on stderr when the call is refused."""
import json
import os
import sys

import botocore.exceptions
import botocore.session
from botocore import xform_name


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    endpoint, service, action = sys.argv[1:4]
    params = json.loads(sys.argv[4]) if len(sys.argv) == 5 else {}
    session = botocore.session.get_session()
    client = session.create_client(service, region_name=os.environ.get("AWS_REGION", "eu-west-2"),
                                   endpoint_url=endpoint)
    try:
        out = getattr(client, xform_name(action))(**params)
    except botocore.exceptions.ClientError as e:
        sys.stderr.write("%s: %s\n" % (action, e))
        sys.exit(1)
    out.pop("ResponseMetadata", None)
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
