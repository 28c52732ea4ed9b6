"""Shared flow (no SDK imports): the asymmetric data plane, BYOK and the envelope exports checked with
INDEPENDENT implementations: Python `cryptography` (OpenSSL) for RSA, P-256 and secp256k1, and the
pure-Python `gmssl` package (PyPI) for SM2/SM3. Nothing here trusts the server to check itself:

1. AsymmetricSign (RSA_2048/RSA_3072 PSS and PKCS#1 v1.5, EC_P256/EC_P256K ECDSA) verifies locally
   with GetPublicKey's PEM (and fails for another message); AsymmetricVerify answers JSON booleans.
2. SM2DSA: e = SM3(Z_A || M) computed here (gmssl's SM3, Z_A from gmssl's curve table and the public
   key in GetPublicKey's SPKI); the DER (r, s) verifies with gmssl.
3. Public-key ciphertext made locally (OAEP SHA-256/SHA-1; gmssl SM2) opens with AsymmetricDecrypt;
   AsymmetricEncrypt output and the plaintext limits.
4. BYOK: 32 (or 16) bytes wrapped locally under GetParametersForImport's public key, imported, and the
   Encrypt blob then opens locally with those bytes (HKDF-SHA256 + AES-GCM / SM4-GCM, blob format of
   crates/yaoshi-crypto/src/blob.rs); re-import rules.
5. GenerateAndExportDataKey / ExportDataKey to a local RSA-2048 or gmssl SM2 key: the export
   unwraps locally to the bytes whose Base64 Decrypt returns.
6. ReEncrypt from locally made public-key ciphertext.
7. Error codes of the asymmetric actions.
8. GetRandomPassword: lengths, exclusions and RequireEachIncludedType checked character by character.

`steps(api, prefix)`: see flow_keyspecs.py for the `api` face.

gmssl 3.2.2 facts this file relies on (read from the source of its `sm2` module, checked by the steps):
* `CryptSM2.encrypt` returns C1 || C3 || C2 with mode=1 (mode=0, the constructor default despite its
  docstring, is C1 || C2 || C3), and C1 is x1 || y1, 64 bytes, WITHOUT the SEC1 0x04 prefix.
  Yaoshi takes GM/T 0009 DER or raw 0x04 || x1 || y1 || C3 || C2 (docs/API.md), so gmssl's output is
  sent either with 0x04 prepended or re-encoded as DER; the bare gmssl form is refused.
* `CryptSM2.decrypt` computes but never compares C3, so `sm2_local_decrypt` checks C3 itself.
* `CryptSM2.__init__` does `public_key.lstrip("04")`, which eats every leading '0'/'4' hex digit
  of x, not just the prefix; `gm()` sets `public_key` after construction to avoid that.
* `verify(sig, e)` takes the digest e as is; `verify_with_sm3(sig, M)` computes Z_A (ENTL 0x0080, ID
  "1234567812345678") and e itself. Both paths are used; signatures are r || s hex (asn1=False).
"""

import base64
import calendar
import hashlib
import json
import os
import secrets
import string
import time

import compat_util as cu
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from gmssl import sm2 as gm_sm2
from gmssl import sm3 as gm_sm3

ENCRYPT, SIGN = cu.USAGES
OAEP_SHA256, OAEP_SHA1 = "RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"
OAEP_HASH = {OAEP_SHA256: hashes.SHA256, OAEP_SHA1: hashes.SHA1}
OTHER_OAEP = {OAEP_SHA256: OAEP_SHA1, OAEP_SHA1: OAEP_SHA256}
RSA_BYTES = {"RSA_2048": 256, "RSA_3072": 384}
SM2_MAX_PLAINTEXT = 6047
CURVE_ORDER = {"secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
               "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141}


# --- encodings ------------------------------------------------------------------


def b64(raw):
    return base64.b64encode(raw).decode()


def unb64(what, text):
    return cu.expect_b64(what, text)


def oaep_limit(spec, alg):
    """RFC 8017 §7.1.1: k - 2 hLen - 2."""
    return RSA_BYTES[spec] - 2 * OAEP_HASH[alg].digest_size - 2


def oaep(alg):
    h = OAEP_HASH[alg]
    return padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None)


def der_len(n):
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_int(v):
    """DER INTEGER of v >= 0 (a 0x00 byte in front when the high bit is set)."""
    return der_tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big"))


def der_read(what, data, pos=0):
    """One TLV at data[pos:] -> (tag, content, next pos). Definite, minimal lengths only (DER)."""
    cu.check(pos + 2 <= len(data), what, "a DER TLV", data[pos:].hex())
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        cu.check(0 < n <= 4 and pos + n <= len(data) and data[pos] != 0, what + " length", "a DER long form",
                 data.hex())
        length = int.from_bytes(data[pos:pos + n], "big")
        cu.check(length >= 0x80, what + " length", "minimal (DER)", data.hex())
        pos += n
    cu.check(pos + length <= len(data), what, "a complete TLV", data.hex())
    return tag, data[pos:pos + length], pos + length


def der_sequence(what, data, tags):
    """data is exactly one SEQUENCE whose elements have `tags`; returns their contents."""
    tag, content, end = der_read(what, data)
    cu.check(tag == 0x30 and end == len(data), what, "exactly one SEQUENCE", data.hex())
    items, pos = [], 0
    for i, want in enumerate(tags):
        tag, value, pos = der_read("%s element %d" % (what, i), content, pos)
        cu.check(tag == want, "%s element %d tag" % (what, i), "0x%02x" % want, tag)
        items.append(value)
    cu.check(pos == len(content), what, "no elements after %d" % len(tags), content[pos:].hex())
    return items


def der_uint(what, content):
    """A DER INTEGER's content as a non-negative int (minimal encoding)."""
    cu.check(len(content) > 0 and content[0] < 0x80, what, "a non-negative INTEGER", content.hex())
    cu.check(not (len(content) > 1 and content[0] == 0 and content[1] < 0x80), what, "minimal (DER)",
             content.hex())
    return int.from_bytes(content, "big")


def der_rs(what, sig):
    """(r, s) of a DER ECDSA/SM2 signature; the bytes must be the canonical DER of (r, s)."""
    r, s = (der_uint(what + name, v) for name, v in zip((".r", ".s"), der_sequence(what, sig, (0x02, 0x02))))
    cu.expect_eq(what + " re-encoded", sig.hex(), der_tlv(0x30, der_int(r) + der_int(s)).hex())
    return r, s


def context_aad(ctx):
    """crates/yaoshi-crypto/src/context.rs: entries in key byte order, u32-be length-prefixed."""
    out = b""
    for k, v in sorted((k.encode(), v.encode()) for k, v in (ctx or {}).items()):
        out += len(k).to_bytes(4, "big") + k + len(v).to_bytes(4, "big") + v
    return out


def open_blob_locally(what, blob_b64, material, ctx=None):
    """Opens an Encrypt/GenerateDataKey blob with the key material (crates/yaoshi-crypto/src/blob.rs):
    version | k | key id | v | version id | salt(32) | nonce(12) | ciphertext | tag(16);
    data key = HKDF-SHA256(material, salt, "yaoshi-blob-v<version>" || header); AAD = header || context."""
    raw = unb64(what, blob_b64)
    version, k = raw[0], raw[1]
    v = raw[2 + k]
    off = 3 + k + v
    salt, nonce, header, sealed = raw[off:off + 32], raw[off + 32:off + 44], raw[:off + 44], raw[off + 44:]
    cu.check(version in (1, 2) and len(sealed) >= 16, what + " blob header", "version 1 or 2, a tag", raw[:off].hex())
    length = len(material) if version == 1 else 16
    data_key = HKDF(hashes.SHA256(), length, salt, b"yaoshi-blob-v%d" % version + header).derive(material)
    aad = header + context_aad(ctx)
    try:
        if version == 1:
            return AESGCM(data_key).decrypt(nonce, sealed, aad)
        dec = Cipher(algorithms.SM4(data_key), modes.GCM(nonce, sealed[-16:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(sealed[:-16]) + dec.finalize()
    except InvalidTag:
        cu.fail(what, "a blob that opens locally with the imported material", blob_b64)


# --- SM2 / SM3 with gmssl -----------------------------------------------------------------

T = gm_sm2.default_ecc_table
SM2_P, SM2_N, SM2_A, SM2_B = (int(T[k], 16) for k in ("p", "n", "a", "b"))
SM2_G = bytes.fromhex(T["g"])
# SubjectPublicKeyInfo { AlgorithmIdentifier { id-ecPublicKey, sm2 1.2.156.10197.1.301 }, BIT STRING 04||X||Y }
SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
SM2_ID = b"1234567812345678"


def sm3(data):
    return bytes.fromhex(gm_sm3.sm3_hash(list(data)))  # sm3_hash appends padding to its argument: a fresh list


def sm2_za(xy, uid=SM2_ID):
    """Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2 §5.5, from gmssl's table."""
    a, b = (int(T[k], 16).to_bytes(32, "big") for k in ("a", "b"))
    return sm3((len(uid) * 8).to_bytes(2, "big") + uid + a + b + SM2_G + xy)


def sm2_e(xy, message):
    return sm3(sm2_za(xy) + message)


def sm2_on_curve(x, y):
    return 0 <= x < SM2_P and 0 <= y < SM2_P and (y * y - x * x * x - SM2_A * x - SM2_B) % SM2_P == 0


def gm(xy=b"", d_hex="", mode=1):
    c = gm_sm2.CryptSM2(private_key=d_hex, public_key="", mode=mode)
    c.public_key = xy.hex()  # not via __init__: its lstrip("04") also strips leading 0/4 digits of x
    return c


def sm2_keypair():
    d = secrets.randbelow(SM2_N - 2) + 1
    xy = bytes.fromhex(gm()._kg(d, T["g"]))
    return "%064x" % d, xy


def sm2_sign_locally(d_hex, xy, e):
    """gmssl signature (r, s) over the digest e with a local key."""
    while True:
        sig = gm(xy, d_hex).sign(e, "%064x" % (secrets.randbelow(SM2_N - 1) + 1))
        if sig is not None:
            return int(sig[:64], 16), int(sig[64:], 16)


def sm2_cipher_der(raw):
    """gmssl's C1 || C3 || C2 (mode 1, C1 = x || y without 0x04) as GM/T 0009 DER."""
    x, y, c3, c2 = raw[:32], raw[32:64], raw[64:96], raw[96:]
    return der_tlv(0x30, der_int(int.from_bytes(x, "big")) + der_int(int.from_bytes(y, "big"))
                   + der_tlv(0x04, c3) + der_tlv(0x04, c2))


def sm2_cipher_parts(what, der):
    """SM2Cipher ::= SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING(32), cipher OCTET STRING }."""
    xs, ys, c3, c2 = der_sequence(what, der, (0x02, 0x02, 0x04, 0x04))
    x, y = der_uint(what + ".x", xs), der_uint(what + ".y", ys)
    cu.check(sm2_on_curve(x, y), what + " C1", "a point on the SM2 curve", (hex(x), hex(y)))
    cu.expect_eq(what + " hash (C3) length", 32, len(c3))
    cu.check(len(c2) > 0, what + " cipher (C2)", "non-empty", c2)
    return x, y, c3, c2


def sm2_local_decrypt(what, d_hex, der):
    """Decrypts a DER SM2 ciphertext with gmssl (converted to its C1 || C3 || C2) and checks C3 here."""
    x, y, c3, c2 = sm2_cipher_parts(what, der)
    c1 = x.to_bytes(32, "big") + y.to_bytes(32, "big")
    m = gm(b"", d_hex).decrypt(c1 + c3 + c2)
    shared = bytes.fromhex(gm()._kg(int(d_hex, 16), c1.hex()))  # [d]C1 = x2 || y2
    cu.expect_eq(what + " C3 = SM3(x2 || M || y2)", c3.hex(), sm3(shared[:32] + m + shared[32:]).hex())
    return m


def sm2_spki_point(what, der):
    """The 64 bytes X || Y of an SM2 SubjectPublicKeyInfo (DER), checked field by field."""
    alg, bits = der_sequence(what, der, (0x30, 0x03))
    oids = der_sequence(what + ".algorithm", der_tlv(0x30, alg), (0x06, 0x06))
    cu.expect_eq(what + " algorithm OID (id-ecPublicKey 1.2.840.10045.2.1)", "2a8648ce3d0201", oids[0].hex())
    cu.expect_eq(what + " curve OID (SM2 1.2.156.10197.1.301)", "2a811ccf5501822d", oids[1].hex())
    cu.check(len(bits) == 66 and bits[:2] == b"\x00\x04", what + " subjectPublicKey", "00 04 || X || Y", bits.hex())
    xy = bits[2:]
    cu.check(sm2_on_curve(int.from_bytes(xy[:32], "big"), int.from_bytes(xy[32:], "big")), what + " point",
             "on the SM2 curve (gmssl's parameters)", xy.hex())
    cu.expect_eq(what + " (the fixed SM2 SPKI prefix + X || Y)", (SM2_SPKI_PREFIX + xy).hex(), der.hex())
    return xy


def pem_der(what, pem):
    cu.check(isinstance(pem, str) and pem.startswith("-----BEGIN PUBLIC KEY-----\n")
             and pem.rstrip("\n").endswith("-----END PUBLIC KEY-----"), what, "a PEM PUBLIC KEY", pem)
    return base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")),
                            validate=True)


def steps(api, p=""):
    def ctx_param(ctx):
        """EncryptionContext as each SDK takes it: a JSON string (classic request classes) or a dict (Tea)."""
        return json.dumps(ctx) if api.label == "classic" else ctx

    def describe(key_id):
        return api.call("DescribeKey", KeyId=key_id)["KeyMetadata"]

    def new_key(spec, usage, **extra):
        """CreateKey; the version id from DescribeKey.PrimaryKeyVersion, checked against ListKeyVersions."""
        md = api.call("CreateKey", KeySpec=spec, KeyUsage=usage, **extra)["KeyMetadata"]
        key_id = md["KeyId"]
        version = describe(key_id).get("PrimaryKeyVersion")
        cu.expect_eq(p + "DescribeKey(%s).PrimaryKeyVersion vs CreateKey" % spec, md.get("PrimaryKeyVersion"), version)
        listed = (api.call("ListKeyVersions", KeyId=key_id).get("KeyVersions") or {}).get("KeyVersion") or []
        cu.expect_eq(p + "ListKeyVersions(%s) ids" % spec, [version], [v.get("KeyVersionId") for v in listed])
        return key_id, version

    def ids(what, body, key_id, version):
        cu.expect_eq(p + what + ".KeyId", key_id, body.get("KeyId"))
        cu.expect_eq(p + what + ".KeyVersionId", version, body.get("KeyVersionId"))

    def public_pem(key_id, version):
        body = api.call("GetPublicKey", KeyId=key_id, KeyVersionId=version)
        ids("GetPublicKey", body, key_id, version)
        return body.get("PublicKey")

    def public_key(spec, key_id, version):
        """GetPublicKey's PEM loaded with `cryptography`, of the right type and size."""
        pem = public_pem(key_id, version)
        der = pem_der(p + "GetPublicKey(%s).PublicKey" % spec, pem)
        key = serialization.load_pem_public_key(pem.encode())
        if spec.startswith("RSA_"):
            cu.check(isinstance(key, rsa.RSAPublicKey), p + spec + " public key", "RSA", key)
            cu.expect_eq(p + spec + " modulus bits", RSA_BYTES[spec] * 8, key.key_size)
        else:
            curve = {"EC_P256": "secp256r1", "EC_P256K": "secp256k1"}[spec]
            cu.check(isinstance(key, ec.EllipticCurvePublicKey), p + spec + " public key", "EC", key)
            cu.expect_eq(p + spec + " curve", curve, key.curve.name)
        cu.expect_eq(p + spec + " PEM body is DER SubjectPublicKeyInfo",
                     key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
                     der)
        return key

    def sm2_public(key_id, version):
        return sm2_spki_point(p + "GetPublicKey(EC_SM2).PublicKey",
                              pem_der(p + "GetPublicKey(EC_SM2).PublicKey", public_pem(key_id, version)))

    def sign(key_id, version, alg, digest):
        body = api.call("AsymmetricSign", KeyId=key_id, KeyVersionId=version, Algorithm=alg, Digest=b64(digest))
        ids("AsymmetricSign", body, key_id, version)
        return unb64(p + "AsymmetricSign.Value", body.get("Value"))

    def verify(key_id, version, alg, digest, sig):
        body = api.call("AsymmetricVerify", KeyId=key_id, KeyVersionId=version, Algorithm=alg, Digest=b64(digest),
                        Value=b64(sig))
        ids("AsymmetricVerify", body, key_id, version)
        value = body.get("Value")
        cu.check(type(value) is bool, p + "AsymmetricVerify.Value", "a JSON boolean", value)
        return value

    def expect_verify(what, expected, *args):
        cu.check(verify(*args) is expected, p + what, "AsymmetricVerify.Value %s" % expected, not expected)

    def decrypt_remote(key_id, version, alg, ciphertext):
        body = api.call("AsymmetricDecrypt", KeyId=key_id, KeyVersionId=version, Algorithm=alg,
                        CiphertextBlob=b64(ciphertext))
        ids("AsymmetricDecrypt", body, key_id, version)
        return unb64(p + "AsymmetricDecrypt.Plaintext", body.get("Plaintext"))

    def encrypt_remote(key_id, version, alg, plaintext):
        body = api.call("AsymmetricEncrypt", KeyId=key_id, KeyVersionId=version, Algorithm=alg,
                        Plaintext=b64(plaintext))
        ids("AsymmetricEncrypt", body, key_id, version)
        return unb64(p + "AsymmetricEncrypt.CiphertextBlob", body.get("CiphertextBlob"))

    def decrypt_sym(what, blob, ctx=None, key_id=None):
        params = {"CiphertextBlob": blob}
        if ctx:
            params["EncryptionContext"] = ctx_param(ctx)
        body = api.call("Decrypt", **params)
        if key_id is not None:
            cu.expect_eq(p + what + " Decrypt.KeyId", key_id, body.get("KeyId"))
        return body.get("Plaintext")

    # --- 1. RSA / ECDSA signatures ------------------------------------------------

    def local_verify(key, alg, sig, message):
        """cryptography's verification over the message (it hashes with SHA-256 itself)."""
        if alg == "RSA_PSS_SHA_256":
            key.verify(sig, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        elif alg == "RSA_PKCS1_SHA_256":
            key.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(sig, message, ec.ECDSA(hashes.SHA256()))

    def step_sign_rsa_ec(st):
        for spec, algs in (("RSA_2048", ("RSA_PSS_SHA_256", "RSA_PKCS1_SHA_256")),
                           ("RSA_3072", ("RSA_PSS_SHA_256", "RSA_PKCS1_SHA_256")),
                           ("EC_P256", ("ECDSA_SHA_256",)), ("EC_P256K", ("ECDSA_SHA_256",))):
            key_id, version = new_key(spec, SIGN)
            key = public_key(spec, key_id, version)
            message = b"yaoshi compat sign " + spec.encode() + os.urandom(8)
            other = message + b"!"
            digest, other_digest = hashlib.sha256(message).digest(), hashlib.sha256(other).digest()
            for alg in algs:
                what = "%s %s" % (spec, alg)
                sig = sign(key_id, version, alg, digest)
                try:
                    local_verify(key, alg, sig, message)
                except InvalidSignature:
                    cu.fail(p + what + " signature", "valid for the message under GetPublicKey's key (cryptography)",
                            b64(sig))
                try:
                    local_verify(key, alg, sig, other)
                    cu.fail(p + what + " signature over another message", "InvalidSignature (cryptography)", "valid")
                except InvalidSignature:
                    pass
                again = sign(key_id, version, alg, digest)
                local_verify(key, alg, again, message)
                if spec.startswith("RSA_"):
                    cu.expect_eq(p + what + " signature length", RSA_BYTES[spec], len(sig))
                    # PKCS#1 v1.5 is deterministic; PSS is salted (randomised).
                    cu.check((again == sig) == (alg == "RSA_PKCS1_SHA_256"), p + what + " signing twice",
                             "equal" if alg == "RSA_PKCS1_SHA_256" else "different", again == sig)
                    if alg == "RSA_PSS_SHA_256":
                        # OpenSSL checks an explicit salt length exactly: 32, not the maximum.
                        key.verify(sig, digest, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                                   utils.Prehashed(hashes.SHA256()))
                        try:
                            key.verify(sig, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                                 salt_length=64), hashes.SHA256())
                            cu.fail(p + what + " verified with salt length 64", "InvalidSignature", "valid")
                        except InvalidSignature:
                            pass
                else:
                    r, s = der_rs(p + what + " signature", sig)
                    order = CURVE_ORDER[key.curve.name]
                    cu.check(0 < r < order and 0 < s < order, p + what + " (r, s)", "in [1, n-1]", (r, s))
                    cu.expect_eq(p + what + " DER via cryptography", (r, s), utils.decode_dss_signature(sig))
                expect_verify(what + " AsymmetricVerify(own signature)", True, key_id, version, alg, digest, sig)
                expect_verify(what + " AsymmetricVerify(other digest)", False, key_id, version, alg, other_digest, sig)
                tampered = sig[:-1] + bytes([sig[-1] ^ 0x01])
                expect_verify(what + " AsymmetricVerify(tampered signature)", False, key_id, version, alg, digest,
                              tampered)
                expect_verify(what + " AsymmetricVerify(truncated signature)", False, key_id, version, alg, digest,
                              sig[:-3])

    # --- 2. SM2DSA with gmssl ----------------------------------------------------------------

    def step_sm2_sign(st):
        # gmssl's SM3 against the GB/T 32905 example, so a broken hash cannot make both sides agree.
        cu.expect_eq("gmssl SM3('abc')", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
                     sm3(b"abc").hex())
        key_id, version = new_key("EC_SM2", SIGN)
        xy = sm2_public(key_id, version)
        message = b"yaoshi compat SM2 " + os.urandom(8)
        e = sm2_e(xy, message)
        other_e = sm2_e(xy, message + b"!")
        sig = sign(key_id, version, "SM2DSA", e)
        r, s = der_rs(p + "SM2DSA signature", sig)
        cu.check(0 < r < SM2_N and 0 < s < SM2_N, p + "SM2DSA (r, s)", "in [1, n-1]", (r, s))
        rs_hex = "%064x%064x" % (r, s)
        checker = gm(xy)
        # Path 1: gmssl.verify over OUR e = SM3(Z_A || M) (verify() does not hash) -- checks the server's
        # signature and our Z_A/e construction together.
        cu.check(checker.verify(rs_hex, e) is True, p + "gmssl verify(r||s, e)", "True", False)
        # Path 2: gmssl.verify_with_sm3 over the message: gmssl computes Z_A (its own ENTL/ID/table) and e.
        cu.check(checker.verify_with_sm3(rs_hex, message) is True, p + "gmssl verify_with_sm3(r||s, M)", "True", False)
        cu.check(checker.verify(rs_hex, other_e) is False, p + "gmssl verify(r||s, e of another message)", "False",
                 True)
        cu.check(checker.verify_with_sm3(rs_hex, message + b"!") is False,
                 p + "gmssl verify_with_sm3(r||s, another message)", "False", True)
        # gmssl's own DER reading (asn1=True, pycryptodome) of the server's bytes.
        asn1 = gm_sm2.CryptSM2(private_key="", public_key="", asn1=True)
        asn1.public_key = xy.hex()
        cu.check(asn1.verify(sig.hex(), e) is True, p + "gmssl(asn1=True) verify(DER, e)", "True", False)
        expect_verify("SM2DSA AsymmetricVerify(own signature)", True, key_id, version, "SM2DSA", e, sig)
        expect_verify("SM2DSA AsymmetricVerify(other digest)", False, key_id, version, "SM2DSA", other_e, sig)
        # (r, s + 1) re-encoded as DER: well-formed, wrong.
        bad = der_tlv(0x30, der_int(r) + der_int((s + 1) % SM2_N))
        expect_verify("SM2DSA AsymmetricVerify(r, s+1)", False, key_id, version, "SM2DSA", e, bad)
        # A local gmssl signature cannot be made under the server's key (its private key never leaves
        # the server, and asymmetric keys cannot be imported), so the other direction is checked with a
        # local key pair: gmssl signs, our DER encoding of its r || s verifies with gmssl (asn1=True), and
        # the server's AsymmetricVerify under ITS key says false for it (a valid signature of another
        # key, over the e of the server key, is not accepted).
        d_hex, local_xy = sm2_keypair()
        lr, ls = sm2_sign_locally(d_hex, local_xy, e)
        local_der = der_tlv(0x30, der_int(lr) + der_int(ls))
        local_asn1 = gm_sm2.CryptSM2(private_key="", public_key="", asn1=True)
        local_asn1.public_key = local_xy.hex()
        cu.check(local_asn1.verify(local_der.hex(), e) is True, p + "gmssl verify of its own signature as our DER",
                 "True", False)
        expect_verify("SM2DSA AsymmetricVerify(gmssl signature by another key)", False, key_id, version, "SM2DSA",
                      e, local_der)
        # The server's (r, s) through gmssl's r || s form and back to DER still verifies on the server.
        back = der_tlv(0x30, der_int(int(rs_hex[:64], 16)) + der_int(int(rs_hex[64:], 16)))
        expect_verify("SM2DSA AsymmetricVerify(r||s -> DER round trip)", True, key_id, version, "SM2DSA", e, back)

    # --- 3. public-key encryption ----------------------------------------------------------

    def step_rsa_decrypt_local(st):
        for spec in ("RSA_2048", "RSA_3072"):
            key_id, version = new_key(spec, ENCRYPT)
            key = public_key(spec, key_id, version)
            for alg in (OAEP_SHA256, OAEP_SHA1):
                what = "%s %s" % (spec, alg)
                limit = oaep_limit(spec, alg)
                for n in (1, 32, limit):
                    plain = os.urandom(n)
                    ct = key.encrypt(plain, oaep(alg))
                    cu.expect_eq(p + what + " AsymmetricDecrypt of a local %d-byte ciphertext" % n, b64(plain),
                                 b64(decrypt_remote(key_id, version, alg, ct)))
                api.error(p + what + " AsymmetricDecrypt with the other OAEP hash", "AsymmetricDecrypt",
                          "InvalidParameter", 400, KeyId=key_id, KeyVersionId=version, Algorithm=OTHER_OAEP[alg],
                          CiphertextBlob=b64(ct))
                bad = bytearray(ct)
                bad[len(bad) // 2] ^= 0x40
                api.error(p + what + " AsymmetricDecrypt of a tampered ciphertext", "AsymmetricDecrypt",
                          "InvalidParameter", 400, KeyId=key_id, KeyVersionId=version, Algorithm=alg,
                          CiphertextBlob=b64(bytes(bad)))
                # The server's own encryption: only the private key holder can open it, so it is checked
                # by size, randomisation and the round trip (GenerateAndExportDataKey below checks the
                # server's OAEP encryption with a local private key).
                plain = os.urandom(limit)
                c1, c2 = encrypt_remote(key_id, version, alg, plain), encrypt_remote(key_id, version, alg, plain)
                cu.expect_eq(p + what + " AsymmetricEncrypt ciphertext length", RSA_BYTES[spec], len(c1))
                cu.check(c1 != c2, p + what + " AsymmetricEncrypt twice", "different ciphertexts (OAEP seed)", c1)
                cu.expect_eq(p + what + " AsymmetricEncrypt -> AsymmetricDecrypt", b64(plain),
                             b64(decrypt_remote(key_id, version, alg, c2)))
                api.error(p + what + " AsymmetricEncrypt of %d bytes" % (limit + 1), "AsymmetricEncrypt",
                          "InvalidParameter", 400, KeyId=key_id, KeyVersionId=version, Algorithm=alg,
                          Plaintext=b64(os.urandom(limit + 1)))
        cu.expect_eq("RSA-2048 OAEP-SHA256 limit", 190, oaep_limit("RSA_2048", OAEP_SHA256))

    def step_sm2_decrypt_local(st):
        key_id, version = new_key("EC_SM2", ENCRYPT)
        xy = sm2_public(key_id, version)
        for n in (1, 33, 300):
            plain = os.urandom(n)
            raw = gm(xy, mode=1).encrypt(plain)  # x1 || y1 || C3 || C2, no 0x04
            cu.expect_eq(p + "gmssl SM2 ciphertext length (64 + 32 + n)", 96 + n, len(raw))
            x, y = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
            cu.check(sm2_on_curve(x, y), p + "gmssl C1", "a point on the curve (no 0x04 prefix)", raw[:64].hex())
            cu.expect_eq(p + "AsymmetricDecrypt(0x04 || gmssl C1C3C2), %d bytes" % n, b64(plain),
                         b64(decrypt_remote(key_id, version, "SM2PKE", b"\x04" + raw)))
            cu.expect_eq(p + "AsymmetricDecrypt(gmssl ciphertext as GM/T 0009 DER), %d bytes" % n, b64(plain),
                         b64(decrypt_remote(key_id, version, "SM2PKE", sm2_cipher_der(raw))))
        # gmssl's bare output (C1 without 0x04) is not one of the accepted forms; neither is C1C2C3.
        api.error(p + "AsymmetricDecrypt(gmssl C1C3C2 without 0x04)", "AsymmetricDecrypt", "InvalidParameter", 400,
                  KeyId=key_id, KeyVersionId=version, Algorithm="SM2PKE", CiphertextBlob=b64(raw))
        old = gm(xy, mode=0).encrypt(plain)
        api.error(p + "AsymmetricDecrypt(0x04 || gmssl C1C2C3)", "AsymmetricDecrypt", "InvalidParameter", 400,
                  KeyId=key_id, KeyVersionId=version, Algorithm="SM2PKE", CiphertextBlob=b64(b"\x04" + old))
        bad = bytearray(b"\x04" + raw)
        bad[-1] ^= 0x01  # C2 changed: the C3 check must fail
        api.error(p + "AsymmetricDecrypt(C2 tampered)", "AsymmetricDecrypt", "InvalidParameter", 400,
                  KeyId=key_id, KeyVersionId=version, Algorithm="SM2PKE", CiphertextBlob=b64(bytes(bad)))
        # AsymmetricEncrypt: GM/T 0009 DER whose C1 is on the curve and whose C2 is as long as the plaintext.
        for n in (1, 100, SM2_MAX_PLAINTEXT):
            plain = os.urandom(n)
            der = encrypt_remote(key_id, version, "SM2PKE", plain)
            _, _, _, c2 = sm2_cipher_parts(p + "AsymmetricEncrypt(SM2PKE) CiphertextBlob", der)
            cu.expect_eq(p + "SM2 C2 length", n, len(c2))
            cu.expect_eq(p + "SM2 AsymmetricEncrypt -> AsymmetricDecrypt, %d bytes" % n, b64(plain),
                         b64(decrypt_remote(key_id, version, "SM2PKE", der)))
        api.error(p + "AsymmetricEncrypt(SM2PKE) of %d bytes" % (SM2_MAX_PLAINTEXT + 1), "AsymmetricEncrypt",
                  "InvalidParameter", 400, KeyId=key_id, KeyVersionId=version, Algorithm="SM2PKE",
                  Plaintext=b64(os.urandom(SM2_MAX_PLAINTEXT + 1)))
        # gmssl cannot open ciphertext of the server's key (no private key here); the server's SM2
        # encryption is opened by gmssl in the export steps (a local key pair as PublicKeyBlob). Here the
        # DER conversion and C3 check those steps use are run on a local gmssl round trip.
        d_hex, local_xy = sm2_keypair()
        plain = os.urandom(40)
        raw = gm(local_xy, mode=1).encrypt(plain)
        cu.expect_eq(p + "gmssl local round trip through our DER conversion", plain,
                     sm2_local_decrypt("local", d_hex, sm2_cipher_der(raw)))

    # --- 4. BYOK --------------------------------------------------------------------------

    def import_params(key_id, alg, wrap_spec):
        body = api.call("GetParametersForImport", KeyId=key_id, WrappingAlgorithm=alg, WrappingKeySpec=wrap_spec)
        cu.expect_eq(p + "GetParametersForImport.KeyId", key_id, body.get("KeyId"))
        cu.expect_nonempty_str(p + "GetParametersForImport.ImportToken", body.get("ImportToken"))
        cu.expect_iso_time(p + "GetParametersForImport.TokenExpireTime", body.get("TokenExpireTime"))
        der = unb64(p + "GetParametersForImport.PublicKey", body.get("PublicKey"))
        return body["ImportToken"], der

    def wrap_material(what, alg, der, material):
        if alg == "SM2PKE":
            xy = sm2_spki_point(p + what + " SM2 wrapping key", der)
            return sm2_cipher_der(gm(xy, mode=1).encrypt(material))
        key = serialization.load_der_public_key(der)
        cu.check(isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048, p + what + " wrapping key",
                 "RSA-2048 SPKI", der.hex())
        pad = padding.PKCS1v15() if alg == "RSAES_PKCS1_V1_5" else oaep(alg)
        return key.encrypt(material, pad)

    def import_material(what, key_id, alg, wrap_spec, material, expire=0):
        token, der = import_params(key_id, alg, wrap_spec)
        wrapped = wrap_material(what, alg, der, material)
        body = api.call("ImportKeyMaterial", KeyId=key_id, EncryptedKeyMaterial=b64(wrapped), ImportToken=token,
                        KeyMaterialExpireUnix=expire)
        cu.check(set(body) <= {"RequestId"}, p + what + " ImportKeyMaterial body", "only RequestId", body)

    def check_imported(what, key_id, material):
        """Encrypt/Decrypt work, and the blob opens LOCALLY with the imported bytes."""
        md = describe(key_id)
        cu.expect_eq(p + what + " KeyState after import", "Enabled", md.get("KeyState"))
        cu.expect_eq(p + what + " Origin", "EXTERNAL", md.get("Origin"))
        plain = cu.sample_plaintext(what)
        ctx = {"purpose": "byok", "alg": what}
        body = api.call("Encrypt", KeyId=key_id, Plaintext=plain, EncryptionContext=ctx_param(ctx))
        blob = body.get("CiphertextBlob")
        cu.expect_eq(p + what + " Decrypt", plain, decrypt_sym(what, blob, ctx, key_id))
        cu.expect_eq(p + what + " blob opened locally with the imported material", plain.encode(),
                     open_blob_locally(p + what, blob, material, ctx))
        return plain, blob, ctx

    def step_byok(st):
        cases = (("Aliyun_AES_256", 32, OAEP_SHA256, "RSA_2048"), ("Aliyun_AES_256", 32, OAEP_SHA1, "RSA_2048"),
                 ("Aliyun_AES_256", 32, "RSAES_PKCS1_V1_5", "RSA_2048"), ("Aliyun_AES_256", 32, "SM2PKE", "EC_SM2"),
                 ("Aliyun_SM4", 16, "SM2PKE", "EC_SM2"), ("Aliyun_AES_128", 16, OAEP_SHA256, "RSA_2048"))
        for spec, size, alg, wrap_spec in cases:
            what = "BYOK %s via %s" % (spec, alg)
            key_id = api.call("CreateKey", KeySpec=spec, Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
            cu.expect_eq(p + what + " KeyState before import", "PendingImport", describe(key_id).get("KeyState"))
            material = os.urandom(size)
            import_material(what, key_id, alg, wrap_spec, material)
            cu.expect_eq(p + what + " MaterialExpireTime (KeyMaterialExpireUnix=0)", "",
                         describe(key_id).get("MaterialExpireTime"))
            check_imported(what, key_id, material)
            st.setdefault("byok", []).append((key_id, material))

    def step_byok_rules(st):
        key_id, material = st["byok"][0]
        plain, blob, ctx = check_imported("BYOK before re-import", key_id, material)
        # Every GetParametersForImport call gives a new token and a new wrapping key.
        t1, k1 = import_params(key_id, OAEP_SHA256, "RSA_2048")
        t2, k2 = import_params(key_id, OAEP_SHA256, "RSA_2048")
        cu.check(t1 != t2 and k1 != k2, p + "two GetParametersForImport calls", "different tokens and keys", (t1, t2))
        # Material wrapped under token 1's key, sent with token 2: does not unwrap.
        api.error(p + "ImportKeyMaterial wrapped for another token", "ImportKeyMaterial", "InvalidKeyMaterial", 400,
                  KeyId=key_id, ImportToken=t2, KeyMaterialExpireUnix=0,
                  EncryptedKeyMaterial=b64(wrap_material("t1", OAEP_SHA256, k1, material)))
        # Different material into a key that already has material.
        t3, k3 = import_params(key_id, OAEP_SHA256, "RSA_2048")
        api.error(p + "ImportKeyMaterial of DIFFERENT material", "ImportKeyMaterial", "InvalidKeyMaterial", 400,
                  KeyId=key_id, ImportToken=t3, KeyMaterialExpireUnix=0,
                  EncryptedKeyMaterial=b64(wrap_material("other", OAEP_SHA256, k3, os.urandom(32))))
        cu.expect_eq(p + "old blob after the refused re-import", plain, decrypt_sym("refused", blob, ctx, key_id))
        open_blob_locally(p + "blob after the refused re-import", api.call(
            "Encrypt", KeyId=key_id, Plaintext=plain)["CiphertextBlob"], material)
        # A token of another key.
        other_id = api.call("CreateKey", Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        t4, k4 = import_params(other_id, OAEP_SHA256, "RSA_2048")
        api.error(p + "ImportKeyMaterial with another key's token", "ImportKeyMaterial", "InvalidImportToken", 400,
                  KeyId=key_id, ImportToken=t4, KeyMaterialExpireUnix=0,
                  EncryptedKeyMaterial=b64(wrap_material("t4", OAEP_SHA256, k4, material)))
        # Wrong length for the spec (16 bytes into AES-256): refused, the key stays PendingImport.
        api.error(p + "ImportKeyMaterial of 16 bytes into Aliyun_AES_256", "ImportKeyMaterial", "InvalidKeyMaterial",
                  400, KeyId=other_id, ImportToken=t4, KeyMaterialExpireUnix=0,
                  EncryptedKeyMaterial=b64(wrap_material("short", OAEP_SHA256, k4, os.urandom(16))))
        cu.expect_eq(p + "KeyState after the refused import", "PendingImport", describe(other_id).get("KeyState"))
        api.error(p + "Encrypt with a PendingImport key", "Encrypt", "Rejected.PendingImport", 409, KeyId=other_id,
                  Plaintext=plain)
        # DeleteKeyMaterial, then the SAME material again (fresh token): the old blob opens again.
        api.call("DeleteKeyMaterial", KeyId=key_id)
        cu.expect_eq(p + "KeyState after DeleteKeyMaterial", "PendingImport", describe(key_id).get("KeyState"))
        api.error(p + "Decrypt after DeleteKeyMaterial", "Decrypt", "Rejected.PendingImport", 409,
                  CiphertextBlob=blob, EncryptionContext=ctx_param(ctx))
        expire = int(time.time()) + 400 * 86400
        import_material("re-import", key_id, OAEP_SHA1, "RSA_2048", material, expire)
        md = describe(key_id)
        cu.expect_eq(p + "KeyState after re-importing the same material", "Enabled", md.get("KeyState"))
        cu.expect_eq(p + "MaterialExpireTime = KeyMaterialExpireUnix",
                     time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expire)), md.get("MaterialExpireTime"))
        cu.expect_eq(p + "old blob after re-import", plain, decrypt_sym("re-import", blob, ctx, key_id))
        # Parameter errors.
        aes = api.call("CreateKey")["KeyMetadata"]["KeyId"]
        api.error(p + "GetParametersForImport of an Aliyun_KMS key", "GetParametersForImport", "Unsupported.Origin",
                  400, KeyId=aes, WrappingAlgorithm=OAEP_SHA256, WrappingKeySpec="RSA_2048")
        api.error(p + "GetParametersForImport(RSA_2048, SM2PKE)", "GetParametersForImport", "InvalidParameter", 400,
                  KeyId=other_id, WrappingAlgorithm="SM2PKE", WrappingKeySpec="RSA_2048")
        api.error(p + "GetParametersForImport(EC_SM2, RSAES_OAEP_SHA_256)", "GetParametersForImport",
                  "InvalidParameter", 400, KeyId=other_id, WrappingAlgorithm=OAEP_SHA256, WrappingKeySpec="EC_SM2")
        api.error(p + "ImportKeyMaterial with KeyMaterialExpireUnix in the past", "ImportKeyMaterial",
                  "InvalidParameter", 400, KeyId=key_id, ImportToken=t3, KeyMaterialExpireUnix=1000000000,
                  EncryptedKeyMaterial=b64(wrap_material("past", OAEP_SHA256, k3, material)))

    def step_byok_expiry(st):
        """Token and material expiry on the node's test clock (KMS time; signatures keep real time)."""
        now_s = cu.advance_clock(0)["NowMs"] // 1000
        key_id = api.call("CreateKey", Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        material = os.urandom(32)
        stale_token, stale_der = import_params(key_id, OAEP_SHA256, "RSA_2048")
        body = api.call("GetParametersForImport", KeyId=key_id, WrappingAlgorithm=OAEP_SHA1,
                        WrappingKeySpec="RSA_2048")
        expires = calendar.timegm(time.strptime(body["TokenExpireTime"], "%Y-%m-%dT%H:%M:%SZ"))
        cu.check(abs(expires - (now_s + 86400)) <= 120, p + "GetParametersForImport.TokenExpireTime",
                 "24 h after KMS time %d" % now_s, body["TokenExpireTime"])
        expire = now_s + 3600
        import_material("expiring", key_id, OAEP_SHA1, "RSA_2048", material, expire)
        cu.expect_eq(p + "MaterialExpireTime", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expire)),
                     describe(key_id).get("MaterialExpireTime"))
        plain, blob, ctx = check_imported("BYOK expiring material", key_id, material)
        cu.advance_clock(86400 * 1000 + 60000)
        api.error(p + "Encrypt after the material expired", "Encrypt", "Rejected.PendingImport", 409, KeyId=key_id,
                  Plaintext=plain)
        api.error(p + "Decrypt after the material expired", "Decrypt", "Rejected.PendingImport", 409,
                  CiphertextBlob=blob, EncryptionContext=ctx_param(ctx))
        api.error(p + "ImportKeyMaterial with a token older than 24 h", "ImportKeyMaterial", "ExpiredImportToken", 400,
                  KeyId=key_id, ImportToken=stale_token, KeyMaterialExpireUnix=0,
                  EncryptedKeyMaterial=b64(wrap_material("stale", OAEP_SHA256, stale_der, material)))
        # The same material again, without expiry: the old blob opens again.
        import_material("after expiry", key_id, OAEP_SHA256, "RSA_2048", material)
        md = describe(key_id)
        cu.expect_eq(p + "MaterialExpireTime after re-import without expiry", "", md.get("MaterialExpireTime"))
        cu.expect_eq(p + "Decrypt after re-import", plain, decrypt_sym("after expiry", blob, ctx, key_id))
        check_imported("BYOK after expiry", key_id, material)

    # --- 5. data key exports ---------------------------------------------------------------

    def step_generate_and_export_rsa(st):
        local = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        spki = local.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        blob_key = b64(spki)
        aes_id, aes_version = new_key("Aliyun_AES_256", ENCRYPT)
        ctx = {"purpose": "export", "n": "1"}
        for alg in (OAEP_SHA256, OAEP_SHA1):
            limit = oaep_limit("RSA_2048", alg)
            for sizing, n in (({}, 32), ({"KeySpec": "AES_128"}, 16), ({"KeySpec": "AES_256"}, 32),
                              ({"NumberOfBytes": 1}, 1), ({"NumberOfBytes": 48}, 48), ({"NumberOfBytes": limit}, limit),
                              ({"KeySpec": "AES_128", "NumberOfBytes": 24}, 24)):
                what = "GenerateAndExportDataKey(%s, %s)" % (alg, sizing or "default")
                body = api.call("GenerateAndExportDataKey", KeyId=aes_id, PublicKeyBlob=blob_key,
                                WrappingAlgorithm=alg, WrappingKeySpec="RSA_2048", EncryptionContext=ctx_param(ctx),
                                **sizing)
                ids(what, body, aes_id, aes_version)
                exported = unb64(p + what + ".ExportedDataKey", body.get("ExportedDataKey"))
                cu.expect_eq(p + what + " ExportedDataKey length (RSA-2048 ciphertext)", 256, len(exported))
                raw = local.decrypt(exported, oaep(alg))
                cu.expect_eq(p + what + " data key length", n, len(raw))
                cu.expect_eq(p + what + ": Decrypt(CiphertextBlob) = Base64 of the locally unwrapped key", b64(raw),
                             decrypt_sym(what, body.get("CiphertextBlob"), ctx, aes_id))
                try:
                    local.decrypt(exported, oaep(OTHER_OAEP[alg]))
                    cu.fail(p + what + " unwrapped with the other OAEP hash", "a decryption error", "success")
                except ValueError:
                    pass
            api.error(p + "GenerateAndExportDataKey(%s, NumberOfBytes=%d)" % (alg, limit + 1),
                      "GenerateAndExportDataKey", "InvalidParameter", 400, KeyId=aes_id, PublicKeyBlob=blob_key,
                      WrappingAlgorithm=alg, WrappingKeySpec="RSA_2048", NumberOfBytes=limit + 1)
        # ExportDataKey of a GenerateDataKeyWithoutPlaintext blob, and of a GenerateDataKey blob.
        for alg in (OAEP_SHA256, OAEP_SHA1):
            body = api.call("GenerateDataKeyWithoutPlaintext", KeyId=aes_id, NumberOfBytes=32,
                            EncryptionContext=ctx_param(ctx))
            blob = body["CiphertextBlob"]
            exp = api.call("ExportDataKey", CiphertextBlob=blob, PublicKeyBlob=blob_key, WrappingAlgorithm=alg,
                           WrappingKeySpec="RSA_2048", EncryptionContext=ctx_param(ctx))
            ids("ExportDataKey", exp, aes_id, aes_version)
            raw = local.decrypt(unb64(p + "ExportDataKey.ExportedDataKey", exp.get("ExportedDataKey")), oaep(alg))
            cu.expect_eq(p + "ExportDataKey(%s) of GenerateDataKeyWithoutPlaintext: length" % alg, 32, len(raw))
            cu.expect_eq(p + "ExportDataKey(%s): Decrypt = Base64 of the unwrapped key" % alg, b64(raw),
                         decrypt_sym("export", blob, ctx, aes_id))
            gdk = api.call("GenerateDataKey", KeyId=aes_id, KeySpec="AES_128", EncryptionContext=ctx_param(ctx))
            exp = api.call("ExportDataKey", CiphertextBlob=gdk["CiphertextBlob"], PublicKeyBlob=blob_key,
                           WrappingAlgorithm=alg, WrappingKeySpec="RSA_2048", EncryptionContext=ctx_param(ctx))
            raw = local.decrypt(unb64(p + "ExportDataKey.ExportedDataKey", exp.get("ExportedDataKey")), oaep(alg))
            cu.expect_eq(p + "ExportDataKey(%s) of GenerateDataKey = its Plaintext" % alg, gdk.get("Plaintext"),
                         b64(raw))
        api.error(p + "ExportDataKey with the wrong EncryptionContext", "ExportDataKey", "InvalidParameter", 400,
                  CiphertextBlob=blob, PublicKeyBlob=blob_key, WrappingAlgorithm=OAEP_SHA256,
                  WrappingKeySpec="RSA_2048", EncryptionContext=ctx_param({"purpose": "other"}))
        api.error(p + "ExportDataKey(RSAES_PKCS1_V1_5)", "ExportDataKey", "InvalidParameter", 400,
                  CiphertextBlob=blob, PublicKeyBlob=blob_key, WrappingAlgorithm="RSAES_PKCS1_V1_5",
                  WrappingKeySpec="RSA_2048", EncryptionContext=ctx_param(ctx))
        api.error(p + "ExportDataKey(EC_SM2 spec, RSA PublicKeyBlob)", "ExportDataKey", "InvalidParameter", 400,
                  CiphertextBlob=blob, PublicKeyBlob=blob_key, WrappingAlgorithm="SM2PKE",
                  WrappingKeySpec="EC_SM2", EncryptionContext=ctx_param(ctx))
        api.error(p + "GenerateAndExportDataKey(NumberOfBytes=1024) under RSA-2048", "GenerateAndExportDataKey",
                  "InvalidParameter", 400, KeyId=aes_id, PublicKeyBlob=blob_key, WrappingAlgorithm=OAEP_SHA256,
                  WrappingKeySpec="RSA_2048", NumberOfBytes=1024)

    def step_generate_and_export_sm2(st):
        d_hex, xy = sm2_keypair()
        blob_key = b64(SM2_SPKI_PREFIX + xy)  # SPKI built by hand, as GetPublicKey's SM2 keys look
        for spec in ("Aliyun_SM4", "Aliyun_AES_256"):
            key_id, version = new_key(spec, ENCRYPT)
            for sizing, n in (({"NumberOfBytes": 16}, 16), ({}, 32), ({"NumberOfBytes": 1024}, 1024)):
                what = "GenerateAndExportDataKey(%s, SM2PKE, %s)" % (spec, sizing or "default")
                body = api.call("GenerateAndExportDataKey", KeyId=key_id, PublicKeyBlob=blob_key,
                                WrappingAlgorithm="SM2PKE", WrappingKeySpec="EC_SM2", **sizing)
                ids(what, body, key_id, version)
                der = unb64(p + what + ".ExportedDataKey", body.get("ExportedDataKey"))
                raw = sm2_local_decrypt(p + what + ".ExportedDataKey", d_hex, der)
                cu.expect_eq(p + what + " data key length", n, len(raw))
                cu.expect_eq(p + what + ": Decrypt = Base64 of the gmssl-unwrapped key", b64(raw),
                             decrypt_sym(what, body.get("CiphertextBlob"), None, key_id))
            gdk = api.call("GenerateDataKey", KeyId=key_id)
            exp = api.call("ExportDataKey", CiphertextBlob=gdk["CiphertextBlob"], PublicKeyBlob=blob_key,
                           WrappingAlgorithm="SM2PKE", WrappingKeySpec="EC_SM2")
            ids("ExportDataKey(SM2PKE)", exp, key_id, version)
            raw = sm2_local_decrypt(p + "ExportDataKey(SM2PKE)", d_hex,
                                    unb64(p + "ExportDataKey.ExportedDataKey", exp.get("ExportedDataKey")))
            cu.expect_eq(p + "ExportDataKey(%s, SM2PKE) = GenerateDataKey.Plaintext" % spec, gdk.get("Plaintext"),
                         b64(raw))
        api.error(p + "ExportDataKey(RSA_2048 spec, SM2 PublicKeyBlob)", "ExportDataKey", "InvalidParameter", 400,
                  CiphertextBlob=gdk["CiphertextBlob"], PublicKeyBlob=blob_key, WrappingAlgorithm=OAEP_SHA256,
                  WrappingKeySpec="RSA_2048")
        api.error(p + "ExportDataKey(EC_SM2, RSAES_OAEP_SHA_256)", "ExportDataKey", "InvalidParameter", 400,
                  CiphertextBlob=gdk["CiphertextBlob"], PublicKeyBlob=blob_key, WrappingAlgorithm=OAEP_SHA256,
                  WrappingKeySpec="EC_SM2")

    # --- 6. ReEncrypt from public-key ciphertext --------------------------------------------

    def step_reencrypt(st):
        rsa_id, rsa_version = new_key("RSA_2048", ENCRYPT)
        key = public_key("RSA_2048", rsa_id, rsa_version)
        sm2_id, sm2_version = new_key("EC_SM2", ENCRYPT)
        xy = sm2_public(sm2_id, sm2_version)
        aes_id, aes_version = new_key("Aliyun_AES_256", ENCRYPT)
        sm4_id, sm4_version = new_key("Aliyun_SM4", ENCRYPT)
        ctx = {"purpose": "reencrypt"}
        sources = [(rsa_id, rsa_version, alg, key.encrypt, oaep(alg)) for alg in (OAEP_SHA256, OAEP_SHA1)]
        sources.append((sm2_id, sm2_version, "SM2PKE",
                        lambda m, _: sm2_cipher_der(gm(xy, mode=1).encrypt(m)), None))
        for src_id, src_version, alg, enc, pad in sources:
            for dest_id, dest_version in ((aes_id, aes_version), (sm4_id, sm4_version)):
                what = "ReEncrypt(%s -> %s)" % (alg, "SM4" if dest_id == sm4_id else "AES")
                plain = os.urandom(100)
                body = api.call("ReEncrypt", CiphertextBlob=b64(enc(plain, pad)), SourceKeyId=src_id,
                                SourceKeyVersionId=src_version, SourceEncryptionAlgorithm=alg,
                                DestinationKeyId=dest_id, DestinationEncryptionContext=ctx_param(ctx))
                ids(what, body, dest_id, dest_version)
                # The Tea model of ReEncrypt's response has no SourceKeyId; the classic SDK passes the JSON on.
                for field, want in (("SourceKeyId", src_id), ("SourceKeyVersionId", src_version)):
                    if field in body:
                        cu.expect_eq(p + what + "." + field, want, body[field])
                cu.expect_eq(p + what + ": Decrypt = Base64 of the local plaintext", b64(plain),
                             decrypt_sym(what, body.get("CiphertextBlob"), ctx, dest_id))
        ct = key.encrypt(b"x" * 10, oaep(OAEP_SHA256))
        api.error(p + "ReEncrypt with the wrong SourceEncryptionAlgorithm", "ReEncrypt", "InvalidParameter", 400,
                  CiphertextBlob=b64(ct), SourceKeyId=rsa_id, SourceKeyVersionId=rsa_version,
                  SourceEncryptionAlgorithm=OAEP_SHA1, DestinationKeyId=aes_id)
        api.error(p + "ReEncrypt without SourceKeyVersionId", "ReEncrypt", "MissingParameter", 400,
                  CiphertextBlob=b64(ct), SourceKeyId=rsa_id, SourceEncryptionAlgorithm=OAEP_SHA256,
                  DestinationKeyId=aes_id)
        api.error(p + "ReEncrypt to an asymmetric destination", "ReEncrypt", "Unsupported.Operation", 400,
                  CiphertextBlob=b64(ct), SourceKeyId=rsa_id, SourceKeyVersionId=rsa_version,
                  SourceEncryptionAlgorithm=OAEP_SHA256, DestinationKeyId=sm2_id)

    # --- 7. error paths ---------------------------------------------------------------------

    def step_errors(st):
        rsa_id, rsa_version = new_key("RSA_2048", SIGN)
        ec_id, ec_version = new_key("EC_P256", SIGN)
        enc_id, enc_version = new_key("RSA_2048", ENCRYPT)
        aes_id, aes_version = new_key("Aliyun_AES_256", ENCRYPT)
        digest = hashlib.sha256(b"errors").digest()

        def sign_error(what, code, status, key_id, version, alg="RSA_PSS_SHA_256", dg=None):
            api.error(p + "AsymmetricSign " + what, "AsymmetricSign", code, status, KeyId=key_id,
                      KeyVersionId=version, Algorithm=alg, Digest=dg if dg is not None else b64(digest))

        sign_error("ECDSA_SHA_256 on RSA_2048", "InvalidParameter", 400, rsa_id, rsa_version, "ECDSA_SHA_256")
        sign_error("SM2DSA on RSA_2048", "InvalidParameter", 400, rsa_id, rsa_version, "SM2DSA")
        sign_error("RSA_PSS_SHA_256 on EC_P256", "InvalidParameter", 400, ec_id, ec_version, "RSA_PSS_SHA_256")
        sign_error("SM2DSA on EC_P256", "InvalidParameter", 400, ec_id, ec_version, "SM2DSA")
        sign_error("unknown Algorithm", "InvalidParameter", 400, rsa_id, rsa_version, "RSA_PSS_SHA_512")
        sign_error("31-byte Digest", "InvalidParameter", 400, rsa_id, rsa_version, dg=b64(digest[:31]))
        sign_error("33-byte Digest", "InvalidParameter", 400, ec_id, ec_version, "ECDSA_SHA_256", b64(digest + b"x"))
        sign_error("non-Base64 Digest", "InvalidParameter", 400, rsa_id, rsa_version, dg="not base64!")
        sign_error("on an ENCRYPT/DECRYPT key", "Unsupported.Operation", 400, enc_id, enc_version)
        sign_error("on a symmetric key", "Unsupported.Operation", 400, aes_id, aes_version)
        sign_error("unknown KeyVersionId", "Forbidden.KeyVersionNotFound", 404, rsa_id, cu.random_key_id())
        sign_error("another key's KeyVersionId", "Forbidden.KeyVersionNotFound", 404, rsa_id, ec_version)
        sign_error("unknown KeyId", "Forbidden.KeyNotFound", 404, cu.random_key_id(), rsa_version)
        api.error(p + "AsymmetricSign without KeyVersionId", "AsymmetricSign", "MissingParameter", 400,
                  KeyId=rsa_id, Algorithm="RSA_PSS_SHA_256", Digest=b64(digest))
        api.error(p + "AsymmetricVerify on a symmetric key", "AsymmetricVerify", "Unsupported.Operation", 400,
                  KeyId=aes_id, KeyVersionId=aes_version, Algorithm="RSA_PSS_SHA_256", Digest=b64(digest),
                  Value=b64(b"x" * 256))
        api.error(p + "AsymmetricVerify unknown KeyVersionId", "AsymmetricVerify", "Forbidden.KeyVersionNotFound", 404,
                  KeyId=ec_id, KeyVersionId=cu.random_key_id(), Algorithm="ECDSA_SHA_256", Digest=b64(digest),
                  Value=b64(b"x" * 70))
        api.error(p + "AsymmetricEncrypt on a SIGN/VERIFY key", "AsymmetricEncrypt", "Unsupported.Operation", 400,
                  KeyId=rsa_id, KeyVersionId=rsa_version, Algorithm=OAEP_SHA256, Plaintext=b64(b"hi"))
        api.error(p + "AsymmetricEncrypt(SM2PKE) on RSA", "AsymmetricEncrypt", "InvalidParameter", 400,
                  KeyId=enc_id, KeyVersionId=enc_version, Algorithm="SM2PKE", Plaintext=b64(b"hi"))
        api.error(p + "AsymmetricEncrypt(RSAES_PKCS1_V1_5)", "AsymmetricEncrypt", "InvalidParameter", 400,
                  KeyId=enc_id, KeyVersionId=enc_version, Algorithm="RSAES_PKCS1_V1_5", Plaintext=b64(b"hi"))
        api.error(p + "AsymmetricDecrypt unknown KeyVersionId", "AsymmetricDecrypt", "Forbidden.KeyVersionNotFound",
                  404, KeyId=enc_id, KeyVersionId=cu.random_key_id(), Algorithm=OAEP_SHA256,
                  CiphertextBlob=b64(b"x" * 256))
        api.error(p + "GetPublicKey of a symmetric key", "GetPublicKey", "Unsupported.Operation", 400, KeyId=aes_id,
                  KeyVersionId=aes_version)
        api.error(p + "GetPublicKey unknown KeyVersionId", "GetPublicKey", "Forbidden.KeyVersionNotFound", 404,
                  KeyId=rsa_id, KeyVersionId=cu.random_key_id())
        # Key state: Disabled -> Rejected.Disabled (409) for every asymmetric action; back to Enabled works.
        api.call("DisableKey", KeyId=rsa_id)
        sign_error("on a Disabled key", "Rejected.Disabled", 409, rsa_id, rsa_version)
        api.error(p + "AsymmetricVerify on a Disabled key", "AsymmetricVerify", "Rejected.Disabled", 409,
                  KeyId=rsa_id, KeyVersionId=rsa_version, Algorithm="RSA_PSS_SHA_256", Digest=b64(digest),
                  Value=b64(b"x" * 256))
        api.error(p + "GetPublicKey of a Disabled key", "GetPublicKey", "Rejected.Disabled", 409, KeyId=rsa_id,
                  KeyVersionId=rsa_version)
        api.call("DisableKey", KeyId=enc_id)
        api.error(p + "AsymmetricDecrypt on a Disabled key", "AsymmetricDecrypt", "Rejected.Disabled", 409,
                  KeyId=enc_id, KeyVersionId=enc_version, Algorithm=OAEP_SHA256, CiphertextBlob=b64(b"x" * 256))
        api.call("EnableKey", KeyId=rsa_id)
        key = public_key("RSA_2048", rsa_id, rsa_version)
        local_verify(key, "RSA_PKCS1_SHA_256", sign(rsa_id, rsa_version, "RSA_PKCS1_SHA_256", digest), b"errors")
        api.call("ScheduleKeyDeletion", KeyId=ec_id, PendingWindowInDays=7)
        sign_error("on a PendingDeletion key", "Rejected.PendingDeletion", 409, ec_id, ec_version, "ECDSA_SHA_256")

    def step_random_password(_state):
        classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation]
        default = api.call("GetRandomPassword").get("RandomPassword")
        cu.check(isinstance(default, str) and len(default) == 32, p + "GetRandomPassword default", "32 characters", default)
        cu.check(all(c in "".join(classes) for c in default), p + "GetRandomPassword alphabet", "printable ASCII", default)
        for length in (8, 128):
            got = api.call("GetRandomPassword", PasswordLength=str(length)).get("RandomPassword")
            cu.expect_eq(p + "GetRandomPassword length %d" % length, length, len(got))
        digits = api.call("GetRandomPassword", PasswordLength="64", ExcludeLowercase="true",
                          ExcludeUppercase="true", ExcludePunctuation="true").get("RandomPassword")
        cu.check(digits.isdigit(), p + "GetRandomPassword digits only", "64 digits", digits)
        cu.check(len(set(digits)) > 3, p + "GetRandomPassword digits spread", "several distinct digits", digits)
        no_ab = api.call("GetRandomPassword", PasswordLength="128", ExcludeCharacters="ABCabc").get("RandomPassword")
        cu.check(not set(no_ab) & set("ABCabc"), p + "GetRandomPassword ExcludeCharacters", "no A, B, C, a, b, c", no_ab)
        for _ in range(20):
            got = api.call("GetRandomPassword", PasswordLength="8", RequireEachIncludedType="true").get("RandomPassword")
            cu.check(all(set(got) & set(c) for c in classes), p + "GetRandomPassword RequireEachIncludedType",
                     "one character of each class", got)
        for bad in ("7", "129", "x"):
            api.error(p + "GetRandomPassword PasswordLength=" + bad, "GetRandomPassword", "InvalidParameter", 400,
                      PasswordLength=bad)
        api.error(p + "GetRandomPassword with every class excluded", "GetRandomPassword", "InvalidParameter", 400,
                  ExcludeLowercase="true", ExcludeUppercase="true", ExcludeNumbers="true", ExcludePunctuation="true")

    return [
        (p + "AsymmetricSign RSA/ECDSA verified with cryptography; AsymmetricVerify booleans", step_sign_rsa_ec),
        (p + "SM2DSA: e = SM3(Z_A || M) and gmssl verification", step_sm2_sign),
        (p + "AsymmetricDecrypt of local RSA-OAEP ciphertext; AsymmetricEncrypt and limits", step_rsa_decrypt_local),
        (p + "AsymmetricDecrypt of gmssl SM2 ciphertext; SM2 AsymmetricEncrypt DER and limits", step_sm2_decrypt_local),
        (p + "BYOK: material wrapped locally (OAEP-256/OAEP-1/PKCS1/SM2PKE), blob opens with it", step_byok),
        (p + "BYOK: re-import, token and length rules", step_byok_rules),
        (p + "BYOK: token and material expiry (test clock)", step_byok_expiry),
        (p + "GenerateAndExportDataKey / ExportDataKey to a local RSA-2048 key", step_generate_and_export_rsa),
        (p + "GenerateAndExportDataKey / ExportDataKey to a local gmssl SM2 key", step_generate_and_export_sm2),
        (p + "ReEncrypt from local public-key ciphertext", step_reencrypt),
        (p + "asymmetric error codes", step_errors),
        (p + "GetRandomPassword lengths, exclusions and each included type", step_random_password),
    ]
