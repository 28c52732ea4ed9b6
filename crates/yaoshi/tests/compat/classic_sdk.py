"""Shared helpers for the scripts that drive the classic Alibaba Cloud Python SDK
(aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1).
"""

import importlib
import json
import warnings

import compat_util as cu
from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkkms.request.v20160120.CreateKeyRequest import CreateKeyRequest

ENV = cu.Env()


def make_client(access_key_id=None, secret=None):
    return AcsClient(
        access_key_id or ENV.access_key_id,
        secret or ENV.access_key_secret,
        ENV.region,
        connect_timeout=5,
        timeout=30,
    )


CLIENT = make_client()


def request(cls, **params):
    """A request object pointed at the test server (docs/WIRE.md §9), with `set_<Name>(value)` applied."""
    req = cls()
    req.set_endpoint(ENV.endpoint)
    req.set_protocol_type("http")
    req.set_accept_format("JSON")
    for name, value in params.items():
        getattr(req, "set_" + name)(value)
    return req


def call(req, client=None):
    """do_action_with_exception + JSON decode; checks RequestId and the absence of Code."""
    body = (client or CLIENT).do_action_with_exception(req)
    what = req.get_action_name()
    try:
        body = json.loads(body)
    except ValueError:
        cu.fail("%s response" % what, "a JSON body", body)
    cu.check(isinstance(body, dict) and "Code" not in body, what + " body", "an object without 'Code'", body)
    cu.expect_nonempty_str(what + ".RequestId", body.get("RequestId"))
    return body


def sdk_error(exc):
    if isinstance(exc, ServerException):
        return exc.get_error_code(), exc.get_http_status()
    if isinstance(exc, ClientException):
        return exc.get_error_code(), None
    return None


def expect_error(what, req, code, status, client=None):
    return cu.expect_error(what, lambda: call(req, client), sdk_error, code, status)


def create_key(description, **extra):
    """CreateKey (KeySpec Aliyun_AES_256 unless given); returns the whole body."""
    params = dict(KeySpec="Aliyun_AES_256", Description=description)
    params.update(extra)
    body = call(request(CreateKeyRequest, **params))
    md = body.get("KeyMetadata")
    cu.check(isinstance(md, dict), "CreateKey.KeyMetadata", "an object", body)
    cu.expect_nonempty_str("CreateKey.KeyMetadata.KeyId", md.get("KeyId"))
    return body


def request_class(action):
    """The SDK's request class for an action, e.g. CreateKeyVersionRequest."""
    module = importlib.import_module("aliyunsdkkms.request.v20160120.%sRequest" % action)
    return getattr(module, action + "Request")


def fetch(req, fmt, client=None):
    """The raw response in Format=fmt (JSON or XML): (HTTP status, Content-Type, body text), errors included.
    do_action_with_exception would force JSON; get_response keeps the requested format."""
    req.set_accept_format(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        status, headers, body = (client or CLIENT).get_response(req)
    return status, headers.get("Content-Type"), body.decode("utf-8") if isinstance(body, bytes) else body


class Api:
    """The SDK-neutral face the shared flows (flow_*.py) drive: actions by name, parameters by their API
    names (set_<Name> of the request class), responses as dicts of the JSON field names."""

    label = "classic"
    xml_errors = True  # get_response returns error bodies in the requested format
    secret_data_in_body = False  # all parameters in the query string

    def call(self, action, **params):
        return call(request(request_class(action), **params))

    def error(self, what, action, code, status, **params):
        return expect_error(what, request(request_class(action), **params), code, status)

    def fetch(self, action, fmt, **params):
        return fetch(request(request_class(action), **params), fmt)

    def refused(self, what, action, **params):
        """Some HTTP 4xx error with a Code (the reference leaves the code open); returns (code, status)."""
        return cu.expect_client_error(what, lambda: self.call(action, **params), sdk_error)

    def _generic(self, action, params):
        # The request class with every parameter added to the query by name: for parameters the
        # class has no setter for (ListResourceTags.SecretName).
        req = request(request_class(action))
        for name, value in params.items():
            req.add_query_param(name, value)
        return req

    def call_generic(self, action, **params):
        """The action with parameters its request class lacks, via add_query_param."""
        return call(self._generic(action, params))

    def error_generic(self, what, action, code, status, **params):
        return expect_error(what, self._generic(action, params), code, status)
