"""The secrets manager (every secret action, GetRandomPassword, tags on secrets, values that must
round-trip byte-exact, recovery window and scheduled rotation on the test clock) through
the classic Alibaba Cloud Python SDK (aliyun-python-sdk-core AcsClient +
aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1; every parameter, SecretData included, in the
query string).
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
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-secrets"

if __name__ == "__main__":
    cu.run(SCRIPT, flow_secrets.steps(Api()))
