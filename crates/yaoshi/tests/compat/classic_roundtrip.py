"""Drive Yaoshi through the classic Alibaba Cloud Python SDK
(aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1).

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID,
YAOSHI_ACCESS_KEY_SECRET, YAOSHI_REGION.
"""

import json
import os
import sys
import warnings
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from aliyunsdkkms.request.v20160120.CreateKeyRequest import CreateKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DecryptRequest import DecryptRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeKeyRequest import DescribeKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.EncryptRequest import EncryptRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListKeysRequest import ListKeysRequest  # noqa: E402

SCRIPT = "classic"
ENV = cu.Env()
CONTEXT = {"purpose": "test", "k": "v"}

from classic_sdk import CLIENT, call, create_key, expect_error, make_client, request  # noqa: E402


def step_create_key(st):
    body = create_key("compat test")
    cu.check("Code" not in body, "CreateKey body", "no 'Code' field in a success body", body)
    cu.expect_nonempty_str("CreateKey.RequestId", body.get("RequestId"))
    md = body["KeyMetadata"]
    key_id = md["KeyId"]
    cu.expect_eq("CreateKey.KeyMetadata.KeyState", "Enabled", md.get("KeyState"))
    cu.expect_eq("CreateKey.KeyMetadata.KeySpec", "Aliyun_AES_256", md.get("KeySpec"))
    cu.expect_eq("CreateKey.KeyMetadata.KeyUsage", "ENCRYPT/DECRYPT", md.get("KeyUsage"))
    cu.expect_eq("CreateKey.KeyMetadata.Origin", "Aliyun_KMS", md.get("Origin"))
    cu.expect_eq("CreateKey.KeyMetadata.Description", "compat test", md.get("Description"))
    cu.expect_iso_time("CreateKey.KeyMetadata.CreationDate", md.get("CreationDate"))
    cu.expect_arn("CreateKey.KeyMetadata.Arn", ENV.region, key_id, md.get("Arn"))
    cu.expect_nonempty_str("CreateKey.KeyMetadata.PrimaryKeyVersion", md.get("PrimaryKeyVersion"))
    st["key"] = md


def step_describe_key(st):
    created = st["key"]
    body = call(request(DescribeKeyRequest, KeyId=created["KeyId"]))
    cu.check("Code" not in body, "DescribeKey body", "no 'Code' field in a success body", body)
    md = body.get("KeyMetadata")
    cu.check(isinstance(md, dict), "DescribeKey.KeyMetadata", "an object", body)
    for field in ("KeyId", "KeyState", "KeySpec", "Description", "Arn"):
        cu.expect_eq("DescribeKey.KeyMetadata.%s" % field, created[field], md.get(field))


def step_describe_key_xml(st):
    key_id = st["key"]["KeyId"]
    req = request(DescribeKeyRequest, KeyId=key_id)
    req.set_accept_format("XML")  # do_action_with_exception would force JSON; get_response keeps XML
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        status, _headers, body = CLIENT.get_response(req)
    cu.expect_eq("DescribeKey(Format=XML) HTTP status", 200, status)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        cu.fail("DescribeKey(Format=XML) body", "well-formed XML (%s)" % exc, body)
    cu.expect_eq("DescribeKey(Format=XML) root tag", "KMS", root.tag)
    cu.expect_eq("DescribeKey(Format=XML) KeyMetadata/KeyId", key_id, root.findtext("KeyMetadata/KeyId"))


def step_encrypt_decrypt(st):
    key = st["key"]
    plaintext = cu.sample_plaintext("no-context")
    enc = call(request(EncryptRequest, KeyId=key["KeyId"], Plaintext=plaintext))
    cu.expect_b64("Encrypt.CiphertextBlob", enc.get("CiphertextBlob"))
    cu.expect_eq("Encrypt.KeyId", key["KeyId"], enc.get("KeyId"))
    cu.expect_eq("Encrypt.KeyVersionId", key["PrimaryKeyVersion"], enc.get("KeyVersionId"))
    dec = call(request(DecryptRequest, CiphertextBlob=enc["CiphertextBlob"]))
    cu.expect_eq("Decrypt.Plaintext", plaintext, dec.get("Plaintext"))
    cu.expect_eq("Decrypt.KeyId", key["KeyId"], dec.get("KeyId"))
    cu.expect_eq("Decrypt.KeyVersionId", key["PrimaryKeyVersion"], dec.get("KeyVersionId"))
    st["blob"] = enc["CiphertextBlob"]


def step_encrypt_decrypt_context(st):
    key = st["key"]
    plaintext = cu.sample_plaintext("context")
    # json.dumps default spacing: {"purpose": "test", "k": "v"}
    enc = call(request(EncryptRequest, KeyId=key["KeyId"], Plaintext=plaintext, EncryptionContext=json.dumps(CONTEXT)))
    cu.expect_b64("Encrypt(ctx).CiphertextBlob", enc.get("CiphertextBlob"))
    cu.expect_eq("Encrypt(ctx).KeyId", key["KeyId"], enc.get("KeyId"))
    # same context, other key order, compact spacing
    reordered = json.dumps({"k": "v", "purpose": "test"}, separators=(",", ":"))
    dec = call(request(DecryptRequest, CiphertextBlob=enc["CiphertextBlob"], EncryptionContext=reordered))
    cu.expect_eq("Decrypt(ctx reordered).Plaintext", plaintext, dec.get("Plaintext"))
    cu.expect_eq("Decrypt(ctx reordered).KeyId", key["KeyId"], dec.get("KeyId"))
    cu.expect_eq("Decrypt(ctx reordered).KeyVersionId", key["PrimaryKeyVersion"], dec.get("KeyVersionId"))
    st["ctx_blob"] = enc["CiphertextBlob"]


def step_wrong_context(st):
    blob = st["ctx_blob"]
    wrong = json.dumps({"purpose": "other", "k": "v"})
    expect_error("Decrypt with a wrong EncryptionContext",
                 request(DecryptRequest, CiphertextBlob=blob, EncryptionContext=wrong), "InvalidParameter", 400)
    expect_error("Decrypt without the EncryptionContext used to encrypt",
                 request(DecryptRequest, CiphertextBlob=blob), "InvalidParameter", 400)


def step_bad_blobs(st):
    expect_error("Decrypt of a tampered CiphertextBlob",
                 request(DecryptRequest, CiphertextBlob=cu.tamper_blob(st["blob"])), "InvalidParameter", 400)
    expect_error("Decrypt of malformed base64",
                 request(DecryptRequest, CiphertextBlob="!!notbase64"), "InvalidParameter", 400)


def step_key_not_found(st):
    expect_error("DescribeKey of an unknown KeyId",
                 request(DescribeKeyRequest, KeyId=cu.random_key_id()), "Forbidden.KeyNotFound", 404)


def step_special_description(st):
    # Characters that stress the RPC v1 canonicalization (percent-encoding of * ! ( ) ' ~ space,
    # UTF-8, a literal "%20", "&" and "=") on both the query string and the signature.
    desc = "compat *!()'~ \u00fc/+=&%20 \u94a5\u5319"
    md = create_key(desc)["KeyMetadata"]
    cu.expect_eq("CreateKey.KeyMetadata.Description", desc, md.get("Description"))
    body = call(request(DescribeKeyRequest, KeyId=md["KeyId"]))
    cu.expect_eq("DescribeKey.KeyMetadata.Description", desc, body.get("KeyMetadata", {}).get("Description"))
    st.setdefault("more_keys", set()).add(md["KeyId"])


def step_list_keys(st):
    created = {st["key"]["KeyId"]} | st.get("more_keys", set())
    for i in range(5):
        created.add(create_key("compat list %d" % i)["KeyMetadata"]["KeyId"])

    seen, page, size = [], 1, 2
    while True:
        body = call(request(ListKeysRequest, PageNumber=page, PageSize=size))
        what = "ListKeys(PageNumber=%d, PageSize=%d)" % (page, size)
        cu.expect_int(what + ".PageNumber", page, body.get("PageNumber"))
        cu.expect_int(what + ".PageSize", size, body.get("PageSize"))
        total = body.get("TotalCount")
        cu.check(type(total) is int and total >= len(created), what + ".TotalCount",
                 "an int >= %d" % len(created), total)
        keys = body.get("Keys")
        cu.check(isinstance(keys, dict) and isinstance(keys.get("Key"), list), what + ".Keys",
                 '{"Key": [...]}', keys)
        entries = keys["Key"]
        cu.check(len(entries) <= size, what + " entry count", "at most %d" % size, len(entries))
        for entry in entries:
            cu.expect_nonempty_str(what + " entry KeyId", entry.get("KeyId"))
            cu.expect_arn(what + " entry KeyArn", ENV.region, entry["KeyId"], entry.get("KeyArn"))
            seen.append(entry["KeyId"])
        if len(entries) < size or page * size >= total:
            break
        page += 1
        cu.check(page <= total // size + 2, "ListKeys paging", "to end within TotalCount/PageSize pages", page)

    dupes = sorted({k for k in seen if seen.count(k) > 1})
    cu.check(not dupes, "ListKeys pages", "every KeyId exactly once", dupes)
    missing = sorted(created - set(seen))
    cu.check(not missing, "ListKeys pages", "all created keys listed", {"missing": missing})
    cu.expect_eq("ListKeys.TotalCount vs distinct keys seen", len(set(seen)), total)

    for bad in (0, 101):
        expect_error("ListKeys PageSize=%d" % bad, request(ListKeysRequest, PageNumber=1, PageSize=bad),
                     "InvalidParameter", 400)


def step_wrong_secret(st):
    client = make_client(secret=ENV.access_key_secret + "-wrong")
    # The SDK rewrites a 400 SignatureDoesNotMatch into InvalidAccessKeySecret only when the server's
    # message ends in "server string to sign is:<StringToSign>" equal to its own (docs/WIRE.md §4.1).
    req = request(DescribeKeyRequest, KeyId=st["key"]["KeyId"])
    what = "DescribeKey signed with a wrong AccessKeySecret"
    try:
        expect_error(what, req, "InvalidAccessKeySecret", 400, client)
    except cu.StepFailure as exc:
        cause = exc.__cause__
        if isinstance(cause, IndexError):
            hint = ("the SDK crashed on Message.split(':')[1]: the server's SignatureDoesNotMatch "
                    "message must end with 'server string to sign is:<StringToSign>'")
        elif isinstance(cause, ServerException) and cause.get_error_code() == "SignatureDoesNotMatch":
            hint = ("the server's StringToSign differs from the SDK's; SDK string to sign is:%s"
                    % getattr(req, "string_to_sign", "?"))
        else:
            raise
        raise cu.StepFailure("%s (%s)" % (exc, hint)) from cause
    client = make_client(access_key_id="yaoshi-unknown-" + cu.random_key_id()[:8])
    expect_error("DescribeKey with an unknown AccessKeyId",
                 request(DescribeKeyRequest, KeyId=st["key"]["KeyId"]), "InvalidAccessKeyId.NotFound", 404, client)


def step_bad_key_and_spec(st):
    expect_error("Encrypt with an unknown KeyId",
                 request(EncryptRequest, KeyId=cu.random_key_id(), Plaintext=cu.sample_plaintext()),
                 "Forbidden.KeyNotFound", 404)
    expect_error("CreateKey with KeySpec=Bogus",
                 request(CreateKeyRequest, KeySpec="Bogus", Description="compat bogus"), "InvalidParameter", 400)


STEPS = [
    ("CreateKey", step_create_key),
    ("DescribeKey", step_describe_key),
    ("DescribeKey Format=XML", step_describe_key_xml),
    ("Encrypt/Decrypt without context", step_encrypt_decrypt),
    ("Encrypt/Decrypt with EncryptionContext", step_encrypt_decrypt_context),
    ("Decrypt with wrong/missing context", step_wrong_context),
    ("Decrypt tampered and malformed blobs", step_bad_blobs),
    ("DescribeKey unknown key", step_key_not_found),
    ("CreateKey/DescribeKey with special characters", step_special_description),
    ("ListKeys paging", step_list_keys),
    ("wrong secret / unknown AccessKeyId", step_wrong_secret),
    ("unknown KeyId / bogus KeySpec", step_bad_key_and_spec),
]

if __name__ == "__main__":
    cu.run(SCRIPT, STEPS)
