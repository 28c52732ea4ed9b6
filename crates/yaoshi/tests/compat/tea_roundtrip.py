"""Drive Yaoshi through the Tea / darabonba Alibaba Cloud Python SDK
(alibabacloud_kms20160120 Client on alibabacloud_tea_openapi), once with the default
ACS3-HMAC-SHA256 Authorization header and once with signature_algorithm='v2' (RPC v1 HMAC-SHA1).

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID,
YAOSHI_ACCESS_KEY_SECRET, YAOSHI_REGION.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
from alibabacloud_kms20160120 import models as kms  # noqa: E402

SCRIPT = "tea"
ENV = cu.Env()
CONTEXT = {"purpose": "test", "k": "v"}

from tea_sdk import SIGNATURES, expect_error, make_client, ok  # noqa: E402


def steps_for(label, signature_algorithm):
    client = make_client(signature_algorithm)
    p = "[%s] " % label

    def create_key(description):
        body = ok(p + "CreateKey", client.create_key(kms.CreateKeyRequest(key_spec="Aliyun_AES_256", description=description)))
        md = body.key_metadata
        cu.check(md is not None, p + "CreateKey.KeyMetadata", "present", body.to_map())
        cu.expect_nonempty_str(p + "CreateKey.KeyMetadata.KeyId", md.key_id)
        return md

    def step_create_key(st):
        md = create_key("compat test")
        cu.expect_eq(p + "CreateKey.KeyMetadata.KeyState", "Enabled", md.key_state)
        cu.expect_eq(p + "CreateKey.KeyMetadata.KeySpec", "Aliyun_AES_256", md.key_spec)
        cu.expect_eq(p + "CreateKey.KeyMetadata.KeyUsage", "ENCRYPT/DECRYPT", md.key_usage)
        cu.expect_eq(p + "CreateKey.KeyMetadata.Origin", "Aliyun_KMS", md.origin)
        cu.expect_eq(p + "CreateKey.KeyMetadata.Description", "compat test", md.description)
        cu.expect_iso_time(p + "CreateKey.KeyMetadata.CreationDate", md.creation_date)
        cu.expect_arn(p + "CreateKey.KeyMetadata.Arn", ENV.region, md.key_id, md.arn)
        cu.expect_nonempty_str(p + "CreateKey.KeyMetadata.PrimaryKeyVersion", md.primary_key_version)
        st[label] = {"key": md, "created": {md.key_id}}

    def step_describe_key(st):
        created = st[label]["key"]
        body = ok(p + "DescribeKey", client.describe_key(kms.DescribeKeyRequest(key_id=created.key_id)))
        md = body.key_metadata
        cu.check(md is not None, p + "DescribeKey.KeyMetadata", "present", body.to_map())
        for field in ("key_id", "key_state", "key_spec", "description", "arn"):
            cu.expect_eq(p + "DescribeKey.KeyMetadata.%s" % field, getattr(created, field), getattr(md, field))

    def step_encrypt_decrypt(st):
        key = st[label]["key"]
        plaintext = cu.sample_plaintext(label)
        enc = ok(p + "Encrypt", client.encrypt(kms.EncryptRequest(key_id=key.key_id, plaintext=plaintext)))
        cu.expect_b64(p + "Encrypt.CiphertextBlob", enc.ciphertext_blob)
        cu.expect_eq(p + "Encrypt.KeyId", key.key_id, enc.key_id)
        cu.expect_eq(p + "Encrypt.KeyVersionId", key.primary_key_version, enc.key_version_id)
        dec = ok(p + "Decrypt", client.decrypt(kms.DecryptRequest(ciphertext_blob=enc.ciphertext_blob)))
        cu.expect_eq(p + "Decrypt.Plaintext", plaintext, dec.plaintext)
        cu.expect_eq(p + "Decrypt.KeyId", key.key_id, dec.key_id)
        cu.expect_eq(p + "Decrypt.KeyVersionId", key.primary_key_version, dec.key_version_id)

    def step_context(st):
        key = st[label]["key"]
        plaintext = cu.sample_plaintext(label + " ctx")
        # Tea serialises the dict compactly: {"purpose":"test","k":"v"}
        enc = ok(p + "Encrypt(ctx)", client.encrypt(
            kms.EncryptRequest(key_id=key.key_id, plaintext=plaintext, encryption_context=dict(CONTEXT))))
        cu.expect_b64(p + "Encrypt(ctx).CiphertextBlob", enc.ciphertext_blob)
        dec = ok(p + "Decrypt(ctx reordered)", client.decrypt(
            kms.DecryptRequest(ciphertext_blob=enc.ciphertext_blob, encryption_context={"k": "v", "purpose": "test"})))
        cu.expect_eq(p + "Decrypt(ctx reordered).Plaintext", plaintext, dec.plaintext)
        cu.expect_eq(p + "Decrypt(ctx reordered).KeyId", key.key_id, dec.key_id)
        cu.expect_eq(p + "Decrypt(ctx reordered).KeyVersionId", key.primary_key_version, dec.key_version_id)
        blob = enc.ciphertext_blob
        expect_error(p + "Decrypt with a wrong EncryptionContext",
                     lambda: client.decrypt(kms.DecryptRequest(
                         ciphertext_blob=blob, encryption_context={"purpose": "other", "k": "v"})),
                     "InvalidParameter", 400)
        expect_error(p + "Decrypt without the EncryptionContext used to encrypt",
                     lambda: client.decrypt(kms.DecryptRequest(ciphertext_blob=blob)),
                     "InvalidParameter", 400)
        expect_error(p + "Decrypt of a tampered CiphertextBlob",
                     lambda: client.decrypt(kms.DecryptRequest(
                         ciphertext_blob=cu.tamper_blob(blob), encryption_context=dict(CONTEXT))),
                     "InvalidParameter", 400)

    def step_not_found(st):
        expect_error(p + "DescribeKey of an unknown KeyId",
                     lambda: client.describe_key(kms.DescribeKeyRequest(key_id=cu.random_key_id())),
                     "Forbidden.KeyNotFound", 404)
        expect_error(p + "Encrypt with an unknown KeyId",
                     lambda: client.encrypt(kms.EncryptRequest(key_id=cu.random_key_id(), plaintext=cu.sample_plaintext())),
                     "Forbidden.KeyNotFound", 404)

    def step_special_description(st):
        # Tea puts spaces on the wire as '+'; '*!()~ and UTF-8 stress both canonicalizations.
        desc = "compat *!()'~ \u00fc/+=&%20 \u94a5\u5319"
        md = create_key(desc)
        cu.expect_eq(p + "CreateKey.KeyMetadata.Description", desc, md.description)
        body = ok(p + "DescribeKey", client.describe_key(kms.DescribeKeyRequest(key_id=md.key_id)))
        cu.expect_eq(p + "DescribeKey.KeyMetadata.Description", desc, body.key_metadata.description)
        st[label]["created"].add(md.key_id)

    def step_list_keys(st):
        created = st[label]["created"]
        for i in range(5):
            created.add(create_key("compat %s list %d" % (label, i)).key_id)
        seen, page, size = [], 1, 2
        while True:
            what = p + "ListKeys(PageNumber=%d, PageSize=%d)" % (page, size)
            body = ok(what, client.list_keys(kms.ListKeysRequest(page_number=page, page_size=size)))
            cu.expect_int(what + ".PageNumber", page, body.page_number)
            cu.expect_int(what + ".PageSize", size, body.page_size)
            total = body.total_count
            cu.check(type(total) is int and total >= len(created), what + ".TotalCount",
                     "an int >= %d" % len(created), total)
            cu.check(body.keys is not None and body.keys.key is not None, what + ".Keys.Key", "a list", body.to_map())
            entries = body.keys.key
            cu.check(len(entries) <= size, what + " entry count", "at most %d" % size, len(entries))
            for entry in entries:
                cu.expect_nonempty_str(what + " entry KeyId", entry.key_id)
                cu.expect_arn(what + " entry KeyArn", ENV.region, entry.key_id, entry.key_arn)
                seen.append(entry.key_id)
            if len(entries) < size or page * size >= total:
                break
            page += 1
            cu.check(page <= total // size + 2, p + "ListKeys paging", "to end within TotalCount/PageSize pages", page)
        dupes = sorted({k for k in seen if seen.count(k) > 1})
        cu.check(not dupes, p + "ListKeys pages", "every KeyId exactly once", dupes)
        missing = sorted(created - set(seen))
        cu.check(not missing, p + "ListKeys pages", "all created keys listed", {"missing": missing})
        cu.expect_eq(p + "ListKeys.TotalCount vs distinct keys seen", len(set(seen)), total)
        for bad in (0, 101):
            expect_error(p + "ListKeys PageSize=%d" % bad,
                         lambda: client.list_keys(kms.ListKeysRequest(page_number=1, page_size=bad)),
                         "InvalidParameter", 400)

    def step_bad_credentials(st):
        key_id = st[label]["key"].key_id
        wrong = make_client(signature_algorithm, secret=ENV.access_key_secret + "-wrong")
        exc = expect_error(p + "DescribeKey signed with a wrong AccessKeySecret",
                           lambda: wrong.describe_key(kms.DescribeKeyRequest(key_id=key_id)),
                           ("SignatureDoesNotMatch", "IncompleteSignature"), 400)
        # docs/WIRE.md §4.1: the message carries the server's string to sign after a colon.
        message = (exc.data or {}).get("Message", "")
        cu.check("server string to sign is:" in message, p + "SignatureDoesNotMatch Message",
                 "'...server string to sign is:<StringToSign>'", message)
        unknown = make_client(signature_algorithm, access_key_id="yaoshi-unknown-" + cu.random_key_id()[:8])
        expect_error(p + "DescribeKey with an unknown AccessKeyId",
                     lambda: unknown.describe_key(kms.DescribeKeyRequest(key_id=key_id)),
                     "InvalidAccessKeyId.NotFound", 404)

    return [
        (p + "CreateKey", step_create_key),
        (p + "DescribeKey", step_describe_key),
        (p + "Encrypt/Decrypt without context", step_encrypt_decrypt),
        (p + "EncryptionContext round trip and errors", step_context),
        (p + "unknown KeyId", step_not_found),
        (p + "CreateKey/DescribeKey with special characters", step_special_description),
        (p + "ListKeys paging", step_list_keys),
        (p + "wrong secret / unknown AccessKeyId", step_bad_credentials),
    ]


if __name__ == "__main__":
    steps = []
    for label, algorithm in SIGNATURES:
        steps += steps_for(label, algorithm)
    cu.run(SCRIPT, steps)
