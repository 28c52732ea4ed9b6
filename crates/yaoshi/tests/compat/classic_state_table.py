"""The key-state table (docs/DESIGN.md §2) for the key-management actions through the classic Alibaba
Cloud Python SDK (aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1
HMAC-SHA1): every action against a fresh key in Enabled, Disabled, PendingDeletion and PendingImport.
The steps are in flow_state_table.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET, YAOSHI_REGION.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_state_table  # noqa: E402
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-state-table"

if __name__ == "__main__":
    cu.run(SCRIPT, flow_state_table.steps(Api()))
