"""The CTyun EOP surface (`POST /v1/<group>/<action>`, `Eop-Authorization`) driven by the CTyun
page's own signing code (ctyun_seed.py, a fixture copied from the reference), next to the
classic Alibaba SDK on the same node: the page's `enableKey` call, keys made on either API seen
on the other, the key-management and crypto actions, GET with a signed query, and the
errors in CTyun's envelope (statusCode 900, the API's code in `error`, the HTTP status of the
API's table).

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID, YAOSHI_ACCESS_KEY_SECRET,
YAOSHI_REGION. The node's clock is UTC and so is the page's `datetime.now()` (TZ=UTC).
"""

import base64
import hashlib
import json
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
import ctyun_seed as seed  # noqa: E402
import requests  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeKeyRequest import DescribeKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DecryptRequest import DecryptRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DisableKeyRequest import DisableKeyRequest  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402

SCRIPT = "ctyun-eop"
ENV = cu.Env()
from classic_sdk import call, create_key, request  # noqa: E402

BASE = "http://%s" % ENV.endpoint


def eop(group, action, params=None, method="POST"):
    """A call through the page's code; returns (HTTP status, parsed body)."""
    fn = seed.post if method == "POST" else seed.get
    res = fn("%s/v1/%s/%s" % (BASE, group, action), params=params)
    try:
        body = res.json()
    except ValueError:
        cu.fail("%s/%s body" % (group, action), "JSON", res.text)
    for field in ("statusCode", "message", "error", "returnObj"):
        cu.check(field in body, "%s/%s.%s" % (group, action, field), "present", body)
    return res.status_code, body


def ok(group, action, params=None, method="POST"):
    status, body = eop(group, action, params, method)
    cu.check(status == 200 and body["statusCode"] == 800, "%s/%s" % (group, action), "HTTP 200, statusCode 800", (status, body))
    cu.check(body["error"] == "", "%s/%s.error" % (group, action), "empty", body)
    ret = body["returnObj"]
    cu.expect_nonempty_str("%s/%s.returnObj.requestId" % (group, action), ret.get("requestId"))
    return ret


def refused(what, status, body, code, http):
    cu.check(
        status == http and body.get("statusCode") == 900 and body.get("error") == code,
        what,
        "HTTP %s, statusCode 900, error %s" % (http, code),
        (status, body),
    )
    cu.expect_nonempty_str(what + ".returnObj.requestId", body["returnObj"].get("requestId"))


def alibaba_state(key_id):
    return call(request(DescribeKeyRequest, KeyId=key_id))["KeyMetadata"]["KeyState"]


def seed_enable_key(state):
    # A key made and disabled over the Alibaba API; the page's own call enables it.
    key_id = create_key("made over the Alibaba API")["KeyMetadata"]["KeyId"]
    call(request(DisableKeyRequest, KeyId=key_id))
    res = seed.post(BASE + "/v1/cmkManage/enableKey", params={"cmkUuid": key_id})
    cu.check(res.status_code == 200 and res.json()["statusCode"] == 800, "enableKey", "800", res.text)
    cu.expect_eq("KeyState after the page's enableKey", "Enabled", alibaba_state(key_id))
    state["alibaba_key"] = key_id


def create_describe_and_disable(state):
    ret = ok("cmkManage", "createKey", {"keySpec": "Aliyun_AES_256", "description": "made over EOP"})
    md = ret["keyMetadata"]
    key_id = md["keyId"]
    cu.expect_eq("createKey.keyMetadata.keyState", "Enabled", md["keyState"])
    described = ok("cmkManage", "describeKey", {"cmkUuid": key_id})["keyMetadata"]
    cu.expect_eq("describeKey.description", "made over EOP", described["description"])
    alibaba = call(request(DescribeKeyRequest, KeyId=key_id))["KeyMetadata"]
    cu.expect_eq("Alibaba DescribeKey.Description", "made over EOP", alibaba["Description"])
    ok("cmkManage", "disableKey", {"cmkUuid": key_id})
    cu.expect_eq("KeyState seen by the Alibaba SDK after an EOP disableKey", "Disabled", alibaba_state(key_id))
    ok("cmkManage", "enableKey", {"cmkUuid": key_id})
    state["eop_key"] = key_id


def list_keys_with_a_signed_query(state):
    ret = ok("cmkManage", "listKeys", {"pageNumber": 1, "pageSize": 100}, method="GET")
    cu.expect_eq("listKeys.pageSize (from the query)", 100, ret["pageSize"])
    ids = [k["keyId"] for k in ret["keys"]["key"]]
    for key in ("alibaba_key", "eop_key"):
        cu.check(state[key] in ids, "listKeys", "lists %s" % state[key], ids)


def encrypt_decrypt_and_data_keys(state):
    key_id = state["eop_key"]
    plaintext = cu.sample_plaintext("eop")
    context = {"purpose": "eop", "n": "1"}
    blob = ok("cryptoOps", "encrypt", {"cmkUuid": key_id, "plaintext": plaintext, "encryptionContext": context})[
        "ciphertextBlob"
    ]
    back = ok("cryptoOps", "decrypt", {"ciphertextBlob": blob, "encryptionContext": context})
    cu.expect_eq("decrypt.plaintext", plaintext, back["plaintext"])
    cu.expect_eq("decrypt.keyId", key_id, back["keyId"])
    # The same ciphertext through the Alibaba SDK, context as its JSON text.
    alibaba = call(request(DecryptRequest, CiphertextBlob=blob, EncryptionContext=json.dumps(context)))
    cu.expect_eq("Alibaba Decrypt.Plaintext", plaintext, alibaba["Plaintext"])
    status, body = eop("cryptoOps", "decrypt", {"ciphertextBlob": blob, "encryptionContext": {"purpose": "other"}})
    refused("decrypt under another context", status, body, "InvalidParameter", 400)
    dk = ok("cryptoOps", "generateDataKey", {"cmkUuid": key_id, "numberOfBytes": 32})
    cu.expect_eq("generateDataKey plaintext length", 32, len(base64.b64decode(dk["plaintext"])))
    back = ok("cryptoOps", "decrypt", {"ciphertextBlob": dk["ciphertextBlob"]})
    cu.expect_eq("data key decrypts", dk["plaintext"], back["plaintext"])
    rnd = ok("cryptoOps", "generateRandom", {"numberOfBytes": 48})["random"]
    cu.expect_eq("generateRandom length", 48, len(base64.b64decode(rnd)))
    status, body = eop("cryptoOps", "generateRandom", {"numberOfBytes": 1025})
    refused("generateRandom of 1025 bytes", status, body, "InvalidParameter", 400)
    wo = ok("cryptoOps", "generateDataKeyWithoutPlaintext", {"cmkUuid": key_id, "keySpec": "AES_128"})
    cu.check("plaintext" not in wo, "generateDataKeyWithoutPlaintext", "no plaintext", wo)


def hmac_sm3_macs(state):
    # CTyun's "计算hmacSM3": an HMAC_SM3 key made over EOP, generateMac / verifyMac over EOP, and
    # the same MAC verified through the Alibaba API (the classic SDK's CommonRequest).
    from aliyunsdkcore.request import CommonRequest

    md = ok("cmkManage", "createKey", {"keySpec": "HMAC_SM3"})["keyMetadata"]
    cu.expect_eq("createKey(HMAC_SM3).keyUsage", "GENERATE/VERIFY_MAC", md["keyUsage"])
    message = base64.b64encode(b"hmac over eop").decode()
    ret = ok("cryptoOps", "generateMac", {"cmkUuid": md["keyId"], "message": message})
    cu.expect_eq("generateMac.keyVersionId", md["primaryKeyVersion"], ret["keyVersionId"])
    cu.expect_eq("generateMac MAC length", 32, len(base64.b64decode(ret["macData"])))
    back = ok("cryptoOps", "verifyMac", {"cmkUuid": md["keyId"], "message": message, "macData": ret["macData"]})
    cu.check(back["macVerified"] is True, "verifyMac", "macVerified true", back)
    req = CommonRequest(domain=ENV.endpoint, version="2016-01-20", action_name="VerifyMac")
    req.set_protocol_type("http")
    req.set_method("POST")
    req.set_accept_format("JSON")
    for name, value in (("KeyId", md["keyId"]), ("Message", message), ("MacData", ret["macData"])):
        req.add_query_param(name, value)
    cu.check(call(req)["MacVerified"] is True, "Alibaba VerifyMac of an EOP MAC", "MacVerified true", ret)
    status, body = eop("cryptoOps", "generateMac", {"cmkUuid": state["eop_key"], "message": message})
    refused("generateMac on an AES key", status, body, "Unsupported.Operation", 400)


def schedule_and_cancel_deletion(state):
    key_id = state["alibaba_key"]
    ok("cmkManage", "scheduleKeyDeletion", {"cmkUuid": key_id, "pendingWindowInDays": 7})
    cu.expect_eq("KeyState after scheduleKeyDeletion", "PendingDeletion", alibaba_state(key_id))
    ok("cmkManage", "cancelKeyDeletion", {"cmkUuid": key_id})
    cu.expect_eq("KeyState after cancelKeyDeletion", "Enabled", alibaba_state(key_id))


def asymmetric_sign_and_verify(state):
    md = ok("cmkManage", "createKey", {"keySpec": "RSA_2048", "keyUsage": "SIGN/VERIFY"})["keyMetadata"]
    key_id, version = md["keyId"], md["primaryKeyVersion"]
    pem = ok("cryptoOps", "getPublicKey", {"cmkUuid": key_id, "keyVersionId": version})["publicKey"]
    message = b"signed over EOP"
    digest = base64.b64encode(hashlib.sha256(message).digest()).decode()
    common = {"cmkUuid": key_id, "keyVersionId": version, "algorithm": "RSA_PSS_SHA_256"}
    value = ok("cryptoOps", "asymmetricSign", dict(common, digest=digest))["value"]
    public = serialization.load_pem_public_key(pem.encode())
    public.verify(
        base64.b64decode(value),
        message,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    verified = ok("cryptoOps", "asymmetricVerify", dict(common, digest=digest, value=value))
    cu.expect_eq("asymmetricVerify.value", True, verified["value"])


def errors_in_the_envelope(state):
    key_id = state["eop_key"]
    status, body = eop("cmkManage", "describeKey", {"cmkUuid": cu.random_key_id()})
    refused("describeKey of an unknown key", status, body, "Forbidden.KeyNotFound", 404)
    status, body = eop("cryptoOps", "enableKey", {"cmkUuid": key_id})
    refused("an action outside its group", status, body, "InvalidParameter", 400)
    status, body = eop("cmkManage", "noSuchAction", {"cmkUuid": key_id})
    refused("an unknown action", status, body, "InvalidParameter", 400)
    # A wrong secret: the page's code signing with another SK.
    saved = seed.SK
    seed.SK = saved + "x"
    try:
        status, body = eop("cryptoOps", "encrypt", {"cmkUuid": key_id, "plaintext": "c2VjcmV0LXBsYWlu"})
        got = eop("cryptoOps", "encrypt", {"cmkUuid": key_id, "plaintext": "c2VjcmV0LXBsYWlu"}, method="GET")
    finally:
        seed.SK = saved
    for what, (status, body) in (("POST", (status, body)), ("GET", got)):
        refused("a wrong secret (%s)" % what, status, body, "SignatureDoesNotMatch", 400)
        cu.check("c2VjcmV0LXBsYWlu" not in json.dumps(body), "SignatureDoesNotMatch", "no plaintext echoed", body)
    cu.check("plaintext=REDACTED" in got[1]["message"], "GET SignatureDoesNotMatch", "the query redacted", got[1])
    # A replay: the same signed headers and body sent twice.
    params = {"cmkUuid": key_id}
    headers = seed.get_sign_headers({}, params)
    url = BASE + "/v1/cmkManage/describeKey"
    first = requests.post(url, json=params, headers=headers)
    cu.expect_eq("first send", 200, first.status_code)
    second = requests.post(url, json=params, headers=headers)
    refused("a replayed request id", second.status_code, second.json(), "SignatureNonceUsed", 400)
    # A changed body under the old signature.
    headers = seed.get_sign_headers({}, params)
    res = requests.post(url, json={"cmkUuid": state["alibaba_key"]}, headers=headers)
    refused("a body changed after signing", res.status_code, res.json(), "SignatureDoesNotMatch", 400)
    # No Eop-Authorization at all, and a body that is not a JSON object.
    res = requests.post(url, json=params)
    refused("no Eop-Authorization", res.status_code, res.json(), "MissingParameter", 400)
    res = requests.post(url, data=b"[1, 2]", headers=seed.get_sign_headers({}, {}))
    refused("a body that is not an object", res.status_code, res.json(), "InvalidParameter", 400)


if __name__ == "__main__":
    cu.run(
        SCRIPT,
        [
            ("the page's enableKey on an Alibaba-made key", seed_enable_key),
            ("createKey, describeKey, disableKey seen by the Alibaba SDK", create_describe_and_disable),
            ("listKeys over GET with a signed query", list_keys_with_a_signed_query),
            ("encrypt, decrypt, data keys, across both APIs", encrypt_decrypt_and_data_keys),
            ("generateMac and verifyMac with an HMAC_SM3 key, across both APIs", hmac_sm3_macs),
            ("scheduleKeyDeletion and cancelKeyDeletion", schedule_and_cancel_deletion),
            ("asymmetricSign verified by cryptography, asymmetricVerify", asymmetric_sign_and_verify),
            ("errors in CTyun's envelope", errors_in_the_envelope),
        ],
    )
