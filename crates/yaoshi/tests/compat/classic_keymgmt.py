"""Key management through the classic Alibaba Cloud Python SDK
(aliyun-python-sdk-core AcsClient + aliyun-python-sdk-kms request classes, RPC v1 HMAC-SHA1):
key lifecycle, deletion protection, key versions, aliases, tags, ListKeys filters and the
account/region actions.

Env: YAOSHI_ENDPOINT (host:port, plain http), YAOSHI_ACCESS_KEY_ID,
YAOSHI_ACCESS_KEY_SECRET, YAOSHI_REGION.
"""

import calendar
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compat_util as cu  # noqa: E402
from aliyunsdkkms.request.v20160120.CancelKeyDeletionRequest import CancelKeyDeletionRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.CreateAliasRequest import CreateAliasRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DeleteAliasRequest import DeleteAliasRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeAccountKmsStatusRequest import DescribeAccountKmsStatusRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeKeyRequest import DescribeKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeKeyVersionRequest import DescribeKeyVersionRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DescribeRegionsRequest import DescribeRegionsRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.DisableKeyRequest import DisableKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.EnableKeyRequest import EnableKeyRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.EncryptRequest import EncryptRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListAliasesByKeyIdRequest import ListAliasesByKeyIdRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListAliasesRequest import ListAliasesRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListKeysRequest import ListKeysRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListKeyVersionsRequest import ListKeyVersionsRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ListResourceTagsRequest import ListResourceTagsRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.OpenKmsServiceRequest import OpenKmsServiceRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.ScheduleKeyDeletionRequest import ScheduleKeyDeletionRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.SetDeletionProtectionRequest import SetDeletionProtectionRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.TagResourceRequest import TagResourceRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.UntagResourceRequest import UntagResourceRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.UpdateAliasRequest import UpdateAliasRequest  # noqa: E402
from aliyunsdkkms.request.v20160120.UpdateKeyDescriptionRequest import UpdateKeyDescriptionRequest  # noqa: E402

SCRIPT = "classic-keymgmt"
ENV = cu.Env()
from classic_sdk import call, create_key, expect_error, request  # noqa: E402


def describe(key_id, what="DescribeKey"):
    body = call(request(DescribeKeyRequest, KeyId=key_id))
    md = body.get("KeyMetadata")
    cu.check(isinstance(md, dict), what + ".KeyMetadata", "an object", body)
    return md


def encrypt(key_id):
    body = call(request(EncryptRequest, KeyId=key_id, Plaintext=cu.sample_plaintext("keymgmt")))
    cu.expect_b64("Encrypt(%s).CiphertextBlob" % key_id, body.get("CiphertextBlob"))
    return body


def tags_of(key_id):
    body = call(request(ListResourceTagsRequest, KeyId=key_id))
    tags = (body.get("Tags") or {}).get("Tag")
    cu.check(isinstance(tags, list), "ListResourceTags.Tags.Tag", "a list", body)
    for tag in tags:
        cu.expect_eq("ListResourceTags tag KeyId", key_id, tag.get("KeyId"))
    return {t.get("TagKey"): t.get("TagValue") for t in tags}, len(tags)


def page_all(what, make_req, list_path, item_key, size=2):
    """Walk every page; returns (items, TotalCount). Checks PageNumber/PageSize and no duplicates."""
    items, page = [], 1
    while True:
        label = "%s(PageNumber=%d, PageSize=%d)" % (what, page, size)
        body = call(make_req(page, size))
        cu.expect_int(label + ".PageNumber", page, body.get("PageNumber"))
        cu.expect_int(label + ".PageSize", size, body.get("PageSize"))
        total = body.get("TotalCount")
        cu.check(type(total) is int and total >= 0, label + ".TotalCount", "a non-negative int", total)
        entries = (body.get(list_path[0]) or {}).get(list_path[1])
        cu.check(isinstance(entries, list), "%s.%s.%s" % (label, list_path[0], list_path[1]), "a list", body)
        cu.check(len(entries) <= size, label + " entry count", "at most %d" % size, len(entries))
        items.extend(entries)
        if len(entries) < size or page * size >= total:
            break
        page += 1
        cu.check(page <= total // size + 2, what + " paging", "to end within TotalCount/PageSize pages", page)
    keys = [e.get(item_key) for e in items]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    cu.check(not dupes, what + " pages", "every %s exactly once" % item_key, dupes)
    cu.expect_eq(what + ".TotalCount vs distinct entries seen", len(set(keys)), total)
    return items, total


# --- steps --------------------------------------------------------------------


def step_create_with_tags(st):
    md = create_key("compat keymgmt", Tags=cu.TAGS)["KeyMetadata"]
    cu.expect_eq("CreateKey.KeyMetadata.Description", "compat keymgmt", md.get("Description"))
    cu.expect_eq("CreateKey.KeyMetadata.KeyState", "Enabled", md.get("KeyState"))
    tags, count = tags_of(md["KeyId"])
    cu.expect_eq("ListResourceTags after CreateKey(Tags)", {"team": "a"}, tags)
    cu.expect_eq("ListResourceTags tag count", 1, count)
    st["key"] = md


def step_describe_fields(st):
    key_id = st["key"]["KeyId"]
    md = describe(key_id)
    cu.expect_eq("DescribeKey.KeyId", key_id, md.get("KeyId"))
    arn = md.get("Arn")
    cu.check(isinstance(arn, str) and re.match(cu.KEY_ARN % (re.escape(ENV.region), re.escape(key_id)), arn),
             "DescribeKey.Arn", "acs:kms:%s:<digits>:key/%s" % (ENV.region, key_id), arn)
    for field, expected in (("KeyState", "Enabled"), ("KeySpec", "Aliyun_AES_256"), ("KeyUsage", "ENCRYPT/DECRYPT"),
                            ("Origin", "Aliyun_KMS"), ("ProtectionLevel", "SOFTWARE"),
                            ("DeletionProtection", "Disabled"), ("AutomaticRotation", "Disabled"),
                            ("Description", "compat keymgmt")):
        cu.expect_eq("DescribeKey.%s" % field, expected, md.get(field))
    cu.expect_iso_time("DescribeKey.CreationDate", md.get("CreationDate"))
    cu.expect_iso_time("DescribeKey.LastRotationDate", md.get("LastRotationDate"))
    cu.expect_nonempty_str("DescribeKey.Creator", md.get("Creator"))
    cu.expect_nonempty_str("DescribeKey.PrimaryKeyVersion", md.get("PrimaryKeyVersion"))
    cu.expect_eq("DescribeKey.PrimaryKeyVersion vs CreateKey", st["key"]["PrimaryKeyVersion"], md.get("PrimaryKeyVersion"))
    cu.check("DeleteDate" not in md or not md["DeleteDate"], "DescribeKey.DeleteDate", "absent for an Enabled key", md)
    st["key"] = md


def step_update_description(st):
    key_id = st["key"]["KeyId"]
    desc = "compat updated \u94a5 *!()'~"
    call(request(UpdateKeyDescriptionRequest, KeyId=key_id, Description=desc))
    cu.expect_eq("DescribeKey.Description after UpdateKeyDescription", desc, describe(key_id).get("Description"))


def step_disable_enable(st):
    key_id = st["key"]["KeyId"]
    call(request(DisableKeyRequest, KeyId=key_id))
    cu.expect_eq("DescribeKey.KeyState after DisableKey", "Disabled", describe(key_id).get("KeyState"))
    expect_error("Encrypt with a Disabled key",
                 request(EncryptRequest, KeyId=key_id, Plaintext=cu.sample_plaintext()), "Rejected.Disabled", 409)
    call(request(EnableKeyRequest, KeyId=key_id))
    cu.expect_eq("DescribeKey.KeyState after EnableKey", "Enabled", describe(key_id).get("KeyState"))
    cu.expect_eq("Encrypt after EnableKey .KeyId", key_id, encrypt(key_id).get("KeyId"))


def step_schedule_cancel_deletion(st):
    key_id = st["key"]["KeyId"]
    call(request(ScheduleKeyDeletionRequest, KeyId=key_id, PendingWindowInDays=7))
    md = describe(key_id)
    cu.expect_eq("DescribeKey.KeyState after ScheduleKeyDeletion", "PendingDeletion", md.get("KeyState"))
    delete_date = md.get("DeleteDate")
    cu.expect_iso_time("DescribeKey.DeleteDate", delete_date)
    when = calendar.timegm(time.strptime(delete_date, "%Y-%m-%dT%H:%M:%SZ"))
    cu.check(abs(when - (time.time() + 7 * 86400)) < 3600, "DescribeKey.DeleteDate",
             "about 7 days from now", delete_date)
    expect_error("EnableKey in PendingDeletion", request(EnableKeyRequest, KeyId=key_id),
                 "Rejected.StateModifiedFailed", 409)
    expect_error("UpdateKeyDescription in PendingDeletion",
                 request(UpdateKeyDescriptionRequest, KeyId=key_id, Description="nope"), "Rejected.PendingDeletion", 409)
    call(request(CancelKeyDeletionRequest, KeyId=key_id))
    md = describe(key_id)
    cu.expect_eq("DescribeKey.KeyState after CancelKeyDeletion", "Enabled", md.get("KeyState"))
    cu.check(not md.get("DeleteDate"), "DescribeKey.DeleteDate after CancelKeyDeletion", "absent", md.get("DeleteDate"))
    expect_error("ScheduleKeyDeletion PendingWindowInDays=6",
                 request(ScheduleKeyDeletionRequest, KeyId=key_id, PendingWindowInDays=6), "InvalidParameter", 400)
    cu.expect_eq("DescribeKey.KeyState after refused ScheduleKeyDeletion", "Enabled", describe(key_id).get("KeyState"))


def step_deletion_protection(st):
    key_id, arn = st["key"]["KeyId"], st["key"]["Arn"]
    desc = "compat protect"
    call(request(SetDeletionProtectionRequest, ProtectedResourceArn=arn, EnableDeletionProtection=True,
                 DeletionProtectionDescription=desc))
    md = describe(key_id)
    cu.expect_eq("DescribeKey.DeletionProtection after SetDeletionProtection(on)", "Enabled", md.get("DeletionProtection"))
    cu.expect_eq("DescribeKey.DeletionProtectionDescription", desc, md.get("DeletionProtectionDescription"))
    expect_error("ScheduleKeyDeletion with deletion protection on",
                 request(ScheduleKeyDeletionRequest, KeyId=key_id, PendingWindowInDays=7),
                 "Rejected.StateModifiedFailed", 409)
    cu.expect_eq("DescribeKey.KeyState after refused ScheduleKeyDeletion", "Enabled", describe(key_id).get("KeyState"))
    call(request(SetDeletionProtectionRequest, ProtectedResourceArn=arn, EnableDeletionProtection=False))
    md = describe(key_id)
    cu.expect_eq("DescribeKey.DeletionProtection after SetDeletionProtection(off)", "Disabled", md.get("DeletionProtection"))


def step_key_versions(st):
    key_id, version = st["key"]["KeyId"], st["key"]["PrimaryKeyVersion"]
    body = call(request(DescribeKeyVersionRequest, KeyId=key_id, KeyVersionId=version))
    kv = body.get("KeyVersion")
    cu.check(isinstance(kv, dict), "DescribeKeyVersion.KeyVersion", "an object", body)
    cu.expect_eq("DescribeKeyVersion.KeyVersion.KeyId", key_id, kv.get("KeyId"))
    cu.expect_eq("DescribeKeyVersion.KeyVersion.KeyVersionId", version, kv.get("KeyVersionId"))
    cu.expect_iso_time("DescribeKeyVersion.KeyVersion.CreationDate", kv.get("CreationDate"))
    items, total = page_all("ListKeyVersions",
                            lambda n, s: request(ListKeyVersionsRequest, KeyId=key_id, PageNumber=n, PageSize=s),
                            ("KeyVersions", "KeyVersion"), "KeyVersionId")
    cu.expect_int("ListKeyVersions.TotalCount", 1, total)
    cu.expect_eq("ListKeyVersions KeyVersionId", version, items[0].get("KeyVersionId"))
    cu.expect_eq("ListKeyVersions KeyId", key_id, items[0].get("KeyId"))
    cu.expect_iso_time("ListKeyVersions CreationDate", items[0].get("CreationDate"))
    expect_error("DescribeKeyVersion of an unknown version",
                 request(DescribeKeyVersionRequest, KeyId=key_id, KeyVersionId=cu.random_key_id()),
                 "Forbidden.KeyVersionNotFound", 404)


def alias_names(items, key_id=None):
    for a in items:
        name = a.get("AliasName")
        cu.expect_nonempty_str("alias entry AliasName", name)
        arn = a.get("AliasArn")
        cu.check(isinstance(arn, str) and re.match(cu.ALIAS_ARN % (re.escape(ENV.region), re.escape(name)), arn),
                 "alias entry AliasArn", "acs:kms:%s:<digits>:%s" % (ENV.region, name), arn)
        if key_id is not None:
            cu.expect_eq("alias entry KeyId (%s)" % name, key_id, a.get("KeyId"))
    return [a.get("AliasName") for a in items]


def by_key(key_id):
    items, _ = page_all("ListAliasesByKeyId",
                        lambda n, s: request(ListAliasesByKeyIdRequest, KeyId=key_id, PageNumber=n, PageSize=s),
                        ("Aliases", "Alias"), "AliasName")
    return set(alias_names(items, key_id))


def step_aliases(st):
    key_id = st["key"]["KeyId"]
    key2 = create_key("compat keymgmt alias target")["KeyMetadata"]["KeyId"]
    alias = cu.rand_alias("a")
    call(request(CreateAliasRequest, AliasName=alias, KeyId=key_id))
    cu.expect_eq("DescribeKey(%s).KeyId" % alias, key_id, describe(alias).get("KeyId"))
    cu.expect_eq("Encrypt(KeyId=%s).KeyId" % alias, key_id, encrypt(alias).get("KeyId"))
    expect_error("CreateAlias duplicate", request(CreateAliasRequest, AliasName=alias, KeyId=key2),
                 "AliasAlreadyExists", 400)
    expect_error("CreateAlias without the alias/ prefix",
                 request(CreateAliasRequest, AliasName="compat-" + cu.random_key_id()[:8], KeyId=key_id),
                 "InvalidParameter", 400)
    cu.expect_eq("ListAliasesByKeyId(key1)", {alias}, by_key(key_id))
    call(request(UpdateAliasRequest, AliasName=alias, KeyId=key2))
    cu.expect_eq("DescribeKey(%s).KeyId after UpdateAlias" % alias, key2, describe(alias).get("KeyId"))
    cu.expect_eq("ListAliasesByKeyId(key1) after UpdateAlias", set(), by_key(key_id))
    created = {alias: key2}
    for i in range(5):
        name = cu.rand_alias("p%d" % i)
        target = key_id if i % 2 else key2
        call(request(CreateAliasRequest, AliasName=name, KeyId=target))
        created[name] = target
    items, total = page_all("ListAliases", lambda n, s: request(ListAliasesRequest, PageNumber=n, PageSize=s),
                            ("Aliases", "Alias"), "AliasName")
    alias_names(items)
    seen = {a["AliasName"]: a.get("KeyId") for a in items}
    missing = sorted(set(created) - set(seen))
    cu.check(not missing, "ListAliases pages", "all created aliases listed", {"missing": missing})
    for name, target in created.items():
        cu.expect_eq("ListAliases KeyId of %s" % name, target, seen[name])
    # The server is fresh per script: only the aliases created above exist.
    cu.expect_eq("ListAliases names vs the aliases this script created", set(created), set(seen))
    cu.expect_int("ListAliases.TotalCount", len(created), total)
    cu.expect_eq("ListAliasesByKeyId(key2)", {n for n, k in created.items() if k == key2}, by_key(key2))
    cu.expect_eq("ListAliasesByKeyId(key1)", {n for n, k in created.items() if k == key_id}, by_key(key_id))
    call(request(DeleteAliasRequest, AliasName=alias))
    expect_error("DescribeKey by a deleted alias", request(DescribeKeyRequest, KeyId=alias), "Forbidden.AliasNotFound", 404)
    expect_error("DeleteAlias of a deleted alias", request(DeleteAliasRequest, AliasName=alias),
                 "Forbidden.AliasNotFound", 404)
    cu.expect_eq("DescribeKey(key2) still there", "Enabled", describe(key2).get("KeyState"))


def step_tags(st):
    key_id = st["key"]["KeyId"]
    call(request(TagResourceRequest, KeyId=key_id, Tags='[{"TagKey":"env","TagValue":"prod"}]'))
    tags, _ = tags_of(key_id)
    cu.expect_eq("ListResourceTags after TagResource", {"team": "a", "env": "prod"}, tags)
    call(request(UntagResourceRequest, KeyId=key_id, TagKeys='["team"]'))
    tags, _ = tags_of(key_id)
    cu.expect_eq("ListResourceTags after UntagResource", {"env": "prod"}, tags)
    nine = json.dumps([{"TagKey": "k%d" % i, "TagValue": "v%d" % i} for i in range(9)])
    call(request(TagResourceRequest, KeyId=key_id, Tags=nine))
    tags, count = tags_of(key_id)
    cu.expect_eq("ListResourceTags count with 10 tags", 10, count)
    expect_error("TagResource to 11 tags",
                 request(TagResourceRequest, KeyId=key_id, Tags='[{"TagKey":"eleventh","TagValue":"x"}]'),
                 "Rejected.LimitExceeded", 400)
    tags, count = tags_of(key_id)
    cu.expect_eq("ListResourceTags count after refused 11th tag", 10, count)
    cu.check("eleventh" not in tags, "ListResourceTags after refused 11th tag", "no 'eleventh'", tags)


def step_list_keys_filters(st):
    disabled = set()
    for i in range(2):
        key_id = create_key("compat keymgmt disabled %d" % i)["KeyMetadata"]["KeyId"]
        call(request(DisableKeyRequest, KeyId=key_id))
        disabled.add(key_id)
    create_key("compat keymgmt stays enabled")
    flt = json.dumps([{"Key": "KeyState", "Values": ["Disabled"]}])
    items, total = page_all("ListKeys(Filters=KeyState:Disabled)",
                            lambda n, s: request(ListKeysRequest, Filters=flt, PageNumber=n, PageSize=s),
                            ("Keys", "Key"), "KeyId")
    cu.expect_eq("ListKeys(Filters=KeyState:Disabled) KeyIds", disabled, {k.get("KeyId") for k in items})
    cu.expect_int("ListKeys(Filters=KeyState:Disabled).TotalCount", len(disabled), total)
    expect_error("ListKeys with an unknown filter Key",
                 request(ListKeysRequest, Filters='[{"Key":"Bogus","Values":["x"]}]'), "InvalidParameter", 400)
    expect_error("ListKeys with an unknown KeyState value",
                 request(ListKeysRequest, Filters='[{"Key":"KeyState","Values":["Bogus"]}]'), "InvalidParameter", 400)


def step_account(st):
    body = call(request(DescribeRegionsRequest))
    regions = ((body.get("Regions") or {}).get("Region"))
    cu.check(isinstance(regions, list), "DescribeRegions.Regions.Region", "a list", body)
    ids = [r.get("RegionId") for r in regions]
    cu.check(ENV.region in ids, "DescribeRegions RegionIds", "to contain %r" % ENV.region, ids)
    body = call(request(DescribeAccountKmsStatusRequest))
    cu.expect_eq("DescribeAccountKmsStatus.AccountStatus", "Enabled", body.get("AccountStatus"))
    expect_error("OpenKmsService", request(OpenKmsServiceRequest), "Forbidden.Opened", 400)


STEPS = [
    ("CreateKey with Tags / ListResourceTags", step_create_with_tags),
    ("DescribeKey fields", step_describe_fields),
    ("UpdateKeyDescription", step_update_description),
    ("DisableKey / EnableKey", step_disable_enable),
    ("ScheduleKeyDeletion / CancelKeyDeletion", step_schedule_cancel_deletion),
    ("SetDeletionProtection", step_deletion_protection),
    ("DescribeKeyVersion / ListKeyVersions", step_key_versions),
    ("aliases", step_aliases),
    ("TagResource / UntagResource / limit", step_tags),
    ("ListKeys Filters", step_list_keys_filters),
    ("DescribeRegions / DescribeAccountKmsStatus / OpenKmsService", step_account),
]

if __name__ == "__main__":
    cu.run(SCRIPT, STEPS)
