"""Shared flow (no SDK imports): the secrets manager (docs/API.md "Secrets") through
one SDK face: GetRandomPassword and its options; SecretName rules; CreateSecret / GetSecretValue /
DescribeSecret fields; text and binary values that must round-trip byte-exact (query string for the
classic SDK, form body for the Tea SDK's SecretData); PutSecretValue stages and idempotence;
UpdateSecretVersionStage; ListSecretVersionIds; UpdateSecret; ListSecrets (paging, FetchTags,
Filters); DeleteSecret / RestoreSecret / ForceDeleteWithoutRecovery; RotateSecret;
UpdateSecretRotationPolicy; secrets under a CMK in every key state; tags on secrets; and, with the
node's test clock, the scheduled rotation and the end of the recovery window.

`steps(api, prefix)` returns the named steps for one SDK face `api` (classic_sdk.Api or tea_sdk.Api):
api.call(action, **params) -> response dict (JSON field names); api.error(what, action, code, status,
**params) expects that error; api.refused(what, action, **params) expects some 4xx with a Code and
returns (code, status); api.call_generic / api.error_generic for parameters the SDK's typed request
lacks (ListResourceTags.SecretName); api.secret_data_in_body says whether the SDK sends SecretData in a
form body (Tea) or the query (classic).

The steps that move KMS time (scheduled rotation, purge) come last; each pass names its secrets with
a random suffix, so the Tea runner's two passes share one server.
"""

import base64
import calendar
import json
import os
import random
import re
import string
import time

import compat_util as cu

REGION = cu.Env().region

LOWER, UPPER, DIGITS, PUNCT = string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation
ALL_CHARS = LOWER + UPPER + DIGITS + PUNCT
CLASS_OF = {"ExcludeLowercase": LOWER, "ExcludeUppercase": UPPER, "ExcludeNumbers": DIGITS,
            "ExcludePunctuation": PUNCT}

CURRENT, PREVIOUS = "ACSCurrent", "ACSPrevious"
POLL_S = 15
HOUR_MS = 3600 * 1000
DAY_S = 86400

# Text values whose bytes must come back unchanged (both the query and the form-body encodings).
TEXT_VALUES = (
    ("spaces", "a b  c "),
    ("plus", "a+b++c+"),
    ("ampersand and equals", "k1=v1&k2=v2&=&x=="),
    ("percent escapes", "100% %20 %2B %zz %"),
    ("newlines", "line1\nline2\r\nline3\n"),
    ("tabs and edge blanks", "  \tleading and trailing\t  "),
    ("JSON", '{"user": "root", "passwd": "p@ss/w+rd==", "note": "a&b=c"}'),
    ("non-ASCII", "中文凭据 — ünïcødé ✓ 🔑"),
    ("ASCII punctuation", PUNCT),
)


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def big_mixed_value():
    """~30 KiB (30,720 bytes): PEM-like base64 lines, with '+ / =', blanks, '&', '%' and 中文 lines."""
    rng = random.Random(17)
    lines, size = [], 0
    i = 0
    while size < 30720:
        if i % 16 == 15:
            line = "中文 key = a+b & c=d %41 tail "
        else:
            line = "".join(rng.choice(string.ascii_letters + string.digits + "+/=") for _ in range(64))
        lines.append(line)
        size += len(line.encode()) + 1
        i += 1
    value = "\n".join(lines) + "\n"
    return value.encode()[:30720].decode("utf-8", "ignore")


def rand_suffix():
    return cu.random_key_id()[:8]


def steps(api, p=""):
    run = rand_suffix()

    def name(tag):
        return "compat-%s-%s-%s" % (tag, run, rand_suffix())

    # --- helpers ----------------------------------------------------------------

    def create(secret, data="value-1", version="v1", **extra):
        body = api.call("CreateSecret", SecretName=secret, VersionId=version, SecretData=data, **extra)
        what = p + "CreateSecret(%s)" % secret
        cu.expect_eq(what + ".SecretName", secret, body.get("SecretName"))
        cu.expect_eq(what + ".VersionId", version, body.get("VersionId"))
        cu.expect_eq(what + ".SecretType", extra.get("SecretType", "Generic"), body.get("SecretType"))
        expect_secret_arn(what + ".Arn", secret, body.get("Arn"))
        return body

    def expect_secret_arn(what, secret, got):
        pattern = r"^acs:kms:%s:[^:]+:secret/%s$" % (re.escape(REGION), re.escape(secret))
        cu.check(isinstance(got, str) and re.match(pattern, got), what, "acs:kms:%s:<uid>:secret/%s" % (REGION, secret),
                 got)

    def get(secret, **sel):
        return api.call("GetSecretValue", SecretName=secret, **sel)

    def stages_of(body):
        return sorted(((body.get("VersionStages") or {}).get("VersionStage")) or [])

    def check_value(what, body, secret, version, data, data_type="text", stages=None):
        what = p + what
        cu.expect_eq(what + ".SecretName", secret, body.get("SecretName"))
        cu.expect_eq(what + ".VersionId", version, body.get("VersionId"))
        cu.expect_eq(what + ".SecretData", data, body.get("SecretData"))
        cu.expect_eq(what + ".SecretDataType", data_type, body.get("SecretDataType"))
        cu.expect_eq(what + ".SecretType", "Generic", body.get("SecretType"))
        cu.expect_iso_time(what + ".CreateTime", body.get("CreateTime"))
        vs = body.get("VersionStages")
        cu.check(isinstance(vs, dict) and isinstance(vs.get("VersionStage"), list), what + ".VersionStages",
                 '{"VersionStage": [...]}', vs)
        if stages is not None:
            cu.expect_eq(what + ".VersionStages.VersionStage", sorted(stages), stages_of(body))

    def versions(secret, deprecated=True):
        """{VersionId: sorted stages} from ListSecretVersionIds (one page of 100)."""
        params = dict(SecretName=secret, PageSize=100)
        if deprecated:
            params["IncludeDeprecated"] = "true"
        body = api.call("ListSecretVersionIds", **params)
        what = p + "ListSecretVersionIds(%s)" % secret
        listed = ((body.get("VersionIds") or {}).get("VersionId")) or []
        cu.check(isinstance(listed, list), what + ".VersionIds.VersionId", "a list", body)
        cu.expect_int(what + ".TotalCount", len(listed), body.get("TotalCount"))
        out = {}
        for v in listed:
            cu.expect_nonempty_str(what + " entry VersionId", v.get("VersionId"))
            cu.expect_iso_time(what + " entry CreateTime", v.get("CreateTime"))
            out[v["VersionId"]] = stages_of(v)
        cu.expect_eq(what + " distinct VersionIds", len(listed), len(out))
        return out

    def describe(secret, **extra):
        body = api.call("DescribeSecret", SecretName=secret, **extra)
        cu.expect_eq(p + "DescribeSecret(%s).SecretName" % secret, secret, body.get("SecretName"))
        return body

    def tags_map(what, tags_obj):
        tags = (tags_obj or {}).get("Tag")
        cu.check(isinstance(tags, list), what, "Tags.Tag[]", tags_obj)
        return {t.get("TagKey"): t.get("TagValue") for t in tags}

    def total_secrets():
        body = api.call("ListSecrets", PageSize=1)
        cu.check(type(body.get("TotalCount")) is int, p + "ListSecrets.TotalCount", "an int", body)
        return body["TotalCount"]

    def poll(what, fn, cond, expected):
        deadline = time.monotonic() + POLL_S
        while True:
            got = fn()
            if cond(got):
                return got
            if time.monotonic() > deadline:
                cu.fail(p + what + " (polled %d s)" % POLL_S, expected, got)
            time.sleep(0.3)

    def not_found(what, action, **params):
        api.error(p + what, action, "Forbidden.ResourceNotFound", 404, **params)

    # --- GetRandomPassword --------------------------------------------------------

    def password(what, **params):
        body = api.call("GetRandomPassword", **params)
        pw = body.get("RandomPassword")
        cu.check(isinstance(pw, str) and pw, p + what + ".RandomPassword", "a non-empty string", body)
        return pw

    def only(what, pw, allowed):
        bad = sorted(set(c for c in pw if c not in allowed))
        cu.check(not bad, p + what, "only characters of %r" % allowed, "%r (has %r)" % (pw, bad))

    def step_random_password(st):
        pw = password("GetRandomPassword()")
        cu.expect_eq(p + "GetRandomPassword() length (default 32)", 32, len(pw))
        only("GetRandomPassword() characters", pw, ALL_CHARS)
        for length in ("8", "128", 8, 64):
            pw = password("GetRandomPassword(PasswordLength=%r)" % (length,), PasswordLength=length)
            cu.expect_eq(p + "GetRandomPassword(PasswordLength=%r) length" % (length,), int(length), len(pw))
        for bad in ("7", "129", "0", "-8", "abc", "12.5"):
            api.error(p + "GetRandomPassword(PasswordLength=%s)" % bad, "GetRandomPassword", "InvalidParameter", 400,
                      PasswordLength=bad)
        # 128 characters over the whole alphabet: every class shows up (a class of 10 of the 94 characters is
        # missed by chance with probability (84/94)^128 < 1e-6), so a dropped exclusion is seen.
        pw = password("GetRandomPassword(128, no exclusions)", PasswordLength="128")
        for param, chars in CLASS_OF.items():
            cu.check(any(c in chars for c in pw), p + "128-character password without %s" % param,
                     "some of %r" % chars, pw)
        pw = password("GetRandomPassword(ExcludeCharacters=ABCabc)", PasswordLength="128", ExcludeCharacters="ABCabc")
        only("GetRandomPassword(ExcludeCharacters=ABCabc)", pw, "".join(c for c in ALL_CHARS if c not in "ABCabc"))
        tricky = "\"'\\%&+= <>"
        pw = password("GetRandomPassword(ExcludeCharacters=%r)" % tricky, PasswordLength="128",
                      ExcludeCharacters=tricky)
        only("GetRandomPassword(ExcludeCharacters=%r)" % tricky, pw, "".join(c for c in ALL_CHARS if c not in tricky))
        # Each Exclude* option in the spellings users send: "true" (Tea/str fields), "True" (Python str(True)),
        # a Python bool (classic and Tea stringify it to "True").
        for param, chars in CLASS_OF.items():
            for spelling in ("true", "True", True):
                what = "GetRandomPassword(%s=%r)" % (param, spelling)
                pw = password(what, PasswordLength="128", **{param: spelling})
                only(what, pw, "".join(c for c in ALL_CHARS if c not in chars))
            for spelling in ("false", "False", False):
                what = "GetRandomPassword(%s=%r)" % (param, spelling)
                pw = password(what, PasswordLength="128", **{param: spelling})
                cu.check(any(c in chars for c in pw), p + what, "some of %r (not excluded)" % chars, pw)
        what = "GetRandomPassword(ExcludeLowercase, ExcludeUppercase, ExcludePunctuation)"
        pw = password(what, PasswordLength="64", ExcludeLowercase="true", ExcludeUppercase="true",
                      ExcludePunctuation="true")
        only(what, pw, DIGITS)
        # RequireEachIncludedType: 8 characters over 4 classes miss one class about half the time without it.
        for spelling in ("true", True):
            for i in range(25):
                pw = password("GetRandomPassword(8, RequireEachIncludedType=%r)" % (spelling,), PasswordLength="8",
                              RequireEachIncludedType=spelling)
                for param, chars in CLASS_OF.items():
                    cu.check(any(c in chars for c in pw), p + "RequireEachIncludedType=%r: %s class" % (spelling, param),
                             "present", pw)
        for i in range(15):
            what = "GetRandomPassword(8, ExcludeNumbers, ExcludeCharacters=a-z minus q, RequireEachIncludedType)"
            pw = password(what, PasswordLength="8", ExcludeNumbers="true", RequireEachIncludedType="true",
                          ExcludeCharacters=LOWER.replace("q", ""))
            only(what, pw, "q" + UPPER + PUNCT)
            for chars in ("q", UPPER, PUNCT):
                cu.check(any(c in chars for c in pw), p + what, "some of %r" % chars, pw)
        for bad in ("maybe", "yes", "2"):
            code, status = api.refused(p + "GetRandomPassword(ExcludeNumbers=%s)" % bad, "GetRandomPassword",
                                       ExcludeNumbers=bad)
            cu.expect_eq(p + "GetRandomPassword(ExcludeNumbers=%s) HTTP status" % bad, 400, status)
        code, status = api.refused(p + "GetRandomPassword excluding every class", "GetRandomPassword",
                                   ExcludeLowercase="true", ExcludeUppercase="true", ExcludeNumbers="true",
                                   ExcludePunctuation="true")
        cu.expect_eq(p + "GetRandomPassword excluding every class: HTTP status", 400, status)

    # --- names and required parameters ---------------------------------------------

    def step_names(st):
        before = total_secrets()
        base = name("names")
        good = [base + "_/+=.@-Z9", ("n%s" % run) + "x" * (63 - len(run))]
        for secret in good:
            create(secret, data="named " + secret)
            check_value("GetSecretValue(%s)" % secret, get(secret), secret, "v1", "named " + secret, stages=[CURRENT])
        cu.expect_eq(p + "64-character name length", 64, len(good[1]))
        # A one-character name, different in each pass on this server (the passes share `st`).
        taken = st.setdefault("one_char_names", set())
        one = random.choice([c for c in string.ascii_letters if c not in taken])
        taken.add(one)
        create(one, data="x")
        made = 3
        # The empty name: the server treats an empty required parameter as missing (its rule for every
        # action); the contract's "1-64 characters" would make it InvalidParameter. Either is a 400.
        api.error(p + "CreateSecret(SecretName='')", "CreateSecret", ("InvalidParameter", "MissingParameter"), 400,
                  SecretName="", VersionId="v1", SecretData="x")
        for bad in (base + "x" * (65 - len(base)), "acs/" + base, "acs/ram/" + base, "bad name " + run,
                    "a*b" + run, "中文" + run, "a#b" + run, "a?b" + run, "a%b" + run, "a,b" + run, "a:b" + run):
            api.error(p + "CreateSecret(SecretName=%r)" % bad, "CreateSecret", "InvalidParameter", 400,
                      SecretName=bad, VersionId="v1", SecretData="x")
        for missing, params in (("VersionId", dict(SecretName=name("nover"), SecretData="x")),
                                ("SecretData", dict(SecretName=name("nodata"), VersionId="v1")),
                                ("SecretName", dict(VersionId="v1", SecretData="x"))):
            api.error(p + "CreateSecret without %s" % missing, "CreateSecret", "MissingParameter", 400, **params)
        for action, params in (("PutSecretValue", dict(SecretName=base + "_/+=.@-Z9", SecretData="x")),
                               ("RotateSecret", dict(SecretName=base + "_/+=.@-Z9"))):
            api.error(p + "%s without VersionId" % action, action, "MissingParameter", 400, **params)
        api.error(p + "PutSecretValue without SecretData", "PutSecretValue", "MissingParameter", 400,
                  SecretName=base + "_/+=.@-Z9", VersionId="v2")
        cu.expect_int(p + "ListSecrets.TotalCount after the refused CreateSecrets", before + made, total_secrets())

    # --- CreateSecret / GetSecretValue / DescribeSecret ---------------------------------

    def step_create_get_describe(st):
        secret = name("basic")
        data = '{"user": "root", "passwd": "s3cr3t"}'
        body = create(secret, data=data, Description="compat basic", Tags=cu.TAGS)
        arn = body["Arn"]
        check_value("GetSecretValue()", get(secret), secret, "v1", data, stages=[CURRENT])
        check_value("GetSecretValue(VersionStage=ACSCurrent)", get(secret, VersionStage=CURRENT), secret, "v1", data,
                    stages=[CURRENT])
        check_value("GetSecretValue(VersionId=v1)", get(secret, VersionId="v1"), secret, "v1", data, stages=[CURRENT])
        d = describe(secret)
        expect_secret_arn(p + "DescribeSecret.Arn", secret, d.get("Arn"))
        cu.expect_eq(p + "DescribeSecret.Arn vs CreateSecret", arn, d.get("Arn"))
        cu.expect_eq(p + "DescribeSecret.Description", "compat basic", d.get("Description"))
        cu.expect_eq(p + "DescribeSecret.SecretType", "Generic", d.get("SecretType"))
        cu.expect_eq(p + "DescribeSecret.AutomaticRotation", "Disabled", d.get("AutomaticRotation"))
        cu.expect_iso_time(p + "DescribeSecret.CreateTime", d.get("CreateTime"))
        cu.expect_iso_time(p + "DescribeSecret.UpdateTime", d.get("UpdateTime"))
        cu.expect_eq(p + "DescribeSecret.CreateTime vs GetSecretValue.CreateTime", get(secret)["CreateTime"],
                     d["CreateTime"])
        for absent in ("PlannedDeleteTime", "Tags"):
            cu.check(not d.get(absent), p + "DescribeSecret.%s (no FetchTags, not deleted)" % absent, "absent",
                     d.get(absent))
        key_id = d.get("EncryptionKeyId")
        cu.expect_nonempty_str(p + "DescribeSecret.EncryptionKeyId (default service key)", key_id)
        md = api.call("DescribeKey", KeyId=key_id).get("KeyMetadata") or {}
        cu.expect_eq(p + "DescribeKey(default secrets key).KeyState", "Enabled", md.get("KeyState"))
        cu.check(str(md.get("KeySpec", "")).startswith("Aliyun_"), p + "DescribeKey(default secrets key).KeySpec",
                 "a symmetric spec", md.get("KeySpec"))
        cu.expect_eq(p + "DescribeKey(default secrets key).KeyUsage", "ENCRYPT/DECRYPT", md.get("KeyUsage"))
        # A second secret without EncryptionKeyId shares the default key.
        other = name("basic2")
        create(other, data="two")
        cu.expect_eq(p + "DescribeSecret(second secret).EncryptionKeyId", key_id, describe(other).get("EncryptionKeyId"))
        for spelling in ("true", "True", True):
            d = describe(secret, FetchTags=spelling)
            cu.expect_eq(p + "DescribeSecret(FetchTags=%r).Tags" % (spelling,), {"team": "a"},
                         tags_map(p + "DescribeSecret.Tags", d.get("Tags")))
        cu.check(not describe(secret, FetchTags="false").get("Tags"), p + "DescribeSecret(FetchTags=false).Tags",
                 "absent", "present")
        api.error(p + "CreateSecret with an existing name", "CreateSecret", "Rejected.ResourceExist", 409,
                  SecretName=secret, VersionId="v9", SecretData="other")
        check_value("GetSecretValue after the refused duplicate", get(secret), secret, "v1", data, stages=[CURRENT])
        unknown = name("unknown")
        not_found("GetSecretValue of an unknown secret", "GetSecretValue", SecretName=unknown)
        not_found("DescribeSecret of an unknown secret", "DescribeSecret", SecretName=unknown)
        not_found("GetSecretValue(VersionId=unknown)", "GetSecretValue", SecretName=secret, VersionId="v404")
        not_found("GetSecretValue(VersionStage=unknown)", "GetSecretValue", SecretName=secret, VersionStage="NoSuch")
        not_found("GetSecretValue(VersionStage=ACSPrevious) with one version", "GetSecretValue", SecretName=secret,
                  VersionStage=PREVIOUS)
        not_found("PutSecretValue to an unknown secret", "PutSecretValue", SecretName=unknown, VersionId="v1",
                  SecretData="x")
        not_found("UpdateSecret of an unknown secret", "UpdateSecret", SecretName=unknown, Description="x")
        not_found("ListSecretVersionIds of an unknown secret", "ListSecretVersionIds", SecretName=unknown)
        not_found("DeleteSecret of an unknown secret", "DeleteSecret", SecretName=unknown)
        not_found("RotateSecret of an unknown secret", "RotateSecret", SecretName=unknown, VersionId="r1")
        st["basic"] = secret

    def step_update_secret(st):
        secret = st["basic"]
        before = describe(secret)
        body = api.call("UpdateSecret", SecretName=secret, Description="updated 中文 & = +")
        cu.expect_eq(p + "UpdateSecret.SecretName", secret, body.get("SecretName"))
        d = describe(secret)
        cu.expect_eq(p + "DescribeSecret.Description after UpdateSecret", "updated 中文 & = +", d.get("Description"))
        cu.check(d["UpdateTime"] >= before["UpdateTime"], p + "DescribeSecret.UpdateTime after UpdateSecret",
                 ">= %s" % before["UpdateTime"], d["UpdateTime"])
        cu.expect_eq(p + "DescribeSecret.CreateTime after UpdateSecret", before["CreateTime"], d.get("CreateTime"))
        cu.expect_eq(p + "GetSecretValue.VersionId after UpdateSecret", "v1", get(secret).get("VersionId"))

    # --- values ---------------------------------------------------------------------

    def step_text_values(st):
        values = list(TEXT_VALUES) + [("~30 KiB mixed", big_mixed_value())]
        if api.secret_data_in_body:
            # Form body only: ~30 KiB of 中文 is ~92 KiB percent-encoded, beyond a URL's usual limits.
            values.append(("~30 KiB of 中文", "中文" * 5120))
        for label, value in values:
            secret = name("text")
            create(secret, data=value)
            check_value("GetSecretValue(%s value from CreateSecret)" % label, get(secret), secret, "v1", value,
                        stages=[CURRENT])
            other = "put " + value[::-1]
            body = api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData=other)
            cu.expect_eq(p + "PutSecretValue(%s).VersionId" % label, "v2", body.get("VersionId"))
            check_value("GetSecretValue(%s value from PutSecretValue)" % label, get(secret), secret, "v2", other,
                        stages=[CURRENT])
            check_value("GetSecretValue(%s, ACSPrevious)" % label, get(secret, VersionStage=PREVIOUS), secret, "v1",
                        value, stages=[PREVIOUS])
            # Same VersionId, same (tricky) data: idempotent success.
            api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData=other)
            cu.expect_eq(p + "versions after the repeated PutSecretValue(%s)" % label,
                         {"v1": [PREVIOUS], "v2": [CURRENT]}, versions(secret))

    def step_binary_values(st):
        secret = name("binary")
        raw = b"\xfb\xff\xfe\x00\x01binary" + os.urandom(37)
        data = base64.b64encode(raw).decode()
        create(secret, data=data, SecretDataType="binary")
        check_value("GetSecretValue(binary)", get(secret), secret, "v1", data, data_type="binary", stages=[CURRENT])
        data2 = base64.b64encode(os.urandom(1000) + b"\xfb\xef").decode()
        api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData=data2, SecretDataType="binary")
        check_value("GetSecretValue(binary, put)", get(secret), secret, "v2", data2, data_type="binary",
                    stages=[CURRENT])
        text_version = "text version"
        api.call("PutSecretValue", SecretName=secret, VersionId="v3", SecretData=text_version)
        check_value("GetSecretValue(text version of a binary secret)", get(secret), secret, "v3", text_version,
                    stages=[CURRENT])
        for bad in ("not base64!", "YWJj*", "中文"):
            api.error(p + "CreateSecret(SecretDataType=binary, SecretData=%r)" % bad, "CreateSecret", "InvalidParameter",
                      400, SecretName=name("badbin"), VersionId="v1", SecretData=bad, SecretDataType="binary")
            api.error(p + "PutSecretValue(SecretDataType=binary, SecretData=%r)" % bad, "PutSecretValue",
                      "InvalidParameter", 400, SecretName=secret, VersionId="v4", SecretData=bad,
                      SecretDataType="binary")
        api.error(p + "CreateSecret(SecretDataType=bogus)", "CreateSecret", "InvalidParameter", 400,
                  SecretName=name("badtype"), VersionId="v1", SecretData="x", SecretDataType="bogus")
        cu.expect_eq(p + "versions after refused binary puts", {"v1": [], "v2": [PREVIOUS], "v3": [CURRENT]},
                     versions(secret))

    # --- PutSecretValue / ListSecretVersionIds -----------------------------------------------

    def step_put_secret_value(st):
        secret = name("put")
        create(secret, data="one")
        body = api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData="two")
        cu.expect_eq(p + "PutSecretValue.SecretName", secret, body.get("SecretName"))
        cu.expect_eq(p + "PutSecretValue.VersionId", "v2", body.get("VersionId"))
        cu.expect_eq(p + "PutSecretValue.VersionStages.VersionStage", [CURRENT], stages_of(body))
        check_value("GetSecretValue after PutSecretValue(v2)", get(secret), secret, "v2", "two", stages=[CURRENT])
        check_value("GetSecretValue(ACSPrevious)", get(secret, VersionStage=PREVIOUS), secret, "v1", "one",
                    stages=[PREVIOUS])
        api.call("PutSecretValue", SecretName=secret, VersionId="v3", SecretData="three")
        cu.expect_eq(p + "versions after v3", {"v1": [], "v2": [PREVIOUS], "v3": [CURRENT]}, versions(secret))
        check_value("GetSecretValue(VersionId=v1) without stages", get(secret, VersionId="v1"), secret, "v1", "one",
                    stages=[])
        # Idempotent repeats: the current version, and an older one; nothing moves.
        body = api.call("PutSecretValue", SecretName=secret, VersionId="v3", SecretData="three")
        cu.expect_eq(p + "PutSecretValue(v3 again).VersionId", "v3", body.get("VersionId"))
        api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData="two")
        cu.expect_eq(p + "versions after the idempotent repeats", {"v1": [], "v2": [PREVIOUS], "v3": [CURRENT]},
                     versions(secret))
        api.error(p + "PutSecretValue(v3, other data)", "PutSecretValue", "Rejected.ResourceExist", 409,
                  SecretName=secret, VersionId="v3", SecretData="not three")
        api.error(p + "PutSecretValue(v1, other data)", "PutSecretValue", "Rejected.ResourceExist", 409,
                  SecretName=secret, VersionId="v1", SecretData="not one")
        check_value("GetSecretValue after the refused puts", get(secret), secret, "v3", "three", stages=[CURRENT])
        # Custom stages: the new version gets them instead of ACSCurrent; one version per stage.
        body = api.call("PutSecretValue", SecretName=secret, VersionId="v4", SecretData="four",
                        VersionStages='["MyStage"]')
        cu.expect_eq(p + "PutSecretValue(VersionStages=[MyStage]).VersionStages", ["MyStage"], stages_of(body))
        check_value("GetSecretValue() after a custom-stage put", get(secret), secret, "v3", "three", stages=[CURRENT])
        check_value("GetSecretValue(VersionStage=MyStage)", get(secret, VersionStage="MyStage"), secret, "v4", "four",
                    stages=["MyStage"])
        api.call("PutSecretValue", SecretName=secret, VersionId="v5", SecretData="five",
                 VersionStages='["MyStage", "Other"]')
        cu.expect_eq(p + "versions after v5 took MyStage",
                     {"v1": [], "v2": [PREVIOUS], "v3": [CURRENT], "v4": [], "v5": ["MyStage", "Other"]},
                     versions(secret))
        cu.expect_eq(p + "ListSecretVersionIds without IncludeDeprecated",
                     {"v2": [PREVIOUS], "v3": [CURRENT], "v5": ["MyStage", "Other"]}, versions(secret, deprecated=False))
        cu.expect_eq(p + "ListSecretVersionIds(IncludeDeprecated=false)",
                     ["v2", "v3", "v5"],
                     sorted(v["VersionId"] for v in api.call("ListSecretVersionIds", SecretName=secret,
                                                             IncludeDeprecated="false")["VersionIds"]["VersionId"]))
        # Paging over the five versions.
        seen = []
        for page in (1, 2, 3):
            body = api.call("ListSecretVersionIds", SecretName=secret, IncludeDeprecated="true", PageSize=2,
                            PageNumber=page)
            what = p + "ListSecretVersionIds(PageSize=2, PageNumber=%d)" % page
            cu.expect_int(what + ".TotalCount", 5, body.get("TotalCount"))
            cu.expect_int(what + ".PageNumber", page, body.get("PageNumber"))
            cu.expect_int(what + ".PageSize", 2, body.get("PageSize"))
            cu.expect_eq(what + ".SecretName", secret, body.get("SecretName"))
            items = body["VersionIds"]["VersionId"] if body.get("VersionIds") else []
            cu.expect_eq(what + " entries", 1 if page == 3 else 2, len(items))
            seen += [v["VersionId"] for v in items]
        cu.expect_eq(p + "ListSecretVersionIds pages together", ["v1", "v2", "v3", "v4", "v5"], sorted(seen))
        for bad in ('["ACSCurrent", "ACSCurrent"', "MyStage", '{"a": 1}'):
            api.refused(p + "PutSecretValue(VersionStages=%r)" % bad, "PutSecretValue", SecretName=secret,
                        VersionId="v6", SecretData="six", VersionStages=bad)
        cu.check("v6" not in versions(secret), p + "versions after refused VersionStages", "no v6", versions(secret))

    # --- UpdateSecretVersionStage ------------------------------------------------------

    def step_update_version_stage(st):
        secret = name("stage")
        create(secret, data="one")
        api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData="two")
        api.call("PutSecretValue", SecretName=secret, VersionId="v3", SecretData="three", VersionStages='["Custom"]')
        cu.expect_eq(p + "initial stages", {"v1": [PREVIOUS], "v2": [CURRENT], "v3": ["Custom"]}, versions(secret))

        def usvs(**params):
            body = api.call("UpdateSecretVersionStage", SecretName=secret, **params)
            cu.expect_eq(p + "UpdateSecretVersionStage(%s).SecretName" % params, secret, body.get("SecretName"))

        api.error(p + "UpdateSecretVersionStage without Remove/MoveTo", "UpdateSecretVersionStage", "MissingParameter",
                  400, SecretName=secret, VersionStage="Custom")
        api.error(p + "UpdateSecretVersionStage without VersionStage", "UpdateSecretVersionStage", "MissingParameter",
                  400, SecretName=secret, MoveToVersion="v1")
        for stage, holder in ((CURRENT, "v2"), (PREVIOUS, "v1")):
            api.error(p + "UpdateSecretVersionStage(%s, RemoveFromVersion only)" % stage, "UpdateSecretVersionStage",
                      "InvalidParameter", 400, SecretName=secret, VersionStage=stage, RemoveFromVersion=holder)
        api.error(p + "UpdateSecretVersionStage(Custom, RemoveFromVersion=v1 without it)", "UpdateSecretVersionStage",
                  "InvalidParameter", 400, SecretName=secret, VersionStage="Custom", RemoveFromVersion="v1")
        api.error(p + "UpdateSecretVersionStage(ACSCurrent, RemoveFromVersion=v1 without it, MoveToVersion=v3)",
                  "UpdateSecretVersionStage", "InvalidParameter", 400, SecretName=secret, VersionStage=CURRENT,
                  RemoveFromVersion="v1", MoveToVersion="v3")
        api.refused(p + "UpdateSecretVersionStage(MoveToVersion=unknown)", "UpdateSecretVersionStage",
                    SecretName=secret, VersionStage="Custom", MoveToVersion="v404")
        not_found("UpdateSecretVersionStage of an unknown secret", "UpdateSecretVersionStage", SecretName=name("nosuch"),
                  VersionStage="Custom", MoveToVersion="v1")
        cu.expect_eq(p + "stages after the refused calls", {"v1": [PREVIOUS], "v2": [CURRENT], "v3": ["Custom"]},
                     versions(secret))
        usvs(VersionStage=CURRENT, RemoveFromVersion="v2", MoveToVersion="v3")
        cu.expect_eq(p + "stages after moving ACSCurrent v2 -> v3",
                     {"v1": [], "v2": [PREVIOUS], "v3": sorted([CURRENT, "Custom"])}, versions(secret))
        check_value("GetSecretValue() after moving ACSCurrent", get(secret), secret, "v3", "three",
                    stages=[CURRENT, "Custom"])
        usvs(VersionStage=CURRENT, MoveToVersion="v1")
        cu.expect_eq(p + "stages after moving ACSCurrent to v1 (MoveToVersion only)",
                     {"v1": [CURRENT], "v2": [], "v3": sorted([PREVIOUS, "Custom"])}, versions(secret))
        check_value("GetSecretValue(ACSPrevious) after moving ACSCurrent", get(secret, VersionStage=PREVIOUS), secret,
                    "v3", "three", stages=[PREVIOUS, "Custom"])
        usvs(VersionStage="Blue", MoveToVersion="v2")
        check_value("GetSecretValue(VersionStage=Blue)", get(secret, VersionStage="Blue"), secret, "v2", "two",
                    stages=["Blue"])
        usvs(VersionStage="Blue", MoveToVersion="v3")
        cu.expect_eq(p + "stages after moving Blue v2 -> v3 (MoveToVersion only)",
                     {"v1": [CURRENT], "v2": [], "v3": sorted([PREVIOUS, "Custom", "Blue"])}, versions(secret))
        usvs(VersionStage="Blue", RemoveFromVersion="v3", MoveToVersion="v2")
        cu.expect_eq(p + "stages after moving Blue v3 -> v2 (both)",
                     {"v1": [CURRENT], "v2": ["Blue"], "v3": sorted([PREVIOUS, "Custom"])}, versions(secret))
        usvs(VersionStage="Blue", RemoveFromVersion="v2")
        usvs(VersionStage="Custom", RemoveFromVersion="v3")
        cu.expect_eq(p + "stages after removing Blue and Custom", {"v1": [CURRENT], "v2": [], "v3": [PREVIOUS]},
                     versions(secret))
        not_found("GetSecretValue(VersionStage=Blue) after removing it", "GetSecretValue", SecretName=secret,
                  VersionStage="Blue")
        cu.expect_eq(p + "ListSecretVersionIds hides v2 (no stage) by default", ["v1", "v3"],
                     sorted(versions(secret, deprecated=False)))

    # --- ListSecrets --------------------------------------------------------------------------

    def step_list_secrets(st):
        before = total_secrets()
        tag = "lst" + rand_suffix()
        names = {w: "compat-%s-%s" % (w, tag) for w in ("alpha", "bravo", "charlie")}
        create(names["alpha"], Description="desc-one-" + tag, Tags='[{"TagKey":"k-%s","TagValue":"v-%s"}]' % (tag, tag))
        create(names["bravo"], Description="desc-two-" + tag,
               Tags='[{"TagKey":"k-%s","TagValue":"w-%s"}, {"TagKey":"z-%s","TagValue":"v-%s"}]' % (tag, tag, tag, tag))
        create(names["charlie"], Description="desc-three-" + tag)
        cu.expect_int(p + "ListSecrets.TotalCount after three CreateSecrets", before + 3, total_secrets())

        def listed(filters, **extra):
            body = api.call("ListSecrets", Filters=json.dumps(filters), PageSize=100, **extra)
            entries = ((body.get("SecretList") or {}).get("Secret")) or []
            cu.expect_int(p + "ListSecrets(%s).TotalCount" % filters, len(entries), body.get("TotalCount"))
            return {e.get("SecretName"): e for e in entries}

        three = [names["alpha"], names["bravo"], names["charlie"]]
        got = listed([{"Key": "SecretName", "Values": three}])
        cu.expect_eq(p + "ListSecrets(Filters SecretName=three names)", sorted(three), sorted(got))
        for n, e in got.items():
            what = p + "ListSecrets entry %s" % n
            cu.expect_eq(what + ".SecretType", "Generic", e.get("SecretType"))
            cu.expect_iso_time(what + ".CreateTime", e.get("CreateTime"))
            cu.expect_iso_time(what + ".UpdateTime", e.get("UpdateTime"))
            for absent in ("PlannedDeleteTime", "Tags"):
                cu.check(not e.get(absent), what + "." + absent, "absent", e.get(absent))
        got = listed([{"Key": "SecretName", "Values": [names["alpha"], names["bravo"]]}])
        cu.expect_eq(p + "ListSecrets(Filters SecretName=[alpha, bravo])", sorted([names["alpha"], names["bravo"]]),
                     sorted(got))
        got = listed([{"Key": "Description", "Values": ["desc-three-" + tag]}])
        cu.expect_eq(p + "ListSecrets(Filters Description=desc-three)", [names["charlie"]], sorted(got))
        got = listed([{"Key": "TagKey", "Values": ["k-" + tag]}])
        cu.expect_eq(p + "ListSecrets(Filters TagKey=k-)", sorted([names["alpha"], names["bravo"]]), sorted(got))
        got = listed([{"Key": "TagKey", "Values": ["z-" + tag]}])
        cu.expect_eq(p + "ListSecrets(Filters TagKey=z-)", [names["bravo"]], sorted(got))
        got = listed([{"Key": "TagValue", "Values": ["v-" + tag]}])
        cu.expect_eq(p + "ListSecrets(Filters TagValue=v-)", sorted([names["alpha"], names["bravo"]]), sorted(got))
        got = listed([{"Key": "TagValue", "Values": ["w-" + tag]}], FetchTags="true")
        cu.expect_eq(p + "ListSecrets(Filters TagValue=w-)", [names["bravo"]], sorted(got))
        cu.expect_eq(p + "ListSecrets(FetchTags=true) bravo Tags", {"k-" + tag: "w-" + tag, "z-" + tag: "v-" + tag},
                     tags_map(p + "ListSecrets bravo Tags", got[names["bravo"]].get("Tags")))
        got = listed([{"Key": "SecretName", "Values": three}], FetchTags=True)
        cu.expect_eq(p + "ListSecrets(FetchTags=True) alpha Tags", {"k-" + tag: "v-" + tag},
                     tags_map(p + "ListSecrets alpha Tags", got[names["alpha"]].get("Tags")))
        cu.expect_eq(p + "ListSecrets(FetchTags=True) charlie Tags (none)", {},
                     tags_map(p + "ListSecrets charlie Tags", got[names["charlie"]].get("Tags") or {"Tag": []}))
        got = listed([{"Key": "SecretName", "Values": ["compat-nosuch-" + tag]}])
        cu.expect_eq(p + "ListSecrets(Filters SecretName=unknown)", [], sorted(got))
        # Paging over the three.
        filters = json.dumps([{"Key": "SecretName", "Values": three}])
        seen = []
        for page in (1, 2, 3, 4):
            body = api.call("ListSecrets", Filters=filters, PageSize=1, PageNumber=page)
            what = p + "ListSecrets(PageSize=1, PageNumber=%d)" % page
            cu.expect_int(what + ".TotalCount", 3, body.get("TotalCount"))
            cu.expect_int(what + ".PageNumber", page, body.get("PageNumber"))
            cu.expect_int(what + ".PageSize", 1, body.get("PageSize"))
            items = ((body.get("SecretList") or {}).get("Secret")) or []
            cu.expect_eq(what + " entries", 0 if page == 4 else 1, len(items))
            seen += [e["SecretName"] for e in items]
        cu.expect_eq(p + "ListSecrets pages together", sorted(three), sorted(seen))
        body = api.call("ListSecrets")
        cu.expect_int(p + "ListSecrets() default PageNumber", 1, body.get("PageNumber"))
        cu.expect_int(p + "ListSecrets() default PageSize", 10, body.get("PageSize"))
        for size in (0, 101, "x"):
            api.error(p + "ListSecrets(PageSize=%s)" % size, "ListSecrets", "InvalidParameter", 400, PageSize=size)
        api.error(p + "ListSecrets(PageNumber=0)", "ListSecrets", "InvalidParameter", 400, PageNumber=0)
        for size in (1, 100):
            cu.expect_int(p + "ListSecrets(PageSize=%d).PageSize" % size, size,
                          api.call("ListSecrets", PageSize=size).get("PageSize"))
        for bad in ("not json", '[{"Key":"Bogus","Values":["x"]}]', '{"Key":"SecretName"}'):
            code, status = api.refused(p + "ListSecrets(Filters=%r)" % bad, "ListSecrets", Filters=bad)
            cu.expect_eq(p + "ListSecrets(Filters=%r) HTTP status" % bad, 400, status)

    # --- DeleteSecret / RestoreSecret ---------------------------------------------------------

    def step_delete_restore(st):
        secret = name("del")
        create(secret, data="keep me")
        created = epoch(describe(secret)["CreateTime"])
        body = api.call("DeleteSecret", SecretName=secret)
        cu.expect_eq(p + "DeleteSecret.SecretName", secret, body.get("SecretName"))
        planned = body.get("PlannedDeleteTime")
        cu.expect_iso_time(p + "DeleteSecret.PlannedDeleteTime", planned)
        window = epoch(planned) - created
        cu.check(30 * DAY_S <= window <= 30 * DAY_S + 300, p + "DeleteSecret default window (PlannedDeleteTime - CreateTime)",
                 "30 days", "%d s" % window)
        d = describe(secret)
        cu.expect_eq(p + "DescribeSecret.PlannedDeleteTime in the window", planned, d.get("PlannedDeleteTime"))
        entries = api.call("ListSecrets", Filters=json.dumps([{"Key": "SecretName", "Values": [secret]}]))
        entries = ((entries.get("SecretList") or {}).get("Secret")) or []
        cu.expect_eq(p + "ListSecrets entry PlannedDeleteTime in the window", [planned],
                     [e.get("PlannedDeleteTime") for e in entries])
        for what, action, params in (("GetSecretValue", "GetSecretValue", {}),
                                     ("PutSecretValue", "PutSecretValue", dict(VersionId="v2", SecretData="x")),
                                     ("UpdateSecret", "UpdateSecret", dict(Description="x"))):
            api.error(p + "%s in the recovery window" % what, action, "Rejected.ResourceInDeleteWindow", 409,
                      SecretName=secret, **params)
        api.error(p + "CreateSecret with the name of a secret in its recovery window", "CreateSecret",
                  "Rejected.ResourceInDeleteWindow", 409, SecretName=secret, VersionId="v1", SecretData="new")
        body = api.call("RestoreSecret", SecretName=secret)
        cu.expect_eq(p + "RestoreSecret.SecretName", secret, body.get("SecretName"))
        check_value("GetSecretValue after RestoreSecret", get(secret), secret, "v1", "keep me", stages=[CURRENT])
        cu.check(not describe(secret).get("PlannedDeleteTime"), p + "DescribeSecret.PlannedDeleteTime after restore",
                 "absent", describe(secret).get("PlannedDeleteTime"))
        api.call("UpdateSecret", SecretName=secret, Description="restored")
        code, status = api.refused(p + "RestoreSecret of a secret not being deleted", "RestoreSecret",
                                   SecretName=secret)
        print("note %sRestoreSecret on a live secret answers HTTP %s %s" % (p, status, code), flush=True)
        api.refused(p + "RestoreSecret of an unknown secret", "RestoreSecret", SecretName=name("nosuch"))
        # RecoveryWindowInDays bounds.
        for bad in ("6", "31", "0", "abc", 6):
            api.error(p + "DeleteSecret(RecoveryWindowInDays=%r)" % (bad,), "DeleteSecret", "InvalidParameter", 400,
                      SecretName=secret, RecoveryWindowInDays=bad)
        check_value("GetSecretValue after refused DeleteSecrets", get(secret), secret, "v1", "keep me")
        for days in ("7", 30):
            body = api.call("DeleteSecret", SecretName=secret, RecoveryWindowInDays=days)
            window = epoch(body["PlannedDeleteTime"]) - created
            cu.check(int(days) * DAY_S <= window <= int(days) * DAY_S + 300,
                     p + "DeleteSecret(RecoveryWindowInDays=%r) window" % (days,), "%s days" % days, "%d s" % window)
            api.call("RestoreSecret", SecretName=secret)
        # ForceDeleteWithoutRecovery in two spellings; the name is free again at once.
        for spelling in ("true", True):
            doomed = name("force")
            create(doomed, data="doomed")
            body = api.call("DeleteSecret", SecretName=doomed, ForceDeleteWithoutRecovery=spelling)
            cu.expect_eq(p + "DeleteSecret(Force).SecretName", doomed, body.get("SecretName"))
            not_found("DescribeSecret after ForceDeleteWithoutRecovery=%r" % (spelling,), "DescribeSecret",
                      SecretName=doomed)
            not_found("GetSecretValue after ForceDeleteWithoutRecovery=%r" % (spelling,), "GetSecretValue",
                      SecretName=doomed)
            create(doomed, data="reborn", version="n1")
            check_value("GetSecretValue of the re-created name", get(doomed), doomed, "n1", "reborn", stages=[CURRENT])
            cu.expect_eq(p + "versions of the re-created secret", {"n1": [CURRENT]}, versions(doomed))
        # Forcing the deletion of a secret already in its window.
        doomed = name("force2")
        create(doomed, data="x")
        api.call("DeleteSecret", SecretName=doomed, RecoveryWindowInDays="7")
        api.call("DeleteSecret", SecretName=doomed, ForceDeleteWithoutRecovery="true")
        not_found("DescribeSecret after forcing the deletion of a secret in its window", "DescribeSecret",
                  SecretName=doomed)

    # --- RotateSecret / rotation policy ------------------------------------------------------------

    def step_rotate_secret(st):
        secret = name("rot")
        arn = create(secret, data="initial")["Arn"]
        body = api.call("RotateSecret", SecretName=secret, VersionId="r1")
        cu.expect_eq(p + "RotateSecret.SecretName", secret, body.get("SecretName"))
        cu.expect_eq(p + "RotateSecret.VersionId", "r1", body.get("VersionId"))
        cu.expect_eq(p + "RotateSecret.Arn", arn, body.get("Arn"))
        got = poll("GetSecretValue after RotateSecret(r1): VersionId", lambda: get(secret),
                   lambda b: b.get("VersionId") == "r1", "r1")
        value = got.get("SecretData")
        cu.check(isinstance(value, str) and value and value != "initial", p + "rotated SecretData",
                 "a new non-empty value", value)
        cu.expect_eq(p + "rotated SecretDataType", "text", got.get("SecretDataType"))
        check_value("GetSecretValue(ACSPrevious) after RotateSecret", get(secret, VersionStage=PREVIOUS), secret, "v1",
                    "initial", stages=[PREVIOUS])
        for again in ("r1", "v1"):
            body = api.call("RotateSecret", SecretName=secret, VersionId=again)
            cu.expect_eq(p + "RotateSecret(%s again).VersionId" % again, again, body.get("VersionId"))
        time.sleep(1)
        cu.expect_eq(p + "versions after the repeated RotateSecret", {"v1": [PREVIOUS], "r1": [CURRENT]},
                     versions(secret))
        check_value("GetSecretValue after the repeated RotateSecret", get(secret), secret, "r1", value,
                    stages=[CURRENT])
        api.call("RotateSecret", SecretName=secret, VersionId="r2")
        got = poll("GetSecretValue after RotateSecret(r2): VersionId", lambda: get(secret),
                   lambda b: b.get("VersionId") == "r2", "r2")
        cu.check(got.get("SecretData") not in ("initial", value), p + "second rotated SecretData", "a new value",
                 got.get("SecretData"))
        cu.expect_eq(p + "versions after RotateSecret(r2)", {"v1": [], "r1": [PREVIOUS], "r2": [CURRENT]},
                     versions(secret))
        d = describe(secret)
        cu.expect_iso_time(p + "DescribeSecret.LastRotationDate after RotateSecret", d.get("LastRotationDate"))

    def check_rotation(what, body, seconds, created):
        what = p + what
        cu.expect_eq(what + ".AutomaticRotation", "Enabled", body.get("AutomaticRotation"))
        cu.expect_eq(what + ".RotationInterval", "%ds" % seconds, body.get("RotationInterval"))
        cu.expect_iso_time(what + ".NextRotationDate", body.get("NextRotationDate"))
        ahead = epoch(body["NextRotationDate"]) - created
        cu.check(seconds - 5 <= ahead <= seconds + 600, what + ".NextRotationDate - CreateTime", "%d s" % seconds,
                 "%d s" % ahead)

    def step_rotation_policy(st):
        secret = name("auto")
        body = create(secret, data="auto", EnableAutomaticRotation=True, RotationInterval="7d")
        created = epoch(get(secret)["CreateTime"])
        check_rotation("CreateSecret(EnableAutomaticRotation, 7d)", body, 604800, created)
        check_rotation("DescribeSecret after CreateSecret(7d)", describe(secret), 604800, created)
        check_rotation("GetSecretValue after CreateSecret(7d)", get(secret), 604800, created)
        for bad in ("5h", "366d", "21599s", "359m", "1w", "x", "7"):
            api.error(p + "CreateSecret(RotationInterval=%s)" % bad, "CreateSecret", "InvalidParameter", 400,
                      SecretName=name("badrot"), VersionId="v1", SecretData="x", EnableAutomaticRotation=True,
                      RotationInterval=bad)
        plain = name("policy")
        create(plain, data="policy")
        created = epoch(describe(plain)["CreateTime"])
        for interval, seconds, spelling in (("6h", 21600, True), ("365d", 31536000, "true"), ("360m", 21600, "True"),
                                            ("604800s", 604800, True), ("30d", 2592000, True)):
            body = api.call("UpdateSecretRotationPolicy", SecretName=plain, EnableAutomaticRotation=spelling,
                            RotationInterval=interval)
            cu.expect_eq(p + "UpdateSecretRotationPolicy(%s).SecretName" % interval, plain, body.get("SecretName"))
            check_rotation("DescribeSecret after UpdateSecretRotationPolicy(%s)" % interval, describe(plain), seconds,
                           created)
        for bad in ("5h", "366d", "21599s", "1w", "x"):
            api.error(p + "UpdateSecretRotationPolicy(RotationInterval=%r)" % bad, "UpdateSecretRotationPolicy",
                      "InvalidParameter", 400, SecretName=plain, EnableAutomaticRotation=True, RotationInterval=bad)
        for missing in (dict(), dict(RotationInterval="")):
            api.error(p + "UpdateSecretRotationPolicy(true) without RotationInterval %s" % missing,
                      "UpdateSecretRotationPolicy", ("MissingParameter", "InvalidParameter"), 400, SecretName=plain,
                      EnableAutomaticRotation=True, **missing)
        api.error(p + "UpdateSecretRotationPolicy without EnableAutomaticRotation", "UpdateSecretRotationPolicy",
                  "MissingParameter", 400, SecretName=plain)
        not_found("UpdateSecretRotationPolicy of an unknown secret", "UpdateSecretRotationPolicy",
                  SecretName=name("nosuch"), EnableAutomaticRotation=False)
        check_rotation("DescribeSecret after refused policies", describe(plain), 2592000, created)
        api.call("UpdateSecretRotationPolicy", SecretName=plain, EnableAutomaticRotation=False)
        d = describe(plain)
        cu.expect_eq(p + "DescribeSecret.AutomaticRotation after disabling", "Disabled", d.get("AutomaticRotation"))
        api.call("UpdateSecretRotationPolicy", SecretName=plain, EnableAutomaticRotation="false", RotationInterval="1d")
        cu.expect_eq(p + "DescribeSecret.AutomaticRotation after disabling with an ignored interval", "Disabled",
                     describe(plain).get("AutomaticRotation"))

    # --- envelope under a CMK ---------------------------------------------------------------------

    def step_cmk(st):
        key_id = api.call("CreateKey", Description="compat secrets CMK")["KeyMetadata"]["KeyId"]
        secret = name("cmk")
        create(secret, data="under a CMK", EncryptionKeyId=key_id)
        cu.expect_eq(p + "DescribeSecret.EncryptionKeyId", key_id, describe(secret).get("EncryptionKeyId"))
        check_value("GetSecretValue under an Enabled CMK", get(secret), secret, "v1", "under a CMK")
        api.call("PutSecretValue", SecretName=secret, VersionId="v2", SecretData="second under the CMK")
        api.call("DisableKey", KeyId=key_id)
        api.error(p + "GetSecretValue with the CMK Disabled", "GetSecretValue", "Rejected.Disabled", 409,
                  SecretName=secret)
        api.error(p + "GetSecretValue(ACSPrevious) with the CMK Disabled", "GetSecretValue", "Rejected.Disabled", 409,
                  SecretName=secret, VersionStage=PREVIOUS)
        api.error(p + "CreateSecret under a Disabled CMK", "CreateSecret", "Rejected.Disabled", 409,
                  SecretName=name("cmkdis"), VersionId="v1", SecretData="x", EncryptionKeyId=key_id)
        api.call("EnableKey", KeyId=key_id)
        check_value("GetSecretValue after EnableKey", get(secret), secret, "v2", "second under the CMK")
        check_value("GetSecretValue(ACSPrevious) after EnableKey", get(secret, VersionStage=PREVIOUS), secret, "v1",
                    "under a CMK")
        api.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
        api.error(p + "GetSecretValue with the CMK PendingDeletion", "GetSecretValue", "Rejected.PendingDeletion", 409,
                  SecretName=secret)
        api.call("CancelKeyDeletion", KeyId=key_id)
        check_value("GetSecretValue after CancelKeyDeletion", get(secret), secret, "v2", "second under the CMK")
        api.error(p + "CreateSecret(EncryptionKeyId=unknown)", "CreateSecret", "Forbidden.KeyNotFound", 404,
                  SecretName=name("cmkmissing"), VersionId="v1", SecretData="x", EncryptionKeyId=cu.random_key_id())
        rsa = api.call("CreateKey", KeySpec="RSA_2048", KeyUsage="ENCRYPT/DECRYPT")["KeyMetadata"]["KeyId"]
        code, status = api.refused(p + "CreateSecret(EncryptionKeyId=asymmetric key)", "CreateSecret",
                                   SecretName=name("cmkrsa"), VersionId="v1", SecretData="x", EncryptionKeyId=rsa)
        cu.expect_eq(p + "CreateSecret(EncryptionKeyId=asymmetric key) HTTP status", 400, status)
        # An alias names the key as well.
        alias = cu.rand_alias("sec")
        api.call("CreateAlias", AliasName=alias, KeyId=key_id)
        via_alias = name("cmkalias")
        create(via_alias, data="via alias", EncryptionKeyId=alias)
        check_value("GetSecretValue of a secret created with an alias", get(via_alias), via_alias, "v1", "via alias")

    # --- tags on secrets ------------------------------------------------------------------------------

    def step_tags(st):
        secret = name("tags")
        create(secret, data="tagged", Tags=cu.TAGS)

        def listed():
            body = api.call_generic("ListResourceTags", SecretName=secret)
            return tags_map(p + "ListResourceTags(SecretName).Tags", body.get("Tags"))

        cu.expect_eq(p + "ListResourceTags(SecretName) after CreateSecret(Tags)", {"team": "a"}, listed())
        api.call("TagResource", SecretName=secret, Tags='[{"TagKey":"env","TagValue":"prod"},{"TagKey":"tier","TagValue":"1"}]')
        cu.expect_eq(p + "ListResourceTags after TagResource", {"team": "a", "env": "prod", "tier": "1"}, listed())
        cu.expect_eq(p + "DescribeSecret(FetchTags) after TagResource", {"team": "a", "env": "prod", "tier": "1"},
                     tags_map(p + "DescribeSecret.Tags", describe(secret, FetchTags="true").get("Tags")))
        api.call("UntagResource", SecretName=secret, TagKeys='["env", "team"]')
        cu.expect_eq(p + "ListResourceTags after UntagResource", {"tier": "1"}, listed())
        unknown = name("nosuch")
        not_found("TagResource of an unknown secret", "TagResource", SecretName=unknown, Tags=cu.TAGS)
        not_found("UntagResource of an unknown secret", "UntagResource", SecretName=unknown, TagKeys='["team"]')
        api.error_generic(p + "ListResourceTags of an unknown secret", "ListResourceTags", "Forbidden.ResourceNotFound",
                          404, SecretName=unknown)
        key_id = api.call("CreateKey", Description="compat secret tags")["KeyMetadata"]["KeyId"]
        code, status = api.refused(p + "TagResource(KeyId and SecretName)", "TagResource", KeyId=key_id,
                                   SecretName=secret, Tags=cu.TAGS)
        cu.expect_eq(p + "TagResource(KeyId and SecretName) HTTP status", 400, status)
        code, status = api.refused(p + "UntagResource(KeyId and SecretName)", "UntagResource", KeyId=key_id,
                                   SecretName=secret, TagKeys='["tier"]')
        cu.expect_eq(p + "UntagResource(KeyId and SecretName) HTTP status", 400, status)
        cu.expect_eq(p + "ListResourceTags after the refused calls", {"tier": "1"}, listed())
        cu.expect_eq(p + "key tags after the refused calls", [],
                     (api.call("ListResourceTags", KeyId=key_id).get("Tags") or {}).get("Tag") or [])

    # --- KMS time: scheduled rotation and the end of the recovery window ------------------------------

    def step_scheduled_rotation(st):
        secret = name("sched")
        create(secret, data="before rotation")
        api.call("UpdateSecretRotationPolicy", SecretName=secret, EnableAutomaticRotation=True, RotationInterval="6h")
        d = describe(secret)
        created = epoch(d["CreateTime"])
        check_rotation("DescribeSecret(6h policy)", d, 21600, created)
        next_at = epoch(d["NextRotationDate"])
        last_before = d.get("LastRotationDate")
        cu.advance_clock((next_at - created + 120) * 1000)
        got = poll("GetSecretValue after advancing past NextRotationDate: VersionId", lambda: get(secret),
                   lambda b: b.get("VersionId") != "v1", "a new VersionId")
        value = got.get("SecretData")
        cu.check(isinstance(value, str) and value and value != "before rotation", p + "scheduled rotation SecretData",
                 "a new non-empty value", value)
        cu.expect_eq(p + "scheduled rotation VersionStages", [CURRENT], stages_of(got))
        check_value("GetSecretValue(ACSPrevious) after the scheduled rotation", get(secret, VersionStage=PREVIOUS),
                    secret, "v1", "before rotation", stages=[PREVIOUS])
        d = describe(secret)
        cu.expect_iso_time(p + "DescribeSecret.LastRotationDate after the scheduled rotation", d.get("LastRotationDate"))
        cu.check(d["LastRotationDate"] != last_before and epoch(d["LastRotationDate"]) >= next_at,
                 p + "DescribeSecret.LastRotationDate after the scheduled rotation",
                 "at or after %s (was %s)" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(next_at)), last_before),
                 d["LastRotationDate"])
        cu.expect_iso_time(p + "DescribeSecret.NextRotationDate after the scheduled rotation", d.get("NextRotationDate"))
        cu.check(epoch(d["NextRotationDate"]) > next_at, p + "NextRotationDate after the scheduled rotation",
                 "later than before", d["NextRotationDate"])
        cu.expect_eq(p + "AutomaticRotation after the scheduled rotation", "Enabled", d.get("AutomaticRotation"))

    def step_recovery_window_ends(st):
        secret = name("purge")
        create(secret, data="to be purged")
        kept = name("kept")
        create(kept, data="kept")
        created = epoch(describe(secret)["CreateTime"])
        planned = epoch(api.call("DeleteSecret", SecretName=secret, RecoveryWindowInDays=7)["PlannedDeleteTime"])
        cu.advance_clock((planned - created + 120) * 1000)
        poll("DescribeSecret after advancing past PlannedDeleteTime", lambda: describe_outcome(secret),
             lambda got: got == ("Forbidden.ResourceNotFound", 404), "Forbidden.ResourceNotFound / 404")
        not_found("GetSecretValue of the purged secret", "GetSecretValue", SecretName=secret)
        create(secret, data="new life", version="n1")
        check_value("GetSecretValue of the re-created purged name", get(secret), secret, "n1", "new life",
                    stages=[CURRENT])
        check_value("GetSecretValue of a live secret after the purge", get(kept), kept, "v1", "kept")

    def describe_outcome(secret):
        """'live' while DescribeSecret succeeds, else its (code, status) (some 4xx with a Code)."""
        try:
            api.call("DescribeSecret", SecretName=secret)
        except cu.StepFailure:
            raise
        except Exception:  # noqa: BLE001 - classified by api.refused just below
            return api.refused(p + "DescribeSecret(%s)" % secret, "DescribeSecret", SecretName=secret)
        return "live"

    return [
        (p + "GetRandomPassword options", step_random_password),
        (p + "SecretName rules and required parameters", step_names),
        (p + "CreateSecret / GetSecretValue / DescribeSecret", step_create_get_describe),
        (p + "UpdateSecret", step_update_secret),
        (p + "text values round-trip byte-exact", step_text_values),
        (p + "binary values", step_binary_values),
        (p + "PutSecretValue stages / ListSecretVersionIds", step_put_secret_value),
        (p + "UpdateSecretVersionStage", step_update_version_stage),
        (p + "ListSecrets filters / paging / FetchTags", step_list_secrets),
        (p + "DeleteSecret / RestoreSecret / ForceDeleteWithoutRecovery", step_delete_restore),
        (p + "RotateSecret", step_rotate_secret),
        (p + "automatic rotation policy", step_rotation_policy),
        (p + "secrets under a CMK", step_cmk),
        (p + "TagResource / UntagResource / ListResourceTags with SecretName", step_tags),
        (p + "scheduled rotation (test clock)", step_scheduled_rotation),
        (p + "recovery window ends (test clock)", step_recovery_window_ends),
    ]
