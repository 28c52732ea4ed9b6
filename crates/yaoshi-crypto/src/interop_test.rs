//! Cross-checks against independent implementations: Python `cryptography` (OpenSSL) for RSA
//! and ECDSA, and the `openssl` command for SM2PKE and SM2DSA. Each test is skipped (with a note
//! on stderr) when its tool is not installed.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use sha2::Digest;

use crate::sign_test::test_key;
use crate::{
    EncryptAlgorithm, KeyType, SignAlgorithm, asymmetric_decrypt, asymmetric_encrypt,
    public_key_pem, sign_digest, sm2_digest, verify_digest,
};

fn python() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("HOME")?).join(".cache/yaoshi-venv/bin/python3");
    path.exists().then_some(path)
}

/// Runs `program args` with `input` on stdin; returns stdout, or `None` if it cannot start.
fn run(program: &std::path::Path, args: &[&str], input: &str) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Lines of `key=hex` in, lines of `key=hex` out.
const PY_SCRIPT: &str = r#"
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, ec, utils
from cryptography.exceptions import InvalidSignature
inp = dict(l.split("=", 1) for l in sys.stdin.read().split())
h = lambda k: bytes.fromhex(inp[k])
out = {}
rsa = serialization.load_der_private_key(h("rsa_pkcs8"), None)
dig = h("digest")
pre = utils.Prehashed(hashes.SHA256())
pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
def ok(f):
    try:
        f(); return "01"
    except InvalidSignature:
        return "00"
out["our_pss_ok"] = ok(lambda: rsa.public_key().verify(h("rsa_pss"), dig, pss, pre))
out["our_pkcs1_ok"] = ok(lambda: rsa.public_key().verify(h("rsa_pkcs1"), dig, padding.PKCS1v15(), pre))
out["py_pss"] = rsa.sign(dig, pss, pre).hex()
out["py_pkcs1"] = rsa.sign(dig, padding.PKCS1v15(), pre).hex()
oaep = lambda H: padding.OAEP(mgf=padding.MGF1(H()), algorithm=H(), label=None)
out["our_oaep256_plain"] = rsa.decrypt(h("rsa_oaep256"), oaep(hashes.SHA256)).hex()
out["our_oaep1_plain"] = rsa.decrypt(h("rsa_oaep1"), oaep(hashes.SHA1)).hex()
out["py_oaep256"] = rsa.public_key().encrypt(h("plain"), oaep(hashes.SHA256)).hex()
out["py_oaep1"] = rsa.public_key().encrypt(h("plain"), oaep(hashes.SHA1)).hex()
for name, curve in (("p256", ec.SECP256R1()), ("k256", ec.SECP256K1())):
    key = ec.derive_private_key(int.from_bytes(h(name + "_d"), "big"), curve)
    out["our_" + name + "_ok"] = ok(lambda: key.public_key().verify(h(name + "_sig"), dig, ec.ECDSA(pre)))
    out["py_" + name] = key.sign(dig, ec.ECDSA(pre)).hex()
print("\n".join(k + "=" + v for k, v in out.items()))
"#;

#[test]
fn rsa_and_ecdsa_interoperate_with_python_cryptography() {
    let Some(python) = python() else {
        eprintln!("skipped: ~/.cache/yaoshi-venv/bin/python3 not found");
        return;
    };
    let rsa = test_key(KeyType::Rsa2048, false);
    let p256 = test_key(KeyType::EcP256, false);
    let k256 = test_key(KeyType::EcP256k, false);
    let digest: [u8; 32] = sha2::Sha256::digest(b"interop").into();
    let plain = b"data key 0123456789abcdef".to_vec();
    let sign = |kind, alg, key| hex::encode(sign_digest(kind, alg, key, &digest).unwrap());
    let encrypt =
        |alg| hex::encode(asymmetric_encrypt(KeyType::Rsa2048, alg, &rsa, &plain).unwrap());
    let input = [
        ("rsa_pkcs8", hex::encode(rsa.as_bytes())),
        ("digest", hex::encode(digest)),
        ("plain", hex::encode(&plain)),
        ("rsa_pss", sign(KeyType::Rsa2048, SignAlgorithm::RsaPssSha256, &rsa)),
        ("rsa_pkcs1", sign(KeyType::Rsa2048, SignAlgorithm::RsaPkcs1Sha256, &rsa)),
        ("rsa_oaep256", encrypt(EncryptAlgorithm::RsaesOaepSha256)),
        ("rsa_oaep1", encrypt(EncryptAlgorithm::RsaesOaepSha1)),
        ("p256_d", hex::encode(p256.as_bytes())),
        ("p256_sig", sign(KeyType::EcP256, SignAlgorithm::EcdsaSha256, &p256)),
        ("k256_d", hex::encode(k256.as_bytes())),
        ("k256_sig", sign(KeyType::EcP256k, SignAlgorithm::EcdsaSha256, &k256)),
    ]
    .map(|(k, v)| format!("{k}={v}"))
    .join("\n");
    let output = run(&python, &["-c", PY_SCRIPT], &input).expect("python runs");
    let get = |key: &str| -> Vec<u8> {
        let line = output.lines().find(|l| l.starts_with(&format!("{key}="))).unwrap();
        hex::decode(&line[key.len() + 1..]).unwrap()
    };
    // Python accepts ours.
    for key in ["our_pss_ok", "our_pkcs1_ok", "our_p256_ok", "our_k256_ok"] {
        assert_eq!(get(key), [1], "{key}");
    }
    assert_eq!(get("our_oaep256_plain"), plain);
    assert_eq!(get("our_oaep1_plain"), plain);
    // We accept Python's.
    let verify = |kind, alg, key, sig: &[u8]| verify_digest(kind, alg, key, &digest, sig).unwrap();
    assert!(verify(KeyType::Rsa2048, SignAlgorithm::RsaPssSha256, &rsa, &get("py_pss")));
    assert!(verify(KeyType::Rsa2048, SignAlgorithm::RsaPkcs1Sha256, &rsa, &get("py_pkcs1")));
    assert!(verify(KeyType::EcP256, SignAlgorithm::EcdsaSha256, &p256, &get("py_p256")));
    assert!(verify(KeyType::EcP256k, SignAlgorithm::EcdsaSha256, &k256, &get("py_k256")));
    for (key, alg) in [
        ("py_oaep256", EncryptAlgorithm::RsaesOaepSha256),
        ("py_oaep1", EncryptAlgorithm::RsaesOaepSha1),
    ] {
        let back = asymmetric_decrypt(KeyType::Rsa2048, alg, &rsa, &get(key)).unwrap();
        assert_eq!(&back[..], &plain[..], "{key}");
    }
}

/// A scratch directory for the openssl command's key and data files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir()
            .join(format!("yaoshi-crypto-{name}-{}", hex::encode(crate::random_bytes(8))));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, data: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, data).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(args: &[&str]) -> Option<std::process::Output> {
    Command::new("openssl").args(args).output().ok()
}

#[test]
fn sm2_interoperates_with_openssl() {
    use sm2::pkcs8::EncodePrivateKey;
    if openssl(&["version"]).is_none() {
        eprintln!("skipped: openssl not found");
        return;
    }
    let key = test_key(KeyType::EcSm2, false);
    let secret = sm2::SecretKey::from_slice(key.as_bytes()).unwrap();
    let private_pem = secret.to_pkcs8_pem(sm2::pkcs8::LineEnding::LF).unwrap();
    let scratch = Scratch::new("sm2");
    let private = scratch.write("private.pem", private_pem.as_bytes());
    let public =
        scratch.write("public.pem", public_key_pem(KeyType::EcSm2, &key).unwrap().as_bytes());
    let plain = scratch.write("plain.bin", b"SM2PKE interop with OpenSSL");

    // OpenSSL encrypts (GM/T 0009 DER); we decrypt.
    let ct_path = scratch.path("openssl.ct");
    let out = openssl(&[
        "pkeyutl", "-encrypt", "-pubin", "-inkey", &public, "-in", &plain, "-out", &ct_path,
    ])
    .unwrap();
    if !out.status.success() {
        eprintln!(
            "skipped: this openssl cannot SM2-encrypt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let ct = std::fs::read(&ct_path).unwrap();
    assert_eq!(ct[0], 0x30, "OpenSSL's SM2 ciphertext is DER");
    let back = asymmetric_decrypt(KeyType::EcSm2, EncryptAlgorithm::Sm2Pke, &key, &ct).unwrap();
    assert_eq!(&back[..], b"SM2PKE interop with OpenSSL");

    // We encrypt; OpenSSL decrypts.
    let ours =
        asymmetric_encrypt(KeyType::EcSm2, EncryptAlgorithm::Sm2Pke, &key, b"from yaoshi").unwrap();
    let ours_path = scratch.write("ours.ct", &ours);
    let out = openssl(&["pkeyutl", "-decrypt", "-inkey", &private, "-in", &ours_path]).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"from yaoshi");

    // SM2DSA: OpenSSL signs the message (computing Z_A with the default id); we verify over e.
    let message = b"SM2DSA interop with OpenSSL";
    let msg_path = scratch.write("msg.bin", message);
    let sig_path = scratch.path("openssl.sig");
    let out = openssl(&[
        "pkeyutl",
        "-sign",
        "-inkey",
        &private,
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:1234567812345678",
        "-in",
        &msg_path,
        "-out",
        &sig_path,
    ])
    .unwrap();
    if !out.status.success() {
        eprintln!("skipped SM2DSA part: {}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    let sig = std::fs::read(&sig_path).unwrap();
    let e = sm2_digest(&key, message).unwrap();
    assert_eq!(verify_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e, &sig), Ok(true));

    // We sign e; OpenSSL verifies the message.
    let ours = sign_digest(KeyType::EcSm2, SignAlgorithm::Sm2Dsa, &key, &e).unwrap();
    let ours_sig = scratch.write("ours.sig", &ours);
    let out = openssl(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        &public,
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        "distid:1234567812345678",
        "-in",
        &msg_path,
        "-sigfile",
        &ours_sig,
    ])
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
