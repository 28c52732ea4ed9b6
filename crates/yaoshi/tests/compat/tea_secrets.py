"""The secrets manager (every secret action, GetRandomPassword, tags on secrets, values that must
round-trip byte-exact, recovery window and scheduled rotation on the test clock) through
the Tea / darabonba Alibaba Cloud Python SDK (alibabacloud_kms20160120 Client;
CreateSecret/PutSecretValue.SecretData in a form body), once with the default ACS3-HMAC-SHA256
Authorization header and once with signature_algorithm='v2' (RPC v1 HMAC-SHA1).
The steps are in flow_secrets.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION, YAOSHI_TEST_CLOCK_URL (the node's /_test/clock; the node runs with --test-clock).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_secrets  # noqa: E402
from tea_sdk import SIGNATURES, Api  # noqa: E402

SCRIPT = "tea-secrets"

if __name__ == "__main__":
    steps = []
    for label, algorithm in SIGNATURES:
        steps += flow_secrets.steps(Api(label, algorithm), "[%s] " % label)
    cu.run(SCRIPT, steps)
