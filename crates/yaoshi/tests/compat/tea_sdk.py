"""Shared helpers for the scripts that drive the Tea / darabonba Alibaba Cloud Python SDK
(alibabacloud_kms20160120 Client on alibabacloud_tea_openapi).
"""

import compat_util as cu
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config

ENV = cu.Env()

# label -> Config.signature_algorithm (None = SDK default, ACS3-HMAC-SHA256)
SIGNATURES = [("acs3", None), ("v2", "v2")]


def make_client(signature_algorithm, access_key_id=None, secret=None):
    config = Config(
        access_key_id=access_key_id or ENV.access_key_id,
        access_key_secret=secret or ENV.access_key_secret,
        endpoint=ENV.endpoint,
        protocol="http",
        region_id=ENV.region,
        connect_timeout=5000,  # milliseconds
        read_timeout=30000,
    )
    if signature_algorithm is not None:
        config.signature_algorithm = signature_algorithm
    return Client(config)


def sdk_error(exc):
    # alibabacloud_tea_openapi 0.4.6: ClientException (4xx) / ServerException (5xx) /
    # ThrottlingException, all AlibabaCloudException with .code and .status_code
    # (.statusCode is also set, from .data['statusCode']).
    if isinstance(exc, AlibabaCloudException):
        return exc.code, exc.status_code
    return None


def ok(what, resp):
    cu.expect_eq(what + " HTTP status", 200, resp.status_code)
    cu.check(resp.body is not None, what + " body", "a parsed body", resp.body)
    cu.expect_nonempty_str(what + ".RequestId", resp.body.request_id)
    return resp.body


def expect_error(what, call, code, status):
    exc = cu.expect_error(what, call, sdk_error, code, status)
    if isinstance(getattr(exc, "data", None), dict):
        cu.expect_eq(what + " error body RequestId present", True, bool(exc.data.get("RequestId")))
    return exc
