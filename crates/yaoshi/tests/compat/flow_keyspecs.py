"""Shared flow (no SDK imports): CreateKey with every KeySpec x KeyUsage, Origin, ProtectionLevel and
rotation parameters; UpdateRotationPolicy; CreateKeyVersion (7 days of KMS time apart, via the
node's test clock); refused parameters change nothing.

`steps(api, prefix)` returns the named steps for one SDK face `api` (classic_sdk.Api or tea_sdk.Api):
api.call(action, **params) -> response dict (JSON field names), api.error(what, action, code, status,
**params) expects that error.
"""

import calendar
import time

import compat_util as cu

REGION = cu.Env().region
ENCRYPT, SIGN = cu.USAGES


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def steps(api, p=""):
    def describe(key_id):
        md = api.call("DescribeKey", KeyId=key_id).get("KeyMetadata")
        cu.check(isinstance(md, dict), p + "DescribeKey(%s).KeyMetadata" % key_id, "an object", md)
        return md

    def total_keys():
        body = api.call("ListKeys", PageSize=1)
        cu.check(type(body.get("TotalCount")) is int, p + "ListKeys.TotalCount", "an int", body)
        return body["TotalCount"]

    def refused(what, action, code, **params):
        """A CreateKey that must fail with code/400 and leave ListKeys.TotalCount unchanged."""
        before = total_keys()
        api.error(p + what, action, code, 400, **params)
        cu.expect_int(p + what + ": ListKeys.TotalCount afterwards", before, total_keys())

    def check_metadata(what, md, spec, usage, origin="Aliyun_KMS", state="Enabled"):
        what = p + what
        cu.expect_nonempty_str(what + ".KeyId", md.get("KeyId"))
        expected = {"KeySpec": spec, "KeyUsage": usage, "Origin": origin, "KeyState": state,
                    "ProtectionLevel": "SOFTWARE", "AutomaticRotation": "Disabled", "DeletionProtection": "Disabled",
                    "MaterialExpireTime": ""}
        for field, value in expected.items():
            cu.expect_eq("%s.%s" % (what, field), value, md.get(field))
        cu.expect_arn(what + ".Arn", REGION, md["KeyId"], md.get("Arn"))
        cu.expect_iso_time(what + ".CreationDate", md.get("CreationDate"))
        cu.expect_eq(what + ".LastRotationDate (a new key: its creation time)", md.get("CreationDate"),
                     md.get("LastRotationDate"))
        cu.expect_nonempty_str(what + ".Creator", md.get("Creator"))
        cu.expect_nonempty_str(what + ".PrimaryKeyVersion", md.get("PrimaryKeyVersion"))
        for absent in ("DeleteDate", "RotationInterval", "NextRotationDate"):
            cu.check(not md.get(absent), "%s.%s" % (what, absent), "absent", md.get(absent))

    def create_and_describe(what, **params):
        """CreateKey(**params); returns DescribeKey's KeyMetadata after checking it repeats CreateKey's."""
        md = api.call("CreateKey", **params)["KeyMetadata"]
        d = describe(md.get("KeyId"))
        for field, value in md.items():  # DescribeKey shows what CreateKey answered
            cu.expect_eq(p + "%s: DescribeKey.%s vs CreateKey" % (what, field), value, d.get(field))
        return d

    # --- steps ----------------------------------------------------------------

    def step_every_spec_and_usage(st):
        before, made = total_keys(), 0
        for spec in cu.SPECS:
            for usage in cu.USAGES:
                what = "CreateKey(KeySpec=%s, KeyUsage=%s)" % (spec, usage)
                if not cu.spec_allows(spec, usage):
                    api.error(p + what, "CreateKey", "InvalidParameter", 400, KeySpec=spec, KeyUsage=usage)
                    continue
                md = create_and_describe(what, KeySpec=spec, KeyUsage=usage, Description="compat " + what)
                check_metadata(what, md, spec, usage)
                cu.expect_eq(p + what + ".Description", "compat " + what, md.get("Description"))
                made += 1
        cu.expect_int(p + "ListKeys.TotalCount after the allowed combinations", before + made, total_keys())

    def step_default_usage(st):
        # KeyUsage defaults to ENCRYPT/DECRYPT: fine for symmetric, RSA and SM2, refused for EC_P256(K).
        for spec in ("Aliyun_AES_256", "Aliyun_SM4", "RSA_2048", "EC_SM2"):
            what = "CreateKey(KeySpec=%s)" % spec
            check_metadata(what, create_and_describe(what, KeySpec=spec), spec, ENCRYPT)
        for spec in ("EC_P256", "EC_P256K"):
            refused("CreateKey(KeySpec=%s) with the default KeyUsage" % spec, "CreateKey", "InvalidParameter",
                    KeySpec=spec)
        md = create_and_describe("CreateKey()")  # no parameters at all
        check_metadata("CreateKey()", md, "Aliyun_AES_256", ENCRYPT)
        cu.expect_eq(p + "CreateKey().Description", "", md.get("Description"))

    def step_bad_spec_and_usage(st):
        for bad in ("Bogus", "AES_256", "aliyun_aes_256", "RSA_4096", "EC_P384"):
            refused("CreateKey(KeySpec=%s)" % bad, "CreateKey", "InvalidParameter", KeySpec=bad)
        for bad in ("ENCRYPT", "encrypt/decrypt"):
            refused("CreateKey(KeyUsage=%s)" % bad, "CreateKey", "InvalidParameter", KeyUsage=bad)

    def step_external_origin(st):
        for spec in ("Aliyun_AES_256", "Aliyun_AES_128", "Aliyun_SM4"):
            what = "CreateKey(KeySpec=%s, Origin=EXTERNAL)" % spec
            md = create_and_describe(what, KeySpec=spec, Origin="EXTERNAL")
            check_metadata(what, md, spec, ENCRYPT, origin="EXTERNAL", state="PendingImport")
            api.error(p + "Encrypt with a PendingImport key", "Encrypt", "Rejected.PendingImport", 409,
                      KeyId=md["KeyId"], Plaintext=cu.sample_plaintext())
        for spec, usage in (("RSA_2048", ENCRYPT), ("EC_SM2", SIGN), ("EC_P256", SIGN)):
            refused("CreateKey(KeySpec=%s, KeyUsage=%s, Origin=EXTERNAL)" % (spec, usage), "CreateKey",
                    "Unsupported.Origin", KeySpec=spec, KeyUsage=usage, Origin="EXTERNAL")
        for bad in ("external", "KMS"):
            refused("CreateKey(Origin=%s)" % bad, "CreateKey", "InvalidParameter", Origin=bad)
        md = create_and_describe("CreateKey(Origin=Aliyun_KMS)", Origin="Aliyun_KMS")
        check_metadata("CreateKey(Origin=Aliyun_KMS)", md, "Aliyun_AES_256", ENCRYPT)

    def step_protection_level(st):
        refused("CreateKey(ProtectionLevel=HSM)", "CreateKey", "Unsupported.ProtectionLevel", ProtectionLevel="HSM")
        refused("CreateKey(ProtectionLevel=hsm)", "CreateKey", "InvalidParameter", ProtectionLevel="hsm")
        md = create_and_describe("CreateKey(ProtectionLevel=SOFTWARE)", ProtectionLevel="SOFTWARE")
        check_metadata("CreateKey(ProtectionLevel=SOFTWARE)", md, "Aliyun_AES_256", ENCRYPT)

    def check_rotation(what, md, interval_s):
        what = p + what
        cu.expect_eq(what + ".AutomaticRotation", "Enabled", md.get("AutomaticRotation"))
        cu.expect_eq(what + ".RotationInterval", "%ds" % interval_s, md.get("RotationInterval"))
        cu.expect_iso_time(what + ".NextRotationDate", md.get("NextRotationDate"))
        cu.check(md["NextRotationDate"] > md["LastRotationDate"], what + ".NextRotationDate",
                 "after LastRotationDate %s" % md["LastRotationDate"], md["NextRotationDate"])

    def step_rotation_at_create(st):
        for spec, interval, seconds in (("Aliyun_SM4", "30d", 2592000), ("Aliyun_AES_256", "604800s", 604800),
                                        ("Aliyun_AES_128", "168h", 604800), ("Aliyun_AES_192", "10080m", 604800)):
            what = "CreateKey(KeySpec=%s, EnableAutomaticRotation=true, RotationInterval=%s)" % (spec, interval)
            md = create_and_describe(what, KeySpec=spec, EnableAutomaticRotation=True, RotationInterval=interval)
            check_rotation(what, md, seconds)
        for spec, usage, origin in (("RSA_2048", ENCRYPT, "Aliyun_KMS"), ("EC_SM2", SIGN, "Aliyun_KMS"),
                                    ("Aliyun_AES_256", ENCRYPT, "EXTERNAL")):
            refused("CreateKey(KeySpec=%s, Origin=%s) with automatic rotation" % (spec, origin), "CreateKey",
                    "Unsupported.Operation", KeySpec=spec, KeyUsage=usage, Origin=origin,
                    EnableAutomaticRotation=True, RotationInterval="30d")
        for bad in ("6d", "731d", "7w", "x", "604799s"):
            refused("CreateKey(RotationInterval=%s)" % bad, "CreateKey", "InvalidParameter",
                    EnableAutomaticRotation=True, RotationInterval=bad)
        refused("CreateKey(EnableAutomaticRotation=true) without RotationInterval", "CreateKey", "MissingParameter",
                EnableAutomaticRotation=True)
        # A disabled policy ignores the interval.
        what = "CreateKey(EnableAutomaticRotation=false, RotationInterval=1d)"
        md = create_and_describe(what, EnableAutomaticRotation=False, RotationInterval="1d")
        check_metadata(what, md, "Aliyun_AES_256", ENCRYPT)

    def step_description_limit(st):
        long = "d" * 8192
        md = api.call("CreateKey", Description=long)["KeyMetadata"]
        cu.expect_eq(p + "CreateKey(8192-character Description).Description length", 8192, len(md.get("Description")))
        refused("CreateKey(8193-character Description)", "CreateKey", "InvalidParameter", Description=long + "d")
        api.error(p + "UpdateKeyDescription(8193 characters)", "UpdateKeyDescription", "InvalidParameter", 400,
                  KeyId=md["KeyId"], Description=long + "d")
        cu.expect_eq(p + "Description after the refused UpdateKeyDescription", long, describe(md["KeyId"])["Description"])

    def step_update_rotation_policy(st):
        key_id = api.call("CreateKey", Description="compat rotation policy")["KeyMetadata"]["KeyId"]
        alias = cu.rand_alias("rot")
        api.call("CreateAlias", AliasName=alias, KeyId=key_id)
        api.call("UpdateRotationPolicy", KeyId=key_id, EnableAutomaticRotation=True, RotationInterval="30d")
        md = describe(key_id)
        check_rotation("DescribeKey after UpdateRotationPolicy(30d)", md, 2592000)
        cu.expect_eq(p + "NextRotationDate = LastRotationDate + 30 days", epoch(md["LastRotationDate"]) + 2592000,
                     epoch(md["NextRotationDate"]))
        api.call("UpdateRotationPolicy", KeyId=alias, EnableAutomaticRotation=True, RotationInterval="604800s")
        check_rotation("DescribeKey after UpdateRotationPolicy(alias, 604800s)", describe(key_id), 604800)
        for bad in ("6d", "731d", "7w"):
            api.error(p + "UpdateRotationPolicy(RotationInterval=%s)" % bad, "UpdateRotationPolicy", "InvalidParameter",
                      400, KeyId=key_id, EnableAutomaticRotation=True, RotationInterval=bad)
        api.error(p + "UpdateRotationPolicy(true) without RotationInterval", "UpdateRotationPolicy", "MissingParameter",
                  400, KeyId=key_id, EnableAutomaticRotation=True)
        api.error(p + "UpdateRotationPolicy without KeyId", "UpdateRotationPolicy", "MissingParameter", 400,
                  EnableAutomaticRotation=False)
        api.error(p + "UpdateRotationPolicy without EnableAutomaticRotation", "UpdateRotationPolicy",
                  "MissingParameter", 400, KeyId=key_id)
        api.error(p + "UpdateRotationPolicy(EnableAutomaticRotation=maybe)", "UpdateRotationPolicy", "InvalidParameter",
                  400, KeyId=key_id, EnableAutomaticRotation="maybe", RotationInterval="30d")
        api.error(p + "UpdateRotationPolicy of an unknown key", "UpdateRotationPolicy", "Forbidden.KeyNotFound", 404,
                  KeyId=cu.random_key_id(), EnableAutomaticRotation=False)
        check_rotation("DescribeKey after refused UpdateRotationPolicy calls", describe(key_id), 604800)
        api.call("UpdateRotationPolicy", KeyId=key_id, EnableAutomaticRotation=False)
        md = describe(key_id)
        cu.expect_eq(p + "AutomaticRotation after UpdateRotationPolicy(false)", "Disabled", md.get("AutomaticRotation"))
        for absent in ("RotationInterval", "NextRotationDate"):
            cu.check(not md.get(absent), p + "DescribeKey.%s after disabling rotation" % absent, "absent",
                     md.get(absent))
        sm2 = api.call("CreateKey", KeySpec="EC_SM2")["KeyMetadata"]["KeyId"]
        api.error(p + "UpdateRotationPolicy(true) on an asymmetric key", "UpdateRotationPolicy",
                  "Unsupported.Operation", 400, KeyId=sm2, EnableAutomaticRotation=True, RotationInterval="30d")
        api.call("UpdateRotationPolicy", KeyId=sm2, EnableAutomaticRotation=False)
        cu.expect_eq(p + "AutomaticRotation of the asymmetric key", "Disabled", describe(sm2).get("AutomaticRotation"))

    def step_create_key_version(st):
        md = api.call("CreateKey", KeySpec="EC_P256", KeyUsage=SIGN)["KeyMetadata"]
        key_id, first = md["KeyId"], md["PrimaryKeyVersion"]
        alias = cu.rand_alias("ver")
        api.call("CreateAlias", AliasName=alias, KeyId=key_id)
        disabled = api.call("CreateKey", KeySpec="EC_SM2", KeyUsage=SIGN)["KeyMetadata"]["KeyId"]
        pending = api.call("CreateKey", KeySpec="EC_P256K", KeyUsage=SIGN)["KeyMetadata"]["KeyId"]
        aes = api.call("CreateKey")["KeyMetadata"]["KeyId"]
        api.error(p + "CreateKeyVersion right after CreateKey", "CreateKeyVersion", "Rejected.LimitExceeded", 400,
                  KeyId=key_id)
        api.error(p + "CreateKeyVersion of a symmetric key", "CreateKeyVersion", "Unsupported.Operation", 400, KeyId=aes)
        api.error(p + "CreateKeyVersion of an unknown key", "CreateKeyVersion", "Forbidden.KeyNotFound", 404,
                  KeyId=cu.random_key_id())
        api.error(p + "CreateKeyVersion without KeyId", "CreateKeyVersion", "MissingParameter", 400)
        cu.advance_clock(cu.WEEK_MS)
        body = api.call("CreateKeyVersion", KeyId=alias)
        kv = body.get("KeyVersion")
        cu.check(isinstance(kv, dict), p + "CreateKeyVersion.KeyVersion", "an object", body)
        cu.expect_eq(p + "CreateKeyVersion.KeyVersion.KeyId", key_id, kv.get("KeyId"))
        second = kv.get("KeyVersionId")
        cu.expect_nonempty_str(p + "CreateKeyVersion.KeyVersion.KeyVersionId", second)
        cu.check(second != first, p + "CreateKeyVersion.KeyVersion.KeyVersionId", "a new version id", second)
        cu.expect_iso_time(p + "CreateKeyVersion.KeyVersion.CreationDate", kv.get("CreationDate"))
        cu.check(epoch(kv["CreationDate"]) - epoch(md["CreationDate"]) >= 7 * 86400,
                 p + "CreateKeyVersion.KeyVersion.CreationDate", "7 days (KMS time) after the key's", kv["CreationDate"])
        d = describe(key_id)
        cu.expect_eq(p + "DescribeKey.PrimaryKeyVersion after CreateKeyVersion", second, d.get("PrimaryKeyVersion"))
        cu.expect_eq(p + "DescribeKey.LastRotationDate after CreateKeyVersion", kv["CreationDate"],
                     d.get("LastRotationDate"))
        cu.expect_eq(p + "DescribeKey.CreationDate after CreateKeyVersion", md["CreationDate"], d.get("CreationDate"))
        body = api.call("ListKeyVersions", KeyId=alias)
        cu.expect_int(p + "ListKeyVersions.TotalCount", 2, body.get("TotalCount"))
        listed = ((body.get("KeyVersions") or {}).get("KeyVersion")) or []
        cu.expect_eq(p + "ListKeyVersions KeyVersionIds (creation order)", [first, second],
                     [v.get("KeyVersionId") for v in listed])
        for entry in listed:
            got = api.call("DescribeKeyVersion", KeyId=alias, KeyVersionId=entry["KeyVersionId"]).get("KeyVersion")
            cu.expect_eq(p + "DescribeKeyVersion(%s) vs ListKeyVersions entry" % entry["KeyVersionId"], entry, got)
        cu.expect_eq(p + "first version CreationDate = key CreationDate", md["CreationDate"], listed[0]["CreationDate"])
        cu.expect_eq(p + "DescribeKeyVersion(second) vs CreateKeyVersion", kv,
                     api.call("DescribeKeyVersion", KeyId=key_id, KeyVersionId=second).get("KeyVersion"))
        api.error(p + "second CreateKeyVersion within 7 days", "CreateKeyVersion", "Rejected.LimitExceeded", 400,
                  KeyId=key_id)
        api.call("DisableKey", KeyId=disabled)
        api.error(p + "CreateKeyVersion of a Disabled key", "CreateKeyVersion", "Rejected.Disabled", 409,
                  KeyId=disabled)
        api.call("ScheduleKeyDeletion", KeyId=pending, PendingWindowInDays=7)
        api.error(p + "CreateKeyVersion of a PendingDeletion key", "CreateKeyVersion", "Rejected.PendingDeletion", 409,
                  KeyId=pending)
        for other in (disabled, pending):
            cu.expect_int(p + "ListKeyVersions.TotalCount of a refused key", 1,
                          api.call("ListKeyVersions", KeyId=other).get("TotalCount"))

    def key_ids():
        body = api.call("ListKeys", PageSize=100)
        cu.check(body.get("TotalCount", 0) <= 100, p + "ListKeys.TotalCount", "at most one page", body)
        return {k["KeyId"] for k in body.get("Keys", {}).get("Key", [])}

    def step_page_size_limits(st):
        # By ids, not by count: a key an earlier step scheduled for deletion may be purged by the
        # scheduler meanwhile (the clock has moved a week).
        before = key_ids()
        key_id = api.call("CreateKey")["KeyMetadata"]["KeyId"]
        for action, extra in (("ListKeys", {}), ("ListAliases", {}), ("ListKeyVersions", {"KeyId": key_id})):
            for size in (0, 101):
                api.error(p + "%s(PageSize=%d)" % (action, size), action, "InvalidParameter", 400, PageSize=size, **extra)
            api.error(p + "%s(PageNumber=0)" % action, action, "InvalidParameter", 400, PageNumber=0, **extra)
            for size in (1, 100):
                body = api.call(action, PageSize=size, **extra)
                cu.expect_int(p + "%s(PageSize=%d).PageSize" % (action, size), size, body.get("PageSize"))
        cu.expect_eq(p + "keys added by the refused calls (only the one created)", {key_id}, key_ids() - before)

    return [
        (p + "CreateKey every KeySpec x KeyUsage", step_every_spec_and_usage),
        (p + "CreateKey default KeyUsage", step_default_usage),
        (p + "CreateKey unknown KeySpec / KeyUsage", step_bad_spec_and_usage),
        (p + "CreateKey Origin=EXTERNAL", step_external_origin),
        (p + "CreateKey ProtectionLevel", step_protection_level),
        (p + "CreateKey with automatic rotation", step_rotation_at_create),
        (p + "Description length limit", step_description_limit),
        (p + "UpdateRotationPolicy", step_update_rotation_policy),
        (p + "CreateKeyVersion / ListKeyVersions / DescribeKeyVersion", step_create_key_version),
        (p + "PageSize / PageNumber limits", step_page_size_limits),
    ]
