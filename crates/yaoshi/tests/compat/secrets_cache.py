"""The official secrets cache client (`aliyun-secret-manager-client` 0.0.6, PyPI; the classic SDK
underneath) against the server, configured both ways its README documents: in code (builder with an
AccessKey and a RegionInfo carrying our endpoint) and through environment variables
(`credentials_type`, `cache_client_region_id`). Values are written with the classic and the Tea SDK.

Checks: the first fetch returns the secret's fields (text and binary); a cached value survives a
PutSecretValue until the client refreshes (`refresh_now`, or a per-secret TTL, or the `ttl` field of
a JSON value), and then returns the new version; rotation fields of a secret with automatic rotation;
server errors (unknown secret, recovery window) surface as the classic SDK's ServerException.

Pointing the client at a server (from its source): RegionInfo(region_id, endpoint="http://host:port")
makes it call `region_provider.add_endpoint("kms", region_id, endpoint)` and build
`AcsClient(credential=..., region_id=...)` (the scheme in the endpoint overrides the request class's
https); it shells out to `ping <endpoint>` to rank regions at start-up, which fails harmlessly here.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION.
"""

import base64
import json
import logging
import os
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from alibaba_cloud_secretsmanager_client.model.region_info import RegionInfo  # noqa: E402
from alibaba_cloud_secretsmanager_client.secret_manager_cache_client_builder import (  # noqa: E402
    SecretManagerCacheClientBuilder,
)
from alibaba_cloud_secretsmanager_client.service.default_secret_manager_client_builder import (  # noqa: E402
    DefaultSecretManagerClientBuilder,
)

import classic_sdk  # noqa: E402
import tea_sdk  # noqa: E402

SCRIPT = "secrets-cache"
ENV = cu.Env()
ENDPOINT_URL = "http://" + ENV.endpoint

# The client logs every fetch at INFO to stderr (its own handler); keep the test output readable.
_logger = logging.getLogger("CacheClient")
_logger.setLevel(logging.WARNING)
_logger.addHandler(logging.StreamHandler(sys.stderr))

CLASSIC = classic_sdk.Api()
TEA = tea_sdk.Api("acs3", None)


def secret_name(tag):
    return "compat-cache-%s-%s" % (tag, cu.random_key_id()[:8])


def code_client(ttls=None):
    """The cache client configured in code: AccessKey credential + RegionInfo with our endpoint."""
    secret_client = (DefaultSecretManagerClientBuilder.standard()
                     .with_access_key(ENV.access_key_id, ENV.access_key_secret)
                     .add_region_info(RegionInfo(ENV.region, endpoint=ENDPOINT_URL))
                     .build())
    builder = SecretManagerCacheClientBuilder.new_cache_client_builder(secret_client)
    for name, ttl_ms in (ttls or {}).items():
        builder = builder.with_secret_ttl(name, ttl_ms)
    return builder.with_logger(_logger).build()


def env_client():
    """The cache client configured by environment variables only (SecretManagerCacheClientBuilder.new_client())."""
    env = {
        "credentials_type": "ak",
        "credentials_access_key_id": ENV.access_key_id,
        "credentials_access_secret": ENV.access_key_secret,
        "cache_client_region_id": json.dumps([{"regionId": ENV.region, "endpoint": ENDPOINT_URL}]),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return SecretManagerCacheClientBuilder.new_client()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_info(what, info, name, version, value, data_type="text"):
    cu.check(info is not None, what, "a SecretInfo", info)
    cu.expect_eq(what + ".secret_name", name, info.secret_name)
    cu.expect_eq(what + ".version_id", version, info.version_id)
    cu.expect_eq(what + ".secret_value", value, info.secret_value)
    cu.expect_eq(what + ".secret_data_type", data_type, info.secret_data_type)
    cu.expect_eq(what + ".secret_type", "Generic", info.secret_type)
    cu.expect_iso_time(what + ".create_time", info.create_time)


def server_error(exc):
    if isinstance(exc, ServerException):
        return exc.get_error_code(), exc.get_http_status()
    return None


def steps():
    clients = []

    def keep(client):
        clients.append(client)
        return client

    def step_fetch_then_refresh(st):
        name = secret_name("text")
        value = "cache v1 中文 a+b&c=d\n"
        CLASSIC.call("CreateSecret", SecretName=name, VersionId="v1", SecretData=value)
        client = keep(code_client())
        check_info("get_secret_info (first fetch)", client.get_secret_info(name), name, "v1", value)
        cu.expect_eq("get_secret_value", value, client.get_secret_value(name))
        value2 = "cache v2 (Tea, form body) ✓"
        TEA.call("PutSecretValue", SecretName=name, VersionId="v2", SecretData=value2)
        # Within the default TTL (1 h) the client answers from its cache without asking the server.
        cu.expect_eq("get_secret_value after PutSecretValue, before a refresh (cached)", value,
                     client.get_secret_value(name))
        cu.expect_eq("refresh_now", True, client.refresh_now(name))
        check_info("get_secret_info after refresh_now", client.get_secret_info(name), name, "v2", value2)
        value3 = "cache v3 (classic, query)"
        CLASSIC.call("PutSecretValue", SecretName=name, VersionId="v3", SecretData=value3)
        cu.expect_eq("refresh_now (second)", True, client.refresh_now(name))
        check_info("get_secret_info after the second refresh_now", client.get_secret_info(name), name, "v3", value3)

    def step_ttl_refresh(st):
        name = secret_name("ttl")
        CLASSIC.call("CreateSecret", SecretName=name, VersionId="v1", SecretData="ttl one")
        # with_secret_ttl: fetched at build time, stale after 1.5 s (then the next read fetches again).
        client = keep(code_client({name: 1500}))
        check_info("get_secret_info (TTL 1.5 s)", client.get_secret_info(name), name, "v1", "ttl one")
        TEA.call("PutSecretValue", SecretName=name, VersionId="v2", SecretData="ttl two")
        time.sleep(2.0)
        check_info("get_secret_info 2 s later (TTL expired)", client.get_secret_info(name), name, "v2", "ttl two")
        # A JSON value's "ttl" field (milliseconds) is the client's refresh strategy too.
        json_name = secret_name("jsonttl")
        v1 = json.dumps({"ttl": 1000, "password": "one"})
        CLASSIC.call("CreateSecret", SecretName=json_name, VersionId="v1", SecretData=v1)
        check_info("get_secret_info(JSON ttl 1 s)", client.get_secret_info(json_name), json_name, "v1", v1)
        v2 = json.dumps({"ttl": 1000, "password": "two"})
        CLASSIC.call("PutSecretValue", SecretName=json_name, VersionId="v2", SecretData=v2)
        time.sleep(1.5)
        check_info("get_secret_info(JSON ttl) 1.5 s later", client.get_secret_info(json_name), json_name, "v2", v2)

    def step_env_configured_client(st):
        name = secret_name("env")
        CLASSIC.call("CreateSecret", SecretName=name, VersionId="e1", SecretData="from env config")
        client = keep(env_client())
        check_info("get_secret_info (client configured by environment)", client.get_secret_info(name), name, "e1",
                   "from env config")
        TEA.call("PutSecretValue", SecretName=name, VersionId="e2", SecretData="env two")
        cu.expect_eq("refresh_now (env client)", True, client.refresh_now(name))
        cu.expect_eq("get_secret_value after refresh_now (env client)", "env two", client.get_secret_value(name))

    def step_binary(st):
        name = secret_name("bin")
        data = base64.b64encode(b"\xfb\xff\x00binary cache" + os.urandom(20)).decode()
        TEA.call("CreateSecret", SecretName=name, VersionId="b1", SecretData=data, SecretDataType="binary")
        client = keep(code_client())
        check_info("get_secret_info(binary)", client.get_secret_info(name), name, "b1", data, data_type="binary")
        # get_binary_value cannot be used: 0.0.6 wraps bytes(...) in bytebuffer's ByteBuffer.wrap, which
        # accepts only a bytearray (TypeError "Can wrap only bytearray", a client bug independent of the
        # server); get_secret_info carries the same value (the Base64 text) and type.
        try:
            client.get_secret_value(name)
        except ValueError:
            pass
        else:
            cu.fail("get_secret_value of a binary secret", "ValueError (the client refuses text access)", "a value")
        data2 = base64.b64encode(os.urandom(33)).decode()
        CLASSIC.call("PutSecretValue", SecretName=name, VersionId="b2", SecretData=data2, SecretDataType="binary")
        cu.expect_eq("refresh_now(binary)", True, client.refresh_now(name))
        check_info("get_secret_info(binary) after refresh_now", client.get_secret_info(name), name, "b2", data2,
                   data_type="binary")

    def step_rotation_fields(st):
        name = secret_name("rot")
        CLASSIC.call("CreateSecret", SecretName=name, VersionId="r1", SecretData="rotating",
                     EnableAutomaticRotation=True, RotationInterval="7d")
        info = keep(code_client()).get_secret_info(name)
        check_info("get_secret_info(rotating)", info, name, "r1", "rotating")
        cu.expect_eq("automatic_rotation", "Enabled", info.automatic_rotation)
        cu.expect_eq("rotation_interval", "604800s", info.rotation_interval)
        cu.expect_iso_time("next_rotation_date", info.next_rotation_date)

    def step_errors(st):
        client = keep(code_client())
        missing = secret_name("missing")
        cu.expect_error("get_secret_info(unknown secret)", lambda: client.get_secret_info(missing), server_error,
                        "Forbidden.ResourceNotFound", 404)
        name = secret_name("deleted")
        CLASSIC.call("CreateSecret", SecretName=name, VersionId="d1", SecretData="deleted soon")
        CLASSIC.call("DeleteSecret", SecretName=name, RecoveryWindowInDays=7)
        cu.expect_error("get_secret_info(secret in its recovery window)", lambda: client.get_secret_info(name),
                        server_error, "Rejected.ResourceInDeleteWindow", 409)
        cu.expect_eq("refresh_now(secret in its recovery window) reports failure", False, client.refresh_now(name))

    def step_close(st):
        for client in clients:
            client.close()

    return [
        ("fetch, PutSecretValue, refresh_now", step_fetch_then_refresh),
        ("per-secret TTL and JSON ttl refresh", step_ttl_refresh),
        ("client configured by environment variables", step_env_configured_client),
        ("binary secrets", step_binary),
        ("rotation fields", step_rotation_fields),
        ("server errors", step_errors),
        ("close the clients", step_close),
    ]


if __name__ == "__main__":
    cu.run(SCRIPT, steps())
