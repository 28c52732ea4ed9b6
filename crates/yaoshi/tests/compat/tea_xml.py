"""Format=XML through the Tea / darabonba Alibaba Cloud Python SDK (the generic OpenApiClient.call_api with
Format=XML in the query and body_type='string', since the typed methods always parse JSON), once with
ACS3-HMAC-SHA256 and once with signature_algorithm='v2': the success responses of CreateKey, DescribeKey,
ListKeys, CreateKeyVersion, DescribeKeyVersion, ListKeyVersions, ListAliases(ByKeyId), ListResourceTags,
DescribeRegions and DescribeAccountKmsStatus carry the same data as JSON (root <KMS>) and as the typed
models' parse. Error bodies in XML are left to classic_xml.py: this SDK cannot read them (tea_sdk.Api.fetch).
The steps are in flow_xml.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION, YAOSHI_TEST_CLOCK_URL (the node's /_test/clock; the node runs with --test-clock).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_xml  # noqa: E402
from tea_sdk import SIGNATURES, Api  # noqa: E402

SCRIPT = "tea-xml"

if __name__ == "__main__":
    steps = []
    for label, algorithm in SIGNATURES:
        steps += flow_xml.steps(Api(label, algorithm), "[%s] " % label)
    cu.run(SCRIPT, steps)
