"""GenerateMac / VerifyMac (our addition, docs/API.md "HMAC keys") through the official SDKs' generic
requests, since neither SDK has request classes for them: the classic SDK's CommonRequest (RPC v1
HMAC-SHA1) and the Tea SDK's OpenApiClient.call_api (ACS3-HMAC-SHA256, then signature_algorithm='v2').
HMAC_SHA256 and HMAC_SM3 keys are made with each SDK's typed CreateKey (KeyUsage defaults to
GENERATE/VERIFY_MAC). Checked: MacData is 32 bytes of standard Base64, deterministic, the same for
every client (each client verifies the MACs the previous ones made), VerifyMac's MacVerified is a
JSON boolean (true; false for a tampered message or MAC, not an error), and the error codes with
their HTTP status (not an HMAC key, Encrypt on an HMAC key, Message over 4096 bytes, an unknown
KeyVersionId, a Disabled key).

The key material never leaves KMS, so the algorithm itself is checked where the key is known: the
known-answer tests of crates/yaoshi-crypto/src/mac_test.rs (RFC 4231 for HMAC-SHA256; HMAC-SM3
values computed with this venv's gmssl).

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION.
"""

import base64
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import classic_sdk  # noqa: E402
import compat_util as cu  # noqa: E402
import tea_sdk  # noqa: E402
from aliyunsdkcore.request import CommonRequest  # noqa: E402
from alibabacloud_tea_openapi.models import OpenApiRequest, Params  # noqa: E402
from alibabacloud_tea_util.models import RuntimeOptions  # noqa: E402

SCRIPT = "sdk-mac"
ENV = cu.Env()
SPECS = ("HMAC_SHA256", "HMAC_SM3")
MESSAGES = (b"a", b"The quick brown fox \xfb\xff\x00", bytes(range(256)) * 16)  # the last: 4096 bytes


class Classic(classic_sdk.Api):
    """The classic SDK; actions without a request class through CommonRequest."""

    def _common(self, action, params):
        req = CommonRequest(domain=ENV.endpoint, version="2016-01-20", action_name=action)
        req.set_protocol_type("http")
        req.set_method("POST")
        req.set_accept_format("JSON")
        for name, value in params.items():
            req.add_query_param(name, value)
        return req

    def generic(self, action, **params):
        return classic_sdk.call(self._common(action, params))

    def generic_error(self, what, action, code, status, **params):
        return classic_sdk.expect_error(what, self._common(action, params), code, status)


class Tea(tea_sdk.Api):
    """The Tea SDK; actions without a typed method through the generic OpenApiClient.call_api."""

    def _call_api(self, action, params):
        api = Params(action=action, version="2016-01-20", protocol="HTTP", pathname="/", method="POST",
                     auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        query = {k: str(v) for k, v in params.items()}
        return self.client.call_api(api, OpenApiRequest(query=query), RuntimeOptions())

    def generic(self, action, **params):
        r = self._call_api(action, params)
        cu.expect_eq(action + " HTTP status", 200, r["statusCode"])
        body = r["body"]
        cu.check(isinstance(body, dict) and "Code" not in body, action + " body", "an object without 'Code'", body)
        cu.expect_nonempty_str(action + ".RequestId", body.get("RequestId"))
        return body

    def generic_error(self, what, action, code, status, **params):
        return tea_sdk.expect_error(what, lambda: self._call_api(action, params), code, status)


def b64(raw):
    return base64.b64encode(raw).decode()


def steps(api, prefix):
    tag = api.label

    def create_keys(state):
        keys = {}
        for spec in SPECS:
            md = api.call("CreateKey", KeySpec=spec, Description="mac " + tag)["KeyMetadata"]
            cu.expect_eq("CreateKey(%s).KeySpec" % spec, spec, md["KeySpec"])
            cu.expect_eq("CreateKey(%s).KeyUsage (default)" % spec, "GENERATE/VERIFY_MAC", md["KeyUsage"])
            keys[spec] = (md["KeyId"], md["PrimaryKeyVersion"])
        state[tag] = keys
        state[tag + "/aes"] = api.call("CreateKey", KeySpec="Aliyun_AES_256")["KeyMetadata"]["KeyId"]

    def generate_and_verify(state):
        made = state.setdefault("macs", [])
        for spec, (key_id, version) in state[tag].items():
            for message in MESSAGES:
                what = "GenerateMac(%s, %d bytes)" % (spec, len(message))
                r = api.generic("GenerateMac", KeyId=key_id, Message=b64(message))
                cu.expect_eq(what + ".KeyId", key_id, r["KeyId"])
                cu.expect_eq(what + ".KeyVersionId", version, r["KeyVersionId"])
                mac = cu.expect_b64(what + ".MacData", r["MacData"])
                cu.expect_eq(what + " MAC length", 32, len(mac))
                again = api.generic("GenerateMac", KeyId=key_id, Message=b64(message))["MacData"]
                cu.expect_eq(what + " again (HMAC is deterministic)", r["MacData"], again)
                v = api.generic("VerifyMac", KeyId=key_id, Message=b64(message), MacData=r["MacData"])
                cu.check(v["MacVerified"] is True, "VerifyMac(%s)" % what, "MacVerified true", v)
                cu.expect_eq("VerifyMac(%s).KeyVersionId" % what, version, v["KeyVersionId"])
                tampered = bytearray(mac)
                tampered[-1] ^= 0x01
                for bad_what, msg, bad_mac in (
                    ("a tampered message", bytes([message[0] ^ 0x01]) + message[1:], r["MacData"]),
                    ("a tampered MAC", message, b64(bytes(tampered))),
                ):
                    v = api.generic("VerifyMac", KeyId=key_id, Message=b64(msg), MacData=bad_mac)
                    cu.check(v["MacVerified"] is False, "VerifyMac of %s (%s)" % (bad_what, spec), "MacVerified false", v)
                made.append((tag, spec, key_id, message, r["MacData"]))
        # The two keys' MACs of one message differ, and neither verifies under the other key.
        sha, sm3 = state[tag]["HMAC_SHA256"][0], state[tag]["HMAC_SM3"][0]
        m1 = api.generic("GenerateMac", KeyId=sha, Message=b64(b"x"))["MacData"]
        m2 = api.generic("GenerateMac", KeyId=sm3, Message=b64(b"x"))["MacData"]
        cu.check(m1 != m2, "MACs of two keys", "different", (m1, m2))
        v = api.generic("VerifyMac", KeyId=sm3, Message=b64(b"x"), MacData=m1)
        cu.check(v["MacVerified"] is False, "another key's MAC", "MacVerified false", v)

    def verify_other_clients_macs(state):
        for (maker, spec, key_id, message, mac) in state["macs"]:
            v = api.generic("VerifyMac", KeyId=key_id, Message=b64(message), MacData=mac)
            cu.check(v["MacVerified"] is True, "VerifyMac of %s's MAC (%s)" % (maker, spec), "MacVerified true", v)

    def errors(state):
        key_id, _ = state[tag]["HMAC_SM3"]
        aes = state[tag + "/aes"]
        api.generic_error("GenerateMac on an AES key", "GenerateMac", "Unsupported.Operation", 400,
                          KeyId=aes, Message=b64(b"m"))
        api.error("Encrypt on an HMAC key", "Encrypt", "Unsupported.Operation", 400,
                  KeyId=key_id, Plaintext=b64(b"m"))
        api.generic_error("GenerateMac of 4097 bytes", "GenerateMac", "InvalidParameter", 400,
                          KeyId=key_id, Message=b64(b"\x00" * 4097))
        mac = api.generic("GenerateMac", KeyId=key_id, Message=b64(b"m"))["MacData"]
        api.generic_error("VerifyMac with an unknown KeyVersionId", "VerifyMac", "Forbidden.KeyVersionNotFound", 404,
                          KeyId=key_id, Message=b64(b"m"), MacData=mac, KeyVersionId=cu.random_key_id())
        api.call("DisableKey", KeyId=key_id)
        api.generic_error("GenerateMac on a Disabled key", "GenerateMac", "Rejected.Disabled", 409,
                          KeyId=key_id, Message=b64(b"m"))
        api.generic_error("VerifyMac on a Disabled key", "VerifyMac", "Rejected.Disabled", 409,
                          KeyId=key_id, Message=b64(b"m"), MacData=mac)
        api.call("EnableKey", KeyId=key_id)
        v = api.generic("VerifyMac", KeyId=key_id, Message=b64(b"m"), MacData=mac)
        cu.check(v["MacVerified"] is True, "VerifyMac after EnableKey", "MacVerified true", v)

    return [
        (prefix + "CreateKey HMAC_SHA256 / HMAC_SM3", create_keys),
        (prefix + "GenerateMac / VerifyMac", generate_and_verify),
        (prefix + "VerifyMac of every client's MACs so far", verify_other_clients_macs),
        (prefix + "errors", errors),
    ]


if __name__ == "__main__":
    all_steps = steps(Classic(), "[classic] ")
    for label, algorithm in tea_sdk.SIGNATURES:
        all_steps += steps(Tea("tea-" + label, algorithm), "[tea-%s] " % label)
    cu.run(SCRIPT, all_steps)
