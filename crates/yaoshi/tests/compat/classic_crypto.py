"""The asymmetric data plane, BYOK, the data-key exports and ReEncrypt from public-key ciphertext
through the classic Alibaba Cloud Python SDK (aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms
request classes, RPC v1 HMAC-SHA1), every result checked with independent implementations (Python
`cryptography` for RSA/ECDSA, `gmssl` for SM2/SM3). The steps are in flow_crypto.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION, YAOSHI_TEST_CLOCK_URL (the node's /_test/clock, for import token and key material expiry).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_crypto  # noqa: E402
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-crypto"

if __name__ == "__main__":
    cu.run(SCRIPT, flow_crypto.steps(Api()))
