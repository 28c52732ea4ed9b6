"""Shared flow (no SDK imports): Format=XML responses of the key-management actions carry the same data
as Format=JSON (root <KMS>, RequestId, list nesting <Keys><Key/>...</Keys> as docs/WIRE.md §5 describes), and
the SDK's typed JSON parse agrees with the raw JSON.

`steps(api, prefix)`: see flow_keyspecs.py; besides call/error, `api.fetch(action, fmt, **params)`
returns the raw (HTTP status, Content-Type, body text) of a request made through the SDK with
Format=fmt, and `api.xml_errors` says whether the SDK hands back error bodies in XML (the classic
SDK does; the Tea SDK raises while parsing them, see tea_sdk.Api.fetch).
"""

import json
import xml.etree.ElementTree as ET

import compat_util as cu

XML_TYPE = "text/xml;charset=utf-8"
JSON_TYPE = "application/json;charset=utf-8"
TAGS = '[{"TagKey":"team","TagValue":"a"},{"TagKey":"env","TagValue":"dev"}]'


def expect_subset(what, sub, full):
    """Every field of `sub` (the SDK's typed parse) is in `full` (the raw JSON) with the same value."""
    if isinstance(sub, dict) and isinstance(full, dict):
        for k, v in sub.items():
            cu.check(k in full, "%s.%s" % (what, k), "present in the raw JSON", sorted(full))
            expect_subset("%s.%s" % (what, k), v, full[k])
    elif isinstance(sub, list) and isinstance(full, list):
        cu.expect_eq(what + " length", len(full), len(sub))
        for i, (a, b) in enumerate(zip(sub, full)):
            expect_subset("%s[%d]" % (what, i), a, b)
    else:
        cu.expect_eq(what, full, sub)


def steps(api, p=""):
    def fetch(action, fmt, status, **params):
        what = p + "%s(Format=%s)" % (action, fmt)
        got_status, ctype, text = api.fetch(action, fmt, **params)
        cu.expect_eq(what + " HTTP status", status, got_status)
        cu.expect_eq(what + " Content-Type", XML_TYPE if fmt == "XML" else JSON_TYPE, ctype)
        if fmt == "JSON":
            body = json.loads(text)
            cu.check(isinstance(body, dict), what + " body", "a JSON object", text)
            cu.expect_nonempty_str(what + ".RequestId", body.pop("RequestId", None))
            return body
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            cu.fail(what + " body", "well-formed XML (%s)" % exc, text)
        cu.expect_eq(what + " root element", "KMS", root.tag)
        request_id = root.findall("RequestId")
        cu.expect_eq(what + " <RequestId> count", 1, len(request_id))
        cu.expect_nonempty_str(what + " <RequestId>", request_id[0].text)
        root.remove(request_id[0])
        return root

    def xml_vs_json(action, status=200, typed=True, **params):
        """Same request as XML, raw JSON and (for a success) the SDK's typed call; all must agree.
        Returns (XML root without RequestId, raw JSON without RequestId)."""
        root = fetch(action, "XML", status, **params)
        body = fetch(action, "JSON", status, **params)
        cu.xml_matches_json(p + action + " XML vs JSON", root, body)
        if typed and status == 200:
            parsed = dict(api.call(action, **params))
            parsed.pop("RequestId", None)
            expect_subset(p + action + " typed SDK response vs raw JSON", parsed, body)
        return root, body

    def step_create_and_describe(st):
        root = fetch("CreateKey", "XML", 200, Description="compat xml", Tags=TAGS)
        key_id = root.findtext("KeyMetadata/KeyId")
        cu.expect_nonempty_str(p + "CreateKey(Format=XML) KeyMetadata/KeyId", key_id)
        cu.expect_eq(p + "CreateKey(Format=XML) KeyMetadata/Description", "compat xml",
                     root.findtext("KeyMetadata/Description"))
        _, body = xml_vs_json("DescribeKey", KeyId=key_id)
        md = body["KeyMetadata"]
        # CreateKey's XML KeyMetadata is what DescribeKey answers in JSON.
        cu.xml_matches_json(p + "CreateKey(Format=XML) KeyMetadata vs DescribeKey JSON", root.find("KeyMetadata"), md)
        cu.expect_eq(p + "DescribeKey.KeyMetadata.KeyState", "Enabled", md.get("KeyState"))
        st[p + "key"] = key_id

    def step_list_keys(st):
        for i in range(2):
            api.call("CreateKey", Description="compat xml list %d" % i)
        root, body = xml_vs_json("ListKeys", PageNumber=1, PageSize=2)
        cu.expect_eq(p + "ListKeys(Format=XML) <Keys><Key> count", 2, len(root.findall("Keys/Key")))
        cu.check(int(root.findtext("TotalCount")) >= 3, p + "ListKeys(Format=XML) TotalCount", ">= 3",
                 root.findtext("TotalCount"))
        root, body = xml_vs_json("ListKeys", PageNumber=1000, PageSize=2)  # past the end
        cu.expect_eq(p + "ListKeys past the end: JSON Keys", {"Key": []}, body.get("Keys"))
        cu.expect_eq(p + "ListKeys past the end: XML <Keys> children", 0, len(list(root.find("Keys"))))

    def step_key_versions(st):
        md = api.call("CreateKey", KeySpec="EC_P256", KeyUsage="SIGN/VERIFY")["KeyMetadata"]
        key_id = md["KeyId"]
        cu.advance_clock(cu.WEEK_MS)
        root = fetch("CreateKeyVersion", "XML", 200, KeyId=key_id)
        version = root.findtext("KeyVersion/KeyVersionId")
        cu.expect_nonempty_str(p + "CreateKeyVersion(Format=XML) KeyVersion/KeyVersionId", version)
        cu.expect_eq(p + "CreateKeyVersion(Format=XML) KeyVersion/KeyId", key_id, root.findtext("KeyVersion/KeyId"))
        _, body = xml_vs_json("DescribeKeyVersion", KeyId=key_id, KeyVersionId=version)
        cu.xml_matches_json(p + "CreateKeyVersion(Format=XML) vs DescribeKeyVersion JSON", root, body)
        cu.expect_eq(p + "DescribeKey.PrimaryKeyVersion after CreateKeyVersion(Format=XML)", version,
                     api.call("DescribeKey", KeyId=key_id)["KeyMetadata"].get("PrimaryKeyVersion"))
        root, body = xml_vs_json("ListKeyVersions", KeyId=key_id)
        cu.expect_eq(p + "ListKeyVersions(Format=XML) versions", [md["PrimaryKeyVersion"], version],
                     [e.findtext("KeyVersionId") for e in root.findall("KeyVersions/KeyVersion")])
        cu.expect_eq(p + "ListKeyVersions(Format=XML) TotalCount", "2", root.findtext("TotalCount"))

    def step_aliases(st):
        key_id = st[p + "key"]
        names = sorted(cu.rand_alias("xml%d" % i) for i in range(2))
        for name in names:
            api.call("CreateAlias", AliasName=name, KeyId=key_id)
        root, _ = xml_vs_json("ListAliases", PageSize=100)
        listed = {e.findtext("AliasName"): e.findtext("KeyId") for e in root.findall("Aliases/Alias")}
        for name in names:
            cu.expect_eq(p + "ListAliases(Format=XML) KeyId of %s" % name, key_id, listed.get(name))
        root, _ = xml_vs_json("ListAliasesByKeyId", KeyId=key_id)
        cu.expect_eq(p + "ListAliasesByKeyId(Format=XML) AliasNames", names,
                     sorted(e.findtext("AliasName") for e in root.findall("Aliases/Alias")))

    def step_tags(st):
        key_id = st[p + "key"]
        root, _ = xml_vs_json("ListResourceTags", KeyId=key_id)
        got = {e.findtext("TagKey"): e.findtext("TagValue") for e in root.findall("Tags/Tag")}
        cu.expect_eq(p + "ListResourceTags(Format=XML) tags", {"team": "a", "env": "dev"}, got)

    def step_regions(st):
        root, _ = xml_vs_json("DescribeRegions")
        ids = [e.findtext("RegionId") for e in root.findall("Regions/Region")]
        cu.check(cu.Env().region in ids, p + "DescribeRegions(Format=XML) RegionIds", "to contain the region", ids)
        xml_vs_json("DescribeAccountKmsStatus")

    def step_errors(st):
        for action, status, code, params in (
                ("DescribeKey", 404, "Forbidden.KeyNotFound", {"KeyId": cu.random_key_id()}),
                ("ListKeys", 400, "InvalidParameter", {"PageSize": 0}),
                ("EnableKey", 400, "MissingParameter", {})):
            root, body = xml_vs_json(action, status=status, **params)
            what = p + "%s error (Format=XML)" % action
            cu.expect_eq(what + " <Code>", code, root.findtext("Code"))
            cu.expect_eq(what + " <HttpStatus>", str(status), root.findtext("HttpStatus"))
            cu.expect_nonempty_str(what + " <Message>", root.findtext("Message"))
            cu.expect_nonempty_str(what + " <HostId>", root.findtext("HostId"))
            cu.expect_eq(p + "%s error JSON HttpStatus" % action, status, body.get("HttpStatus"))

    steps = [
        (p + "CreateKey / DescribeKey XML", step_create_and_describe),
        (p + "ListKeys XML (a page, past the end)", step_list_keys),
        (p + "CreateKeyVersion / DescribeKeyVersion / ListKeyVersions XML", step_key_versions),
        (p + "ListAliases / ListAliasesByKeyId XML", step_aliases),
        (p + "ListResourceTags XML", step_tags),
        (p + "DescribeRegions / DescribeAccountKmsStatus XML", step_regions),
    ]
    if api.xml_errors:
        steps.append((p + "error bodies XML vs JSON", step_errors))
    return steps
