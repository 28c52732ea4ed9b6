"""Format=XML through the classic Alibaba Cloud Python SDK (request classes with set_accept_format("XML"),
AcsClient.get_response): CreateKey, DescribeKey, ListKeys, CreateKeyVersion, DescribeKeyVersion,
ListKeyVersions, ListAliases(ByKeyId), ListResourceTags, DescribeRegions, DescribeAccountKmsStatus and
error bodies carry the same data as JSON (root <KMS>). The steps are in flow_xml.py.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION, YAOSHI_TEST_CLOCK_URL (the node's /_test/clock; the node runs with --test-clock).
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import flow_xml  # noqa: E402
from classic_sdk import Api  # noqa: E402

SCRIPT = "classic-xml"

if __name__ == "__main__":
    cu.run(SCRIPT, flow_xml.steps(Api()))
