"""Shared helpers for the SDK compatibility scripts (no SDK imports here).

Each script builds a list of (step name, function) and hands it to `run()`.
Steps share state through a dict passed to every function. The first failing
step stops the run: the script prints which step failed and why (expected vs
got) and exits 1. A passing step prints one `ok` line.
"""

import base64
import os
import re
import sys
import time
import traceback
import uuid

# The scripts only ever talk to the local test server. HTTP(S)_PROXY would
# otherwise be honoured by both SDKs (the classic core even ignores NO_PROXY).
for _var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_var, None)

ISO_SECONDS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class StepFailure(AssertionError):
    """A check inside a step did not hold."""


class Env:
    """Connection settings handed over by the Rust integration test."""

    def __init__(self):
        missing = [
            name
            for name in (
                "YAOSHI_ENDPOINT",
                "YAOSHI_ACCESS_KEY_ID",
                "YAOSHI_ACCESS_KEY_SECRET",
                "YAOSHI_REGION",
            )
            if not os.environ.get(name)
        ]
        if missing:
            print("error: missing environment variable(s): %s" % ", ".join(missing), file=sys.stderr)
            sys.exit(2)
        endpoint = os.environ["YAOSHI_ENDPOINT"]
        # Accept "http://host:port" too; the SDKs want a bare host:port plus a protocol setting.
        self.endpoint = re.sub(r"^https?://", "", endpoint).rstrip("/")
        self.access_key_id = os.environ["YAOSHI_ACCESS_KEY_ID"]
        self.access_key_secret = os.environ["YAOSHI_ACCESS_KEY_SECRET"]
        self.region = os.environ["YAOSHI_REGION"]


# Tags used by the key-management scripts.
TAGS = '[{"TagKey":"team","TagValue":"a"}]'
# "<digits>" account id, as the reference (docs/DESIGN.md §7) documents key ARNs.
KEY_ARN = r"^acs:kms:%s:\d+:key/%s$"
ALIAS_ARN = r"^acs:kms:%s:\d+:%s$"


def rand_alias(tag):
    return "alias/compat-%s-%s" % (tag, random_key_id()[:8])


# Key specs and usages of CreateKey (docs/DESIGN.md §4).
SPECS = ("Aliyun_AES_256", "Aliyun_AES_128", "Aliyun_AES_192", "Aliyun_SM4",
         "RSA_2048", "RSA_3072", "EC_P256", "EC_P256K", "EC_SM2")
USAGES = ("ENCRYPT/DECRYPT", "SIGN/VERIFY")


def is_symmetric(spec):
    return spec.startswith("Aliyun_")


def spec_allows(spec, usage):
    """The usages each spec allows: EC_P256(K) sign only, symmetric encrypt only, RSA and SM2 both."""
    if spec in ("EC_P256", "EC_P256K"):
        return usage == "SIGN/VERIFY"
    if is_symmetric(spec):
        return usage == "ENCRYPT/DECRYPT"
    return True


# The key-state table (docs/DESIGN.md §2) for the key-management actions, in the order of
# STATES; None = Success, else the error code (always HTTP 409). GenerateDataKey* rows are
# covered elsewhere.
STATES = ("Enabled", "Disabled", "PendingDeletion", "PendingImport")
_SMF, _PD = "Rejected.StateModifiedFailed", "Rejected.PendingDeletion"
_CRYPTO = (None, "Rejected.Disabled", _PD, "Rejected.PendingImport")
STATE_TABLE = (
    ("CreateKey", (None, None, None, None)),
    ("Encrypt", _CRYPTO),
    ("Decrypt", _CRYPTO),
    ("ListKeys", (None, None, None, None)),
    ("DescribeKey", (None, None, None, None)),
    ("UpdateKeyDescription", (None, None, _PD, None)),
    ("EnableKey", (None, None, _SMF, _SMF)),
    ("DisableKey", (None, None, _SMF, _SMF)),
    ("ScheduleKeyDeletion", (None, None, _SMF, None)),
    ("CancelKeyDeletion", (_SMF, _SMF, None, _SMF)),
    ("CreateAlias", (None, None, _SMF, None)),
    ("DeleteAlias", (None, None, None, None)),
    ("ListAliases", (None, None, None, None)),
    ("UpdateAlias", (None, None, _PD, None)),  # only the target key's state matters
    ("TagResource", (None, None, _PD, None)),
    ("UntagResource", (None, None, _PD, None)),
    ("ListResourceTags", (None, None, None, None)),
    ("DescribeKeyVersion", (None, None, None, None)),
    ("ListKeyVersions", (None, None, None, None)),
    ("UpdateRotationPolicy", _CRYPTO),
)


# --- KMS test clock (node started with --test-clock) ---------------------------

WEEK_MS = 7 * 86400 * 1000


def advance_clock(ms):
    """Moves the node's KMS time forward (POST YAOSHI_TEST_CLOCK_URL?AdvanceMs=ms); signatures keep real time."""
    import json
    import urllib.request

    url = os.environ.get("YAOSHI_TEST_CLOCK_URL")
    if not url:
        raise StepFailure("YAOSHI_TEST_CLOCK_URL is not set (the node must run with --test-clock)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request("%s?AdvanceMs=%d" % (url, ms), data=b"", method="POST"), timeout=10) as r:
        expect_eq("POST %s status" % url, 200, r.status)
        return json.loads(r.read())


# --- checks -----------------------------------------------------------------


def fail(what, expected, got):
    raise StepFailure("%s: expected %s, got %r" % (what, expected, got))


def check(cond, what, expected, got):
    if not cond:
        fail(what, expected, got)


def expect_eq(what, expected, got):
    if got != expected:
        fail(what, repr(expected), got)


def expect_nonempty_str(what, got):
    check(isinstance(got, str) and got != "", what, "a non-empty string", got)


def expect_int(what, expected, got):
    check(type(got) is int and got == expected, what, "int %r" % (expected,), got)


def expect_iso_time(what, got):
    check(isinstance(got, str) and ISO_SECONDS_UTC.match(got), what, "YYYY-MM-DDThh:mm:ssZ", got)


def expect_arn(what, region, key_id, got):
    pattern = r"^acs:kms:%s:[^:]+:key/%s$" % (re.escape(region), re.escape(key_id))
    check(isinstance(got, str) and re.match(pattern, got), what, "acs:kms:%s:<uid>:key/%s" % (region, key_id), got)


def expect_b64(what, got):
    try:
        raw = base64.b64decode(got, validate=True)
    except Exception:  # noqa: BLE001 - anything undecodable is a failure
        fail(what, "standard base64", got)
    check(len(raw) > 0, what, "non-empty base64", got)
    return raw


def expect_error(what, call, extract, code, status):
    """Run `call()`, which must raise; `extract(exc)` returns (code, status) or None
    if the exception is not an SDK error. `code` may be a str or a tuple of accepted codes."""
    codes = code if isinstance(code, tuple) else (code,)
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - classified by `extract`
        got = extract(exc)
        if got is None:
            raise StepFailure(
                "%s: expected SDK error %s/%s, got %s: %s" % (what, "|".join(codes), status, type(exc).__name__, exc)
            ) from exc
        got_code, got_status = got
        if got_code not in codes or got_status != status:
            raise StepFailure(
                "%s: expected error %s with HTTP %s, got %r with HTTP %r (%s)"
                % (what, "|".join(codes), status, got_code, got_status, exc)
            ) from exc
        return exc
    raise StepFailure("%s: expected error %s with HTTP %s, but the call succeeded: %r" % (what, "|".join(codes), status, result))


def expect_client_error(what, call, extract):
    """Run `call()`, which must fail with some HTTP 4xx error carrying a Code (for refusals whose exact
    code the reference leaves open); returns (code, status)."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - classified by `extract`
        got = extract(exc)
        if got is None:
            raise StepFailure("%s: expected an SDK error with HTTP 4xx, got %s: %s" % (what, type(exc).__name__, exc)) from exc
        code, status = got
        if not (isinstance(status, int) and 400 <= status < 500 and isinstance(code, str) and code):
            raise StepFailure("%s: expected HTTP 4xx with a Code, got %r with HTTP %r (%s)" % (what, code, status, exc)) from exc
        return code, status
    raise StepFailure("%s: expected an HTTP 4xx error, but the call succeeded: %r" % (what, result))


# --- data helpers -----------------------------------------------------------


def random_key_id():
    return str(uuid.uuid4())


def sample_plaintext(tag=""):
    """Base64 text of some bytes; includes bytes that give '+', '/' and '=' in base64."""
    raw = b"yaoshi compat " + tag.encode() + b" \xfb\xff\xfe\x00\x01" + os.urandom(7)
    return base64.b64encode(raw).decode()


def tamper_blob(blob_b64):
    """Flip one byte near the end (inside the authentication tag) of a base64 blob."""
    raw = bytearray(base64.b64decode(blob_b64))
    raw[-2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def blob_naming(key_id, version_id):
    """A syntactically valid ciphertext blob naming key_id/version_id with junk crypto (for Decrypt on a
    key that never encrypted anything: the server checks the key state before any cryptography)."""
    raw = bytes([1, len(key_id)]) + key_id.encode() + bytes([len(version_id)]) + version_id.encode() + b"\x07" * 76
    return base64.b64encode(raw).decode()


def xml_matches_json(what, elem, value):
    """The XML element `elem` carries the same data as the JSON `value`: objects are child elements by
    name, a JSON list under name N is repeated <N> children of the parent (docs/WIRE.md §5: Keys.Key[] is
    <Keys><Key/>...<Key/></Keys>), scalars are the element text (numbers in decimal, booleans true/false)."""
    if isinstance(value, dict):
        tags = [c.tag for c in elem]
        expected = {k for k, v in value.items() if v != []}
        check(set(tags) <= set(value) and expected <= set(tags), what + " child elements",
              sorted(expected), sorted(set(tags)))
        for name, sub in value.items():
            found = elem.findall(name)
            if isinstance(sub, list):
                expect_eq("%s/%s count" % (what, name), len(sub), len(found))
                for i, (e, v) in enumerate(zip(found, sub)):
                    xml_matches_json("%s/%s[%d]" % (what, name, i), e, v)
            else:
                expect_eq("%s/%s occurrences" % (what, name), 1, len(found))
                xml_matches_json("%s/%s" % (what, name), found[0], sub)
    else:
        text = elem.text or ""
        if isinstance(value, bool):
            expected = "true" if value else "false"
        else:
            expected = "" if value is None else str(value)
        expect_eq(what, expected, text)


# --- runner -----------------------------------------------------------------


def run(script, steps):
    """steps: list of (name, fn(state)). Prints one line per passed step; exits non-zero on the first failure
    (with YAOSHI_COMPAT_KEEP_GOING=1: after running every step, for a full list of failing steps when
    triaging by hand; later steps may then fail for the earlier step's sake)."""
    keep_going = os.environ.get("YAOSHI_COMPAT_KEEP_GOING") == "1"
    state = {}
    failed = 0
    started = time.monotonic()
    for index, (name, fn) in enumerate(steps, 1):
        label = "[%s] step %d/%d %s" % (script, index, len(steps), name)
        try:
            fn(state)
        except StepFailure as exc:
            print("FAIL %s: %s" % (label, exc), file=sys.stderr, flush=True)
            failed += 1
        except Exception as exc:  # noqa: BLE001 - report anything unexpected as a failure of this step
            print("FAIL %s: unexpected %s: %s" % (label, type(exc).__name__, exc), file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            failed += 1
        else:
            print("ok   %s" % label, flush=True)
            continue
        if not keep_going:
            sys.exit(1)
    if failed:
        print("[%s] %d of %d steps failed" % (script, failed, len(steps)), file=sys.stderr, flush=True)
        sys.exit(1)
    print("[%s] all %d steps passed in %.1fs" % (script, len(steps), time.monotonic() - started), flush=True)
