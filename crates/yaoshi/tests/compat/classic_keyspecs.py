"""CreateKey parameters (every KeySpec x KeyUsage, Origin, ProtectionLevel, rotation, Description
length), UpdateRotationPolicy, CreateKeyVersion and paging limits through the classic Alibaba Cloud
Python SDK (aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1).
The steps are in flow_keyspecs.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION, YAOSHI_TEST_CLOCK_URL (the node's /_test/clock; the node runs with --test-clock).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_keyspecs  # noqa: E402
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-keyspecs"

if __name__ == "__main__":
    cu.run(SCRIPT, flow_keyspecs.steps(Api()))
