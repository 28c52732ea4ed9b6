"""Key management through the Tea / darabonba Alibaba Cloud Python SDK
(alibabacloud_kms20160120 Client on alibabacloud_tea_openapi), once with the default
ACS3-HMAC-SHA256 Authorization header and once with signature_algorithm='v2' (RPC v1 HMAC-SHA1):
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
from alibabacloud_kms20160120 import models as kms  # noqa: E402

SCRIPT = "tea-keymgmt"
ENV = cu.Env()
from tea_sdk import SIGNATURES, expect_error, make_client, ok  # noqa: E402


def steps_for(label, signature_algorithm):
    client = make_client(signature_algorithm)
    p = "[%s] " % label

    # --- helpers bound to this client ---------------------------------------

    def create_key(description, **extra):
        body = ok(p + "CreateKey", client.create_key(
            kms.CreateKeyRequest(key_spec="Aliyun_AES_256", description=description, **extra)))
        md = body.key_metadata
        cu.check(md is not None, p + "CreateKey.KeyMetadata", "present", body.to_map())
        cu.expect_nonempty_str(p + "CreateKey.KeyMetadata.KeyId", md.key_id)
        return md

    def describe(key_id):
        body = ok(p + "DescribeKey", client.describe_key(kms.DescribeKeyRequest(key_id=key_id)))
        cu.check(body.key_metadata is not None, p + "DescribeKey.KeyMetadata", "present", body.to_map())
        return body.key_metadata

    def encrypt(key_id):
        body = ok(p + "Encrypt", client.encrypt(
            kms.EncryptRequest(key_id=key_id, plaintext=cu.sample_plaintext("keymgmt " + label))))
        cu.expect_b64(p + "Encrypt(%s).CiphertextBlob" % key_id, body.ciphertext_blob)
        return body

    def tags_of(key_id):
        body = ok(p + "ListResourceTags", client.list_resource_tags(kms.ListResourceTagsRequest(key_id=key_id)))
        cu.check(body.tags is not None and body.tags.tag is not None, p + "ListResourceTags.Tags.Tag", "a list",
                 body.to_map())
        for tag in body.tags.tag:
            cu.expect_eq(p + "ListResourceTags tag KeyId", key_id, tag.key_id)
        return {t.tag_key: t.tag_value for t in body.tags.tag}, len(body.tags.tag)

    def page_all(what, fetch, container, item, ident, size=2):
        """Walk every page of fetch(page, size); returns (entries, TotalCount); no duplicates by `ident`."""
        what = p + what
        entries_all, page = [], 1
        while True:
            lbl = "%s(PageNumber=%d, PageSize=%d)" % (what, page, size)
            body = ok(lbl, fetch(page, size))
            cu.expect_int(lbl + ".PageNumber", page, body.page_number)
            cu.expect_int(lbl + ".PageSize", size, body.page_size)
            total = body.total_count
            cu.check(type(total) is int and total >= 0, lbl + ".TotalCount", "a non-negative int", total)
            box = getattr(body, container)
            entries = getattr(box, item) if box is not None else None
            cu.check(entries is not None, "%s list" % lbl, "a list", body.to_map())
            cu.check(len(entries) <= size, lbl + " entry count", "at most %d" % size, len(entries))
            entries_all.extend(entries)
            if len(entries) < size or page * size >= total:
                break
            page += 1
            cu.check(page <= total // size + 2, what + " paging", "to end within TotalCount/PageSize pages", page)
        ids = [getattr(e, ident) for e in entries_all]
        dupes = sorted({k for k in ids if ids.count(k) > 1})
        cu.check(not dupes, what + " pages", "every %s exactly once" % ident, dupes)
        cu.expect_eq(what + ".TotalCount vs distinct entries seen", len(set(ids)), total)
        return entries_all, total

    def alias_names(entries, key_id=None):
        for a in entries:
            cu.expect_nonempty_str(p + "alias entry AliasName", a.alias_name)
            cu.check(isinstance(a.alias_arn, str)
                     and re.match(cu.ALIAS_ARN % (re.escape(ENV.region), re.escape(a.alias_name)), a.alias_arn),
                     p + "alias entry AliasArn", "acs:kms:%s:<digits>:%s" % (ENV.region, a.alias_name), a.alias_arn)
            if key_id is not None:
                cu.expect_eq(p + "alias entry KeyId (%s)" % a.alias_name, key_id, a.key_id)
        return [a.alias_name for a in entries]

    def by_key(key_id):
        entries, _ = page_all("ListAliasesByKeyId", lambda n, s: client.list_aliases_by_key_id(
            kms.ListAliasesByKeyIdRequest(key_id=key_id, page_number=n, page_size=s)), "aliases", "alias", "alias_name")
        return set(alias_names(entries, key_id))

    # --- steps ----------------------------------------------------------------

    def step_create_with_tags(st):
        md = create_key("compat keymgmt " + label, tags=cu.TAGS)
        cu.expect_eq(p + "CreateKey.KeyMetadata.Description", "compat keymgmt " + label, md.description)
        cu.expect_eq(p + "CreateKey.KeyMetadata.KeyState", "Enabled", md.key_state)
        tags, count = tags_of(md.key_id)
        cu.expect_eq(p + "ListResourceTags after CreateKey(Tags)", {"team": "a"}, tags)
        cu.expect_eq(p + "ListResourceTags tag count", 1, count)
        st[label] = {"key": md}

    def step_describe_fields(st):
        created = st[label]["key"]
        key_id = created.key_id
        md = describe(key_id)
        cu.expect_eq(p + "DescribeKey.KeyId", key_id, md.key_id)
        cu.check(isinstance(md.arn, str) and re.match(cu.KEY_ARN % (re.escape(ENV.region), re.escape(key_id)), md.arn),
                 p + "DescribeKey.Arn", "acs:kms:%s:<digits>:key/%s" % (ENV.region, key_id), md.arn)
        for field, expected in (("key_state", "Enabled"), ("key_spec", "Aliyun_AES_256"),
                                ("key_usage", "ENCRYPT/DECRYPT"), ("origin", "Aliyun_KMS"),
                                ("protection_level", "SOFTWARE"), ("deletion_protection", "Disabled"),
                                ("automatic_rotation", "Disabled"), ("description", "compat keymgmt " + label)):
            cu.expect_eq(p + "DescribeKey.%s" % field, expected, getattr(md, field))
        cu.expect_iso_time(p + "DescribeKey.CreationDate", md.creation_date)
        cu.expect_iso_time(p + "DescribeKey.LastRotationDate", md.last_rotation_date)
        cu.expect_nonempty_str(p + "DescribeKey.Creator", md.creator)
        cu.expect_nonempty_str(p + "DescribeKey.PrimaryKeyVersion", md.primary_key_version)
        cu.expect_eq(p + "DescribeKey.PrimaryKeyVersion vs CreateKey", created.primary_key_version,
                     md.primary_key_version)
        cu.check(not md.delete_date, p + "DescribeKey.DeleteDate", "absent for an Enabled key", md.delete_date)
        st[label]["key"] = md

    def step_update_description(st):
        key_id = st[label]["key"].key_id
        desc = "compat updated \u94a5 *!()'~ " + label
        ok(p + "UpdateKeyDescription", client.update_key_description(
            kms.UpdateKeyDescriptionRequest(key_id=key_id, description=desc)))
        cu.expect_eq(p + "DescribeKey.Description after UpdateKeyDescription", desc, describe(key_id).description)

    def step_disable_enable(st):
        key_id = st[label]["key"].key_id
        ok(p + "DisableKey", client.disable_key(kms.DisableKeyRequest(key_id=key_id)))
        cu.expect_eq(p + "DescribeKey.KeyState after DisableKey", "Disabled", describe(key_id).key_state)
        expect_error(p + "Encrypt with a Disabled key", lambda: client.encrypt(
            kms.EncryptRequest(key_id=key_id, plaintext=cu.sample_plaintext())), "Rejected.Disabled", 409)
        ok(p + "EnableKey", client.enable_key(kms.EnableKeyRequest(key_id=key_id)))
        cu.expect_eq(p + "DescribeKey.KeyState after EnableKey", "Enabled", describe(key_id).key_state)
        cu.expect_eq(p + "Encrypt after EnableKey .KeyId", key_id, encrypt(key_id).key_id)

    def step_schedule_cancel_deletion(st):
        key_id = st[label]["key"].key_id
        ok(p + "ScheduleKeyDeletion", client.schedule_key_deletion(
            kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=7)))
        md = describe(key_id)
        cu.expect_eq(p + "DescribeKey.KeyState after ScheduleKeyDeletion", "PendingDeletion", md.key_state)
        cu.expect_iso_time(p + "DescribeKey.DeleteDate", md.delete_date)
        when = calendar.timegm(time.strptime(md.delete_date, "%Y-%m-%dT%H:%M:%SZ"))
        cu.check(abs(when - (time.time() + 7 * 86400)) < 3600, p + "DescribeKey.DeleteDate",
                 "about 7 days from now", md.delete_date)
        expect_error(p + "EnableKey in PendingDeletion",
                     lambda: client.enable_key(kms.EnableKeyRequest(key_id=key_id)),
                     "Rejected.StateModifiedFailed", 409)
        expect_error(p + "UpdateKeyDescription in PendingDeletion", lambda: client.update_key_description(
            kms.UpdateKeyDescriptionRequest(key_id=key_id, description="nope")), "Rejected.PendingDeletion", 409)
        ok(p + "CancelKeyDeletion", client.cancel_key_deletion(kms.CancelKeyDeletionRequest(key_id=key_id)))
        md = describe(key_id)
        cu.expect_eq(p + "DescribeKey.KeyState after CancelKeyDeletion", "Enabled", md.key_state)
        cu.check(not md.delete_date, p + "DescribeKey.DeleteDate after CancelKeyDeletion", "absent", md.delete_date)
        expect_error(p + "ScheduleKeyDeletion PendingWindowInDays=6", lambda: client.schedule_key_deletion(
            kms.ScheduleKeyDeletionRequest(key_id=key_id, pending_window_in_days=6)), "InvalidParameter", 400)
        cu.expect_eq(p + "DescribeKey.KeyState after refused ScheduleKeyDeletion", "Enabled",
                     describe(key_id).key_state)

    def step_deletion_protection(st):
        key = st[label]["key"]
        desc = "compat protect " + label
        ok(p + "SetDeletionProtection(on)", client.set_deletion_protection(kms.SetDeletionProtectionRequest(
            protected_resource_arn=key.arn, enable_deletion_protection=True, deletion_protection_description=desc)))
        md = describe(key.key_id)
        cu.expect_eq(p + "DescribeKey.DeletionProtection after SetDeletionProtection(on)", "Enabled",
                     md.deletion_protection)
        cu.expect_eq(p + "DescribeKey.DeletionProtectionDescription", desc, md.deletion_protection_description)
        expect_error(p + "ScheduleKeyDeletion with deletion protection on", lambda: client.schedule_key_deletion(
            kms.ScheduleKeyDeletionRequest(key_id=key.key_id, pending_window_in_days=7)),
            "Rejected.StateModifiedFailed", 409)
        cu.expect_eq(p + "DescribeKey.KeyState after refused ScheduleKeyDeletion", "Enabled",
                     describe(key.key_id).key_state)
        ok(p + "SetDeletionProtection(off)", client.set_deletion_protection(kms.SetDeletionProtectionRequest(
            protected_resource_arn=key.arn, enable_deletion_protection=False)))
        cu.expect_eq(p + "DescribeKey.DeletionProtection after SetDeletionProtection(off)", "Disabled",
                     describe(key.key_id).deletion_protection)

    def step_key_versions(st):
        key = st[label]["key"]
        key_id, version = key.key_id, key.primary_key_version
        body = ok(p + "DescribeKeyVersion", client.describe_key_version(
            kms.DescribeKeyVersionRequest(key_id=key_id, key_version_id=version)))
        kv = body.key_version
        cu.check(kv is not None, p + "DescribeKeyVersion.KeyVersion", "present", body.to_map())
        cu.expect_eq(p + "DescribeKeyVersion.KeyVersion.KeyId", key_id, kv.key_id)
        cu.expect_eq(p + "DescribeKeyVersion.KeyVersion.KeyVersionId", version, kv.key_version_id)
        cu.expect_iso_time(p + "DescribeKeyVersion.KeyVersion.CreationDate", kv.creation_date)
        entries, total = page_all("ListKeyVersions", lambda n, s: client.list_key_versions(
            kms.ListKeyVersionsRequest(key_id=key_id, page_number=n, page_size=s)),
            "key_versions", "key_version", "key_version_id")
        cu.expect_int(p + "ListKeyVersions.TotalCount", 1, total)
        cu.expect_eq(p + "ListKeyVersions KeyVersionId", version, entries[0].key_version_id)
        cu.expect_eq(p + "ListKeyVersions KeyId", key_id, entries[0].key_id)
        cu.expect_iso_time(p + "ListKeyVersions CreationDate", entries[0].creation_date)
        expect_error(p + "DescribeKeyVersion of an unknown version", lambda: client.describe_key_version(
            kms.DescribeKeyVersionRequest(key_id=key_id, key_version_id=cu.random_key_id())),
            "Forbidden.KeyVersionNotFound", 404)

    def step_aliases(st):
        key_id = st[label]["key"].key_id
        key2 = create_key("compat keymgmt alias target " + label).key_id
        alias = cu.rand_alias(label)

        def create_alias(name, target):
            ok(p + "CreateAlias", client.create_alias(kms.CreateAliasRequest(alias_name=name, key_id=target)))

        create_alias(alias, key_id)
        cu.expect_eq(p + "DescribeKey(%s).KeyId" % alias, key_id, describe(alias).key_id)
        cu.expect_eq(p + "Encrypt(KeyId=%s).KeyId" % alias, key_id, encrypt(alias).key_id)
        expect_error(p + "CreateAlias duplicate", lambda: client.create_alias(
            kms.CreateAliasRequest(alias_name=alias, key_id=key2)), "AliasAlreadyExists", 400)
        expect_error(p + "CreateAlias without the alias/ prefix", lambda: client.create_alias(
            kms.CreateAliasRequest(alias_name="compat-" + cu.random_key_id()[:8], key_id=key_id)),
            "InvalidParameter", 400)
        cu.expect_eq(p + "ListAliasesByKeyId(key1)", {alias}, by_key(key_id))
        ok(p + "UpdateAlias", client.update_alias(kms.UpdateAliasRequest(alias_name=alias, key_id=key2)))
        cu.expect_eq(p + "DescribeKey(%s).KeyId after UpdateAlias" % alias, key2, describe(alias).key_id)
        cu.expect_eq(p + "ListAliasesByKeyId(key1) after UpdateAlias", set(), by_key(key_id))
        created = {alias: key2}
        for i in range(5):
            name = cu.rand_alias("%s-p%d" % (label, i))
            target = key_id if i % 2 else key2
            create_alias(name, target)
            created[name] = target
        entries, total = page_all("ListAliases", lambda n, s: client.list_aliases(
            kms.ListAliasesRequest(page_number=n, page_size=s)), "aliases", "alias", "alias_name")
        alias_names(entries)
        seen = {a.alias_name: a.key_id for a in entries}
        missing = sorted(set(created) - set(seen))
        cu.check(not missing, p + "ListAliases pages", "all created aliases listed", {"missing": missing})
        for name, target in created.items():
            cu.expect_eq(p + "ListAliases KeyId of %s" % name, target, seen[name])
        # The server is fresh per script: only this script's aliases exist (earlier signature runs included).
        all_created = st.setdefault("aliases", set())
        all_created.update(created)
        cu.expect_eq(p + "ListAliases names vs all aliases this script created and kept", all_created, set(seen))
        cu.expect_eq(p + "ListAliasesByKeyId(key2)", {n for n, k in created.items() if k == key2}, by_key(key2))
        cu.expect_eq(p + "ListAliasesByKeyId(key1)", {n for n, k in created.items() if k == key_id}, by_key(key_id))
        ok(p + "DeleteAlias", client.delete_alias(kms.DeleteAliasRequest(alias_name=alias)))
        all_created.discard(alias)
        expect_error(p + "DescribeKey by a deleted alias",
                     lambda: client.describe_key(kms.DescribeKeyRequest(key_id=alias)), "Forbidden.AliasNotFound", 404)
        expect_error(p + "DeleteAlias of a deleted alias",
                     lambda: client.delete_alias(kms.DeleteAliasRequest(alias_name=alias)), "Forbidden.AliasNotFound", 404)
        cu.expect_eq(p + "DescribeKey(key2) still there", "Enabled", describe(key2).key_state)

    def step_tags(st):
        key_id = st[label]["key"].key_id

        def tag(tags_json):
            return client.tag_resource(kms.TagResourceRequest(key_id=key_id, tags=tags_json))

        ok(p + "TagResource", tag('[{"TagKey":"env","TagValue":"prod"}]'))
        tags, _ = tags_of(key_id)
        cu.expect_eq(p + "ListResourceTags after TagResource", {"team": "a", "env": "prod"}, tags)
        ok(p + "UntagResource", client.untag_resource(kms.UntagResourceRequest(key_id=key_id, tag_keys='["team"]')))
        tags, _ = tags_of(key_id)
        cu.expect_eq(p + "ListResourceTags after UntagResource", {"env": "prod"}, tags)
        ok(p + "TagResource(9 tags)", tag(json.dumps([{"TagKey": "k%d" % i, "TagValue": "v%d" % i} for i in range(9)])))
        _, count = tags_of(key_id)
        cu.expect_eq(p + "ListResourceTags count with 10 tags", 10, count)
        expect_error(p + "TagResource to 11 tags", lambda: tag('[{"TagKey":"eleventh","TagValue":"x"}]'),
                     "Rejected.LimitExceeded", 400)
        tags, count = tags_of(key_id)
        cu.expect_eq(p + "ListResourceTags count after refused 11th tag", 10, count)
        cu.check("eleventh" not in tags, p + "ListResourceTags after refused 11th tag", "no 'eleventh'", tags)

    def step_list_keys_filters(st):
        disabled = st.setdefault("disabled", set())  # shared across signature runs: one server per script
        for i in range(2):
            key_id = create_key("compat keymgmt disabled %s %d" % (label, i)).key_id
            ok(p + "DisableKey", client.disable_key(kms.DisableKeyRequest(key_id=key_id)))
            disabled.add(key_id)
        create_key("compat keymgmt stays enabled " + label)
        flt = json.dumps([{"Key": "KeyState", "Values": ["Disabled"]}])
        entries, total = page_all("ListKeys(Filters=KeyState:Disabled)", lambda n, s: client.list_keys(
            kms.ListKeysRequest(filters=flt, page_number=n, page_size=s)), "keys", "key", "key_id")
        for e in entries:
            cu.check(isinstance(e.key_arn, str)
                     and re.match(cu.KEY_ARN % (re.escape(ENV.region), re.escape(e.key_id)), e.key_arn),
                     p + "ListKeys entry KeyArn", "acs:kms:%s:<digits>:key/%s" % (ENV.region, e.key_id), e.key_arn)
        cu.expect_eq(p + "ListKeys(Filters=KeyState:Disabled) KeyIds", disabled, {e.key_id for e in entries})
        cu.expect_int(p + "ListKeys(Filters=KeyState:Disabled).TotalCount", len(disabled), total)
        expect_error(p + "ListKeys with an unknown filter Key", lambda: client.list_keys(
            kms.ListKeysRequest(filters='[{"Key":"Bogus","Values":["x"]}]')), "InvalidParameter", 400)
        expect_error(p + "ListKeys with an unknown KeyState value", lambda: client.list_keys(
            kms.ListKeysRequest(filters='[{"Key":"KeyState","Values":["Bogus"]}]')), "InvalidParameter", 400)

    def step_account(st):
        body = ok(p + "DescribeRegions", client.describe_regions())
        cu.check(body.regions is not None and body.regions.region is not None, p + "DescribeRegions.Regions.Region",
                 "a list", body.to_map())
        ids = [r.region_id for r in body.regions.region]
        cu.check(ENV.region in ids, p + "DescribeRegions RegionIds", "to contain %r" % ENV.region, ids)
        body = ok(p + "DescribeAccountKmsStatus", client.describe_account_kms_status())
        cu.expect_eq(p + "DescribeAccountKmsStatus.AccountStatus", "Enabled", body.account_status)
        expect_error(p + "OpenKmsService", lambda: client.open_kms_service(), "Forbidden.Opened", 400)

    return [
        (p + "CreateKey with Tags / ListResourceTags", step_create_with_tags),
        (p + "DescribeKey fields", step_describe_fields),
        (p + "UpdateKeyDescription", step_update_description),
        (p + "DisableKey / EnableKey", step_disable_enable),
        (p + "ScheduleKeyDeletion / CancelKeyDeletion", step_schedule_cancel_deletion),
        (p + "SetDeletionProtection", step_deletion_protection),
        (p + "DescribeKeyVersion / ListKeyVersions", step_key_versions),
        (p + "aliases", step_aliases),
        (p + "TagResource / UntagResource / limit", step_tags),
        (p + "ListKeys Filters", step_list_keys_filters),
        (p + "DescribeRegions / DescribeAccountKmsStatus / OpenKmsService", step_account),
    ]


if __name__ == "__main__":
    steps = []
    for label, algorithm in SIGNATURES:
        steps += steps_for(label, algorithm)
    cu.run(SCRIPT, steps)
