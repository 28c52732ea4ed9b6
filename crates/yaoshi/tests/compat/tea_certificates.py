"""The certificate actions through the Tea SDK's client (alibabacloud_kms20160120 +
alibabacloud_tea_openapi), ACS3-HMAC-SHA256 then RPC v1 HMAC-SHA1 ('v2'). The Tea 3.x client has
no certificate methods, so they go through its generic OpenApiClient.call_api (docs/WIRE.md §1),
which sends the same request shape. The steps are in flow_certificates.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_certificates  # noqa: E402
from tea_sdk import SIGNATURES, Api  # noqa: E402

SCRIPT = "tea-certificates"

if __name__ == "__main__":
    steps = []
    for label, algorithm in SIGNATURES:
        api = Api(label, algorithm)
        steps += flow_certificates.steps(api, api.call_generic, api.error_generic, "[%s] " % label)
    cu.run(SCRIPT, steps)
