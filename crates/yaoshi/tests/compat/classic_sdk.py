"""Shared helpers for the scripts that drive the classic Alibaba Cloud Python SDK
(aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1).
"""

import json

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
    """A request object pointed at the test server (WIRE.md §9), with `set_<Name>(value)` applied."""
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
    """CreateKey (Aliyun_AES_256); returns the whole body."""
    body = call(request(CreateKeyRequest, KeySpec="Aliyun_AES_256", Description=description, **extra))
    md = body.get("KeyMetadata")
    cu.check(isinstance(md, dict), "CreateKey.KeyMetadata", "an object", body)
    cu.expect_nonempty_str("CreateKey.KeyMetadata.KeyId", md.get("KeyId"))
    return body
