"""The certificate actions through the classic Alibaba Cloud Python SDK (aliyun-python-sdk-core
AcsClient + the aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1) for RSA_2048, EC_P256
and EC_SM2, with a test CA and the checks of flow_certificates.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_certificates  # noqa: E402
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-certificates"

if __name__ == "__main__":
    api = Api()
    cu.run(SCRIPT, flow_certificates.steps(api, api.call, api.error))
