"""The certificate actions through an SDK (classic: its request classes; Tea: the generic
OpenApiClient.call_api, since the Tea 3.x client has no certificate methods, docs/WIRE.md §1),
for RSA_2048, EC_P256 and EC_SM2, with the client side done by independent code:

* a test CA (root and issuing CA, P-256) made here with Python `cryptography`;
* RSA and P-256 requests are parsed and signature-checked by `cryptography`, and the CA signs them
  with `cryptography`'s CertificateBuilder; SM2 requests (which `cryptography` cannot load) are
  checked and signed by the `openssl` command (SM2-with-SM3, user id 1234567812345678);
* CertificatePrivateKeySign signatures are verified against the certificate's public key by
  `cryptography` (RSA PKCS#1 v1.5 and PSS with a 32-byte salt, ECDSA) or `openssl dgst -sm3`;
* ciphertexts for CertificatePrivateKeyDecrypt are made locally (OAEP with `cryptography`, SM2
  with `openssl pkeyutl`).

Then: a revoked certificate refuses Sign with Rejected.CertificateNotActive (409) and still
verifies; another key's certificate, an expired certificate, a chain upside down and a corrupt PEM
are refused with InvalidParameter (400).
"""

import base64
import datetime
import os
import subprocess
import tempfile

import compat_util as cu
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

SUBJECT = "CN=compat.example.com,OU=kms,O=Yaoshi Compat,C=CN"
SANS = ["compat.example.com", "*.compat.example.com"]
SM2_ID = "1234567812345678"
MESSAGE = b"the quick brown fox jumps over the lazy dog"

SPECS = [
    # (KeySpec, sign algorithms, encryption algorithms)
    ("RSA_2048", ["RSA_PKCS1_SHA_256", "RSA_PSS_SHA_256"], ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"]),
    ("EC_P256", ["ECDSA_SHA_256"], []),
    ("EC_SM2", ["SM2DSA"], ["SM2PKE"]),
]


def b64(data):
    return base64.b64encode(data).decode()


def openssl(workdir, *args, data=None):
    r = subprocess.run(["openssl", *args], cwd=workdir, input=data, capture_output=True)
    if r.returncode != 0:
        cu.fail("openssl " + " ".join(args), "exit 0", r.stderr.decode(errors="replace"))
    return r.stdout


class TestCa:
    """A root CA and an issuing CA below it (P-256 keys), in memory and as PEM files for openssl."""

    def __init__(self, workdir):
        self.dir = workdir
        now = datetime.datetime.now(datetime.timezone.utc)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Compat CA"),
                               x509.NameAttribute(NameOID.COMMON_NAME, "Compat Root")])
        self.root = self._ca_cert(root_name, root_name, self.root_key.public_key(), self.root_key, now)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Compat CA"),
                               x509.NameAttribute(NameOID.COMMON_NAME, "Compat Issuing CA")])
        self.cert = self._ca_cert(self.name, root_name, self.key.public_key(), self.root_key, now)
        with open(os.path.join(workdir, "ca.pem"), "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        with open(os.path.join(workdir, "ca.key"), "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self.chain = self.pem(self.cert) + self.pem(self.root)
        self.upside_down = self.pem(self.root) + self.pem(self.cert)
        self.serial = 0x1000

    @staticmethod
    def pem(cert):
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    @staticmethod
    def _ca_cert(subject, issuer, public_key, signer, now):
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(signer, hashes.SHA256()))

    def issue(self, spec, csr_pem, days=10, expired=False):
        """The issuing CA's certificate (PEM) for a request; checks the request's signature first."""
        self.serial += 1
        if spec == "EC_SM2":
            path = os.path.join(self.dir, "req-%d.csr" % self.serial)
            with open(path, "w") as f:
                f.write(csr_pem)
            openssl(self.dir, "req", "-in", path, "-verify", "-noout", "-vfyopt", "distid:" + SM2_ID)
            return openssl(self.dir, "x509", "-req", "-in", path, "-CA", "ca.pem", "-CAkey", "ca.key",
                           "-set_serial", str(self.serial), "-days", str(days), "-copy_extensions", "copy",
                           "-vfyopt", "distid:" + SM2_ID).decode()
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        cu.check(csr.is_signature_valid, spec + " CSR signature (cryptography)", "valid", False)
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = (now - datetime.timedelta(days=20), now - datetime.timedelta(days=1)) if expired else (
            now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=days))
        b = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.name)
             .public_key(csr.public_key()).serial_number(self.serial).not_valid_before(start).not_valid_after(end))
        for ext in csr.extensions:
            b = b.add_extension(ext.value, critical=ext.critical)
        return self.pem(b.sign(self.key, hashes.SHA256()))


def verify_locally(workdir, spec, algorithm, cert_pem, message, signature):
    """Whether `signature` over `message` verifies with the certificate's public key, checked by
    cryptography (RSA, ECDSA) or openssl (SM2)."""
    if spec == "EC_SM2":
        cert_path = os.path.join(workdir, "sm2-verify.pem")
        with open(cert_path, "w") as f:
            f.write(cert_pem)
        pub = openssl(workdir, "x509", "-in", cert_path, "-pubkey", "-noout")
        for name, data in (("pub.pem", pub), ("msg.bin", message), ("sig.bin", signature)):
            with open(os.path.join(workdir, name), "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:" + SM2_ID,
                            "-signature", "sig.bin", "msg.bin"], cwd=workdir, capture_output=True)
        return r.returncode == 0
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    try:
        if algorithm == "RSA_PKCS1_SHA_256":
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif algorithm == "RSA_PSS_SHA_256":
            key.verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                       hashes.SHA256())
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature or a malformed signature
        return False


def encrypt_locally(workdir, spec, algorithm, cert_pem, plaintext):
    """Ciphertext under the certificate's public key, made here."""
    if spec == "EC_SM2":
        cert_path = os.path.join(workdir, "sm2-enc.pem")
        with open(cert_path, "w") as f:
            f.write(cert_pem)
        with open(os.path.join(workdir, "pub-enc.pem"), "wb") as f:
            f.write(openssl(workdir, "x509", "-in", cert_path, "-pubkey", "-noout"))
        return openssl(workdir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "pub-enc.pem", data=plaintext)
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    h = hashes.SHA256() if algorithm == "RSAES_OAEP_SHA_256" else hashes.SHA1()
    return key.encrypt(plaintext, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))


def steps(api, call, error, p=""):
    """`call(action, **params)` returns the JSON body; `error(what, action, code, status, **params)`
    expects an SDK error."""
    workdir = tempfile.mkdtemp(prefix="yaoshi-compat-certs-")
    state = {}

    def ca():
        if "ca" not in state:
            state["ca"] = TestCa(workdir)
        return state["ca"]

    def flow(spec, sign_algs, enc_algs):
        def run(st):
            what = p + spec
            created = call("CreateCertificate", KeySpec=spec, Subject=SUBJECT,
                           SubjectAlternativeNames='["%s"]' % '","'.join(SANS), ExportablePrivateKey="false")
            cid = created.get("CertificateId")
            cu.expect_nonempty_str(what + " CreateCertificate.CertificateId", cid)
            cu.check(str(created.get("Arn", "")).endswith(":certificate/" + cid), what + " Arn",
                     "acs:kms:<region>:<uid>:certificate/" + cid, created.get("Arn"))
            csr = created.get("Csr")
            cu.check(isinstance(csr, str) and csr.startswith("-----BEGIN CERTIFICATE REQUEST-----"),
                     what + " Csr", "a PEM request", csr)
            if spec != "EC_SM2":
                parsed = x509.load_pem_x509_csr(csr.encode())
                cu.expect_eq(what + " CSR subject", SUBJECT, parsed.subject.rfc4514_string())
                sans = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                cu.expect_eq(what + " CSR SANs", SANS, sans.get_values_for_type(x509.DNSName))
            pending = call("DescribeCertificate", CertificateId=cid)
            cu.expect_eq(what + " Status before upload", "PENDING", pending.get("Status"))
            error(what + " Sign before upload", "CertificatePrivateKeySign", "Rejected.CertificateNotActive", 409,
                  CertificateId=cid, Algorithm=sign_algs[0], Message=b64(MESSAGE), MessageType="RAW")

            cert = ca().issue(spec, csr)
            error(what + " Upload with the chain upside down", "UploadCertificate", "InvalidParameter", 400,
                  CertificateId=cid, Certificate=cert, CertificateChain=ca().upside_down)
            call("UploadCertificate", CertificateId=cid, Certificate=cert, CertificateChain=ca().chain)
            d = call("DescribeCertificate", CertificateId=cid)
            cu.expect_eq(what + " Status", "ACTIVE", d.get("Status"))
            cu.expect_eq(what + " Issuer", "CN=Compat Issuing CA,O=Compat CA,C=CN", d.get("Issuer"))
            cu.expect_eq(what + " Subject", SUBJECT, d.get("Subject"))
            cu.expect_eq(what + " KeySpec", spec, d.get("KeySpec"))
            cu.expect_eq(what + " SignatureAlgorithm", "ECDSA-SHA256", d.get("SignatureAlgorithm"))
            cu.expect_eq(what + " Serial", "%x" % ca().serial, d.get("Serial"))
            got = call("GetCertificate", CertificateId=cid)
            cu.expect_eq(what + " GetCertificate.Csr", csr, got.get("Csr"))
            cu.expect_eq(what + " chain length", 2, got.get("CertificateChain", "").count("BEGIN CERTIFICATE"))

            for alg in sign_algs:
                for message_type in ("RAW", "DIGEST"):
                    if message_type == "DIGEST" and spec == "EC_SM2":
                        continue  # the SM2 digest is e = SM3(Z_A || M), covered by flow_crypto.py
                    message = MESSAGE if message_type == "RAW" else _sha256(MESSAGE)
                    s = call("CertificatePrivateKeySign", CertificateId=cid, Algorithm=alg, Message=b64(message),
                             MessageType=message_type)
                    sig = cu.expect_b64(what + " SignatureValue", s.get("SignatureValue"))
                    cu.check(verify_locally(workdir, spec, alg, cert, MESSAGE, sig),
                             "%s %s %s signature verified locally against the certificate" % (what, alg, message_type),
                             "valid", "invalid")
                    cu.check(not verify_locally(workdir, spec, alg, cert, MESSAGE + b"!", sig),
                             what + " signature over another message", "invalid", "valid")
                    v = call("CertificatePublicKeyVerify", CertificateId=cid, Algorithm=alg, Message=b64(message),
                             MessageType=message_type, SignatureValue=b64(sig))
                    cu.expect_eq(what + " SignatureValid", True, v.get("SignatureValid"))
                state["sig-" + spec] = (alg, sig)
            for alg in enc_algs:
                plaintext = os.urandom(32)
                ct = encrypt_locally(workdir, spec, alg, cert, plaintext)
                dec = call("CertificatePrivateKeyDecrypt", CertificateId=cid, Algorithm=alg, CiphertextBlob=b64(ct))
                cu.expect_eq(what + " %s Decrypt of a local ciphertext" % alg, b64(plaintext), dec.get("Plaintext"))
                enc = call("CertificatePublicKeyEncrypt", CertificateId=cid, Algorithm=alg, Plaintext=b64(plaintext))
                dec = call("CertificatePrivateKeyDecrypt", CertificateId=cid, Algorithm=alg,
                           CiphertextBlob=enc.get("CiphertextBlob"))
                cu.expect_eq(what + " %s Encrypt then Decrypt" % alg, b64(plaintext), dec.get("Plaintext"))
            if not enc_algs:
                error(what + " Encrypt with an EC_P256 certificate", "CertificatePublicKeyEncrypt",
                      "InvalidParameter", 400, CertificateId=cid, Algorithm="RSAES_OAEP_SHA_256",
                      Plaintext=b64(b"x"))
            state[spec] = (cid, cert)

        return run

    def revoked(st):
        cid, cert = state["EC_P256"]
        alg, sig = state["sig-EC_P256"]
        call("UpdateCertificateStatus", CertificateId=cid, Status="REVOKED")
        error(p + "Sign with a revoked certificate", "CertificatePrivateKeySign", "Rejected.CertificateNotActive",
              409, CertificateId=cid, Algorithm=alg, Message=b64(MESSAGE), MessageType="RAW")
        v = call("CertificatePublicKeyVerify", CertificateId=cid, Algorithm=alg, Message=b64(MESSAGE),
                 MessageType="RAW", SignatureValue=b64(sig))
        cu.expect_eq(p + "a revoked certificate still verifies", True, v.get("SignatureValid"))
        error(p + "REVOKED is final", "UpdateCertificateStatus", "Rejected.StateModifiedFailed", 409,
              CertificateId=cid, Status="ACTIVE")

    def refused_uploads(st):
        rsa_id, rsa_cert = state["RSA_2048"]
        _, p256_cert = state["EC_P256"]
        error(p + "Upload of another key's certificate", "UploadCertificate", "InvalidParameter", 400,
              CertificateId=rsa_id, Certificate=p256_cert)
        created = call("CreateCertificate", KeySpec="EC_P256", Subject=SUBJECT)
        cid = created["CertificateId"]
        expired = ca().issue("EC_P256", created["Csr"], expired=True)
        error(p + "Upload of an expired certificate", "UploadCertificate", "InvalidParameter", 400,
              CertificateId=cid, Certificate=expired)
        error(p + "Upload of a corrupt PEM", "UploadCertificate", "InvalidParameter", 400,
              CertificateId=rsa_id, Certificate=rsa_cert.replace("M", "A"))
        error(p + "Subject without C", "CreateCertificate", "InvalidParameter", 400,
              KeySpec="EC_P256", Subject="CN=a,OU=b,O=c")
        error(p + "11 SubjectAlternativeNames", "CreateCertificate", "InvalidParameter", 400, KeySpec="EC_P256",
              Subject=SUBJECT, SubjectAlternativeNames='["%s"]' % '","'.join("h%d.example.com" % i for i in range(11)))
        call("DeleteCertificate", CertificateId=cid)
        error(p + "Describe a deleted certificate", "DescribeCertificate", "Certificate.NotFound", 404,
              CertificateId=cid)

    out = [(p + "certificate flow " + spec, flow(spec, s, e)) for spec, s, e in SPECS]
    out += [(p + "revoked certificates only verify", revoked),
            (p + "refused uploads and requests", refused_uploads)]
    return out


def _sha256(data):
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()
