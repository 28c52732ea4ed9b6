"""Shared helpers for the scripts that drive the Tea / darabonba Alibaba Cloud Python SDK
(alibabacloud_kms20160120 Client on alibabacloud_tea_openapi).
"""

import re

import compat_util as cu
from alibabacloud_kms20160120 import models as kms
from alibabacloud_kms20160120.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.models import Config, OpenApiRequest, Params
from alibabacloud_tea_util.models import RuntimeOptions

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


def snake(name):
    """API name -> Tea model/method name: CreateKeyVersion -> create_key_version, KeyVersionId -> key_version_id."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Api:
    """The SDK-neutral face the shared flows (flow_*.py) drive, on one Tea client: actions by name
    (client.<snake_case>(kms.<Action>Request(<snake_case>=...))), responses as the typed body's
    to_map() (the JSON field names the Tea models know)."""

    xml_errors = False  # see fetch()
    secret_data_in_body = True  # CreateSecret/PutSecretValue.SecretData in the form body (docs/WIRE.md §1)

    def __init__(self, label, signature_algorithm):
        self.label = label
        self.client = make_client(signature_algorithm)

    def _invoke(self, action, params):
        method = getattr(self.client, snake(action))
        model = getattr(kms, action + "Request", None)
        if model is None:  # DescribeRegions, DescribeAccountKmsStatus, OpenKmsService take no request
            cu.check(not params, action + " parameters", "none", params)
            return method()
        return method(model(**{snake(k): v for k, v in params.items()}))

    def call(self, action, **params):
        return ok(action, self._invoke(action, params)).to_map()

    def error(self, what, action, code, status, **params):
        return expect_error(what, lambda: self._invoke(action, params), code, status)

    def refused(self, what, action, **params):
        """Some HTTP 4xx error with a Code (the reference leaves the code open); returns (code, status)."""
        return cu.expect_client_error(what, lambda: self._invoke(action, params), sdk_error)

    def _generic(self, action, params):
        # OpenApiClient.call_api with every parameter in the query: for parameters the typed request
        # model lacks (ListResourceTags.SecretName). Same request shape as the typed calls.
        query = {k: str(v) for k, v in params.items()}
        api = Params(action=action, version="2016-01-20", protocol="HTTP", pathname="/", method="POST",
                     auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        return self.client.call_api(api, OpenApiRequest(query=query), RuntimeOptions())

    def call_generic(self, action, **params):
        """The action with parameters the typed model lacks, via call_api; the JSON body as a dict."""
        r = self._generic(action, params)
        cu.expect_eq(action + " HTTP status", 200, r.get("statusCode"))
        body = r.get("body")
        cu.check(isinstance(body, dict) and "Code" not in body, action + " body", "an object without 'Code'", body)
        cu.expect_nonempty_str(action + ".RequestId", body.get("RequestId"))
        return body

    def error_generic(self, what, action, code, status, **params):
        return expect_error(what, lambda: self._generic(action, params), code, status)

    def fetch(self, action, fmt, **params):
        """The raw success response in Format=fmt via the generic OpenApiClient.call_api (the typed
        methods always parse JSON): (HTTP status, Content-Type, body text). Error responses raise: the
        SDK parses error bodies as JSON (v2), or XML with root <Error> (ACS3), never the reference's <KMS>."""
        query = {k: str(v) for k, v in params.items()}
        query["Format"] = fmt
        api = Params(action=action, version="2016-01-20", protocol="HTTP", pathname="/", method="POST",
                     auth_type="AK", style="RPC", req_body_type="formData", body_type="string")
        r = self.client.call_api(api, OpenApiRequest(query=query), RuntimeOptions())
        return r["statusCode"], r["headers"].get("content-type"), r["body"]
