"""Shared flow (no SDK imports): the key-state table (docs/DESIGN.md §2) for the key-management
actions, one step per action, each driven against a fresh key in every state (Enabled, Disabled,
PendingDeletion, PendingImport = a fresh Origin=EXTERNAL key). A cell expects Success (and checks the
returned fields and the effect) or the table's error code with HTTP 409 (and checks nothing changed);
afterwards DescribeKey must show the state the action leads to.

`steps(api, prefix)`: see flow_keyspecs.py for the `api` face.
"""

import compat_util as cu

TAG = '[{"TagKey":"k","TagValue":"v"}]'

# Where a successful action leaves the key (other actions leave the state alone).
NEXT_STATE = {"EnableKey": "Enabled", "DisableKey": "Disabled", "ScheduleKeyDeletion": "PendingDeletion",
              "CancelKeyDeletion": "Enabled"}


class Cell:
    """A fresh key in `state`, made while Enabled (or PendingImport): alias alias/st-<id>, tag k=v, and a
    ciphertext naming it (a real one, or a crafted blob for a key without material)."""

    def __init__(self, api, state, counter):
        self.state = state
        origin = "EXTERNAL" if state == "PendingImport" else "Aliyun_KMS"
        md = api.call("CreateKey", Origin=origin, Description="compat state " + state)["KeyMetadata"]
        counter["keys"] += 1
        self.key_id, self.version = md["KeyId"], md["PrimaryKeyVersion"]
        self.alias = "alias/st-" + self.key_id
        self.fresh_alias = "alias/new-" + self.key_id
        api.call("CreateAlias", AliasName=self.alias, KeyId=self.key_id)
        api.call("TagResource", KeyId=self.key_id, Tags=TAG)
        self.plaintext = cu.sample_plaintext(state)
        if state == "PendingImport":
            self.blob = cu.blob_naming(self.key_id, self.version)
        else:
            self.blob = api.call("Encrypt", KeyId=self.key_id, Plaintext=self.plaintext)["CiphertextBlob"]
        if state == "Disabled":
            api.call("DisableKey", KeyId=self.key_id)
        elif state == "PendingDeletion":
            api.call("ScheduleKeyDeletion", KeyId=self.key_id, PendingWindowInDays=7)


def steps(api, p=""):
    def describe(key_id):
        return api.call("DescribeKey", KeyId=key_id)["KeyMetadata"]

    def tags(key_id):
        body = api.call("ListResourceTags", KeyId=key_id)
        return {t.get("TagKey"): t.get("TagValue") for t in ((body.get("Tags") or {}).get("Tag") or [])}

    def list_entries(action, container, item, **params):
        """Every entry of a paged list (PageSize 100) and its TotalCount."""
        entries, page = [], 1
        while True:
            body = api.call(action, PageNumber=page, PageSize=100, **params)
            got = (body.get(container) or {}).get(item)
            cu.check(isinstance(got, list), p + "%s.%s.%s" % (action, container, item), "a list", body)
            entries += got
            if len(got) < 100:
                return entries, body.get("TotalCount")
            page += 1

    # Per action: its parameters for a cell, the checks after Success, the checks after the refusal.
    def params_for(action, cell):
        k = cell.key_id
        return {
            "CreateKey": {},
            "Encrypt": {"KeyId": k, "Plaintext": cell.plaintext},
            "Decrypt": {"CiphertextBlob": cell.blob},
            "ListKeys": {"PageSize": 1},
            "DescribeKey": {"KeyId": k},
            "UpdateKeyDescription": {"KeyId": k, "Description": "compat new description"},
            "EnableKey": {"KeyId": k},
            "DisableKey": {"KeyId": k},
            "ScheduleKeyDeletion": {"KeyId": k, "PendingWindowInDays": 7},
            "CancelKeyDeletion": {"KeyId": k},
            "CreateAlias": {"AliasName": cell.fresh_alias, "KeyId": k},
            "DeleteAlias": {"AliasName": cell.alias},
            "ListAliases": {"PageSize": 1},
            "UpdateAlias": {"AliasName": cell.fresh_alias, "KeyId": k},
            "TagResource": {"KeyId": k, "Tags": '[{"TagKey":"k2","TagValue":"v2"}]'},
            "UntagResource": {"KeyId": k, "TagKeys": '["k"]'},
            "ListResourceTags": {"KeyId": k},
            "DescribeKeyVersion": {"KeyId": k, "KeyVersionId": cell.version},
            "ListKeyVersions": {"KeyId": k},
            "UpdateRotationPolicy": {"KeyId": k, "EnableAutomaticRotation": True, "RotationInterval": "365d"},
        }[action]

    def on_success(action, cell, body, counter):
        what = p + "%s in %s" % (action, cell.state)
        k = cell.key_id
        if action == "CreateKey":
            counter["keys"] += 1
            cu.expect_eq(what + ": KeyMetadata.KeyState", "Enabled", body["KeyMetadata"].get("KeyState"))
        elif action in ("Encrypt", "Decrypt"):
            cu.expect_eq(what + ": KeyId", k, body.get("KeyId"))
            cu.expect_eq(what + ": KeyVersionId", cell.version, body.get("KeyVersionId"))
            if action == "Encrypt":
                cu.expect_b64(what + ": CiphertextBlob", body.get("CiphertextBlob"))
            else:
                cu.expect_eq(what + ": Plaintext", cell.plaintext, body.get("Plaintext"))
        elif action == "ListKeys":
            cu.expect_int(what + ": TotalCount (every key this script made)", counter["keys"], body.get("TotalCount"))
            entries, _ = list_entries("ListKeys", "Keys", "Key")
            cu.check(k in {e.get("KeyId") for e in entries}, what + ": Keys.Key", "to list %s" % k, len(entries))
        elif action == "DescribeKey":
            cu.expect_eq(what + ": KeyMetadata.KeyId", k, body["KeyMetadata"].get("KeyId"))
            cu.expect_eq(what + ": KeyMetadata.KeyState", cell.state, body["KeyMetadata"].get("KeyState"))
        elif action == "UpdateKeyDescription":
            cu.expect_eq(what + ": Description", "compat new description", describe(k).get("Description"))
        elif action in ("CreateAlias", "UpdateAlias"):
            cu.expect_eq(what + ": DescribeKey(%s).KeyId" % cell.fresh_alias, k, describe(cell.fresh_alias).get("KeyId"))
        elif action == "DeleteAlias":
            api.error(what + ": DescribeKey(deleted alias)", "DescribeKey", "Forbidden.AliasNotFound", 404,
                      KeyId=cell.alias)
        elif action == "ListAliases":
            entries, total = list_entries("ListAliases", "Aliases", "Alias")
            cu.expect_int(what + ": TotalCount vs entries", len(entries), total)
            listed = {e.get("AliasName"): e.get("KeyId") for e in entries}
            cu.expect_eq(what + ": KeyId of %s" % cell.alias, k, listed.get(cell.alias))
        elif action == "TagResource":
            cu.expect_eq(what + ": ListResourceTags", {"k": "v", "k2": "v2"}, tags(k))
        elif action == "UntagResource":
            cu.expect_eq(what + ": ListResourceTags", {}, tags(k))
        elif action == "ListResourceTags":
            got = (body.get("Tags") or {}).get("Tag")
            cu.expect_eq(what + ": Tags.Tag", [{"TagKey": "k", "TagValue": "v", "KeyId": k}], got)
        elif action == "DescribeKeyVersion":
            kv = body.get("KeyVersion") or {}
            cu.expect_eq(what + ": KeyVersion.KeyId", k, kv.get("KeyId"))
            cu.expect_eq(what + ": KeyVersion.KeyVersionId", cell.version, kv.get("KeyVersionId"))
            cu.expect_eq(what + ": KeyVersion.CreationDate", describe(k).get("CreationDate"), kv.get("CreationDate"))
        elif action == "ListKeyVersions":
            cu.expect_int(what + ": TotalCount", 1, body.get("TotalCount"))
            versions = (body.get("KeyVersions") or {}).get("KeyVersion") or []
            cu.expect_eq(what + ": KeyVersionIds", [cell.version], [v.get("KeyVersionId") for v in versions])
        elif action == "UpdateRotationPolicy":
            md = describe(k)
            cu.expect_eq(what + ": AutomaticRotation", "Enabled", md.get("AutomaticRotation"))
            cu.expect_eq(what + ": RotationInterval", "31536000s", md.get("RotationInterval"))

    def on_refusal(action, cell, other):
        """The refused action changed nothing it would have changed."""
        what = p + "%s in %s (refused)" % (action, cell.state)
        k = cell.key_id
        if action == "UpdateKeyDescription":
            cu.expect_eq(what + ": Description", "compat state " + cell.state, describe(k).get("Description"))
        elif action == "CreateAlias":
            api.error(what + ": DescribeKey(%s)" % cell.fresh_alias, "DescribeKey", "Forbidden.AliasNotFound", 404,
                      KeyId=cell.fresh_alias)
        elif action == "UpdateAlias":
            cu.expect_eq(what + ": DescribeKey(%s).KeyId" % cell.fresh_alias, other,
                         describe(cell.fresh_alias).get("KeyId"))
        elif action in ("TagResource", "UntagResource"):
            cu.expect_eq(what + ": ListResourceTags", {"k": "v"}, tags(k))
        elif action == "UpdateRotationPolicy":
            md = describe(k)
            cu.expect_eq(what + ": AutomaticRotation", "Disabled", md.get("AutomaticRotation"))
            cu.check(not md.get("RotationInterval"), what + ": RotationInterval", "absent", md.get("RotationInterval"))

    def row(action, expected):
        def step(st):
            counter = st.setdefault("counter", {"keys": 0})  # one node per script: shared by all runs
            if "other" not in st:
                st["other"] = api.call("CreateKey", Description="compat state table alias holder")["KeyMetadata"]["KeyId"]
                counter["keys"] += 1
            other = st["other"]
            for state, code in zip(cu.STATES, expected):
                cell = Cell(api, state, counter)
                cu.expect_eq(p + "DescribeKey.KeyState of the fresh %s key" % state, state,
                             describe(cell.key_id).get("KeyState"))
                if action == "UpdateAlias":  # only the target's state matters: move another key's alias here
                    api.call("CreateAlias", AliasName=cell.fresh_alias, KeyId=other)
                params = params_for(action, cell)
                what = p + "%s with a %s key" % (action, state)
                if code is None:
                    body = api.call(action, **params)
                    on_success(action, cell, body, counter)
                    after = NEXT_STATE.get(action, state)
                else:
                    api.error(what, action, code, 409, **params)
                    on_refusal(action, cell, other)
                    after = state
                cu.expect_eq(p + "DescribeKey.KeyState after %s in %s" % (action, state), after,
                             describe(cell.key_id).get("KeyState"))
        return step

    return [(p + "state table: %s" % action, row(action, expected)) for action, expected in cu.STATE_TABLE]
