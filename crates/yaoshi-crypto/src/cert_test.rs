//! Certificate requests and uploads: the rules, our own signature check, and the `openssl`
//! command as the independent side (it verifies our requests and plays the CA that signs them).

use std::path::Path;
use std::process::Command;

use crate::cert::{
    CertError, build_csr_pem, check_sans, check_upload, parse_csr, parse_subject,
    stored_certificate_fields,
};
use crate::sign_test::test_key;
use crate::{KeyType, SignAlgorithm, sha256, sm2_digest, verify_digest};

const SUBJECT: &str = "CN=app.example.com,OU=kms,O=Yaoshi,C=CN";

#[test]
fn subject_rules() {
    for ok in [
        SUBJECT,
        "CN=userName,OU=kms,O=aliyun,C=CN,ST=Zhejiang,L=Hangzhou",
        "CN=中文名,OU=研发,O=某公司,C=CN",
        "CN=a\\,b,OU=x,O=y,C=US",
    ] {
        assert!(parse_subject(ok).is_ok(), "{ok}: {:?}", parse_subject(ok));
    }
    for (bad, why) in [
        ("", "empty"),
        ("CN=a,OU=b,O=c", "C is required"),
        ("OU=b,O=c,C=CN", "CN is required"),
        ("CN=a,O=c,C=CN", "OU is required"),
        ("CN=a,OU=b,C=CN", "O is required"),
        ("CN=a,OU=b,O=c,C=China", "C must be a two-letter ISO 3166 code such as CN"),
        ("CN=a,OU=b,O=c,C=中国", "C must be a two-letter ISO 3166 code such as CN"),
        ("CN=a,OU=b,O=c,C=cn", "C must be a two-letter ISO 3166 code such as CN"),
        ("CN=a,CN=b,OU=b,O=c,C=CN", "an attribute appears twice"),
        ("CN=a,OU=b,O=c,C=CN,emailAddress=x@y", "only CN, C, O, OU, ST and L are allowed"),
        ("not a dn", "not an RFC 4514 DN"),
    ] {
        assert_eq!(parse_subject(bad).map(|_| ()), Err(CertError::Subject(why)), "{bad}");
    }
    let long = format!("CN={},OU=b,O=c,C=CN", "x".repeat(65));
    assert!(parse_subject(&long).is_err());
}

#[test]
fn san_rules() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(check_sans(&names(&["a.example.com", "*.example.com", "localhost"])).is_ok());
    let eleven: Vec<String> = (0..11).map(|i| format!("h{i}.example.com")).collect();
    assert!(check_sans(&eleven).is_err());
    assert!(check_sans(&eleven[..10]).is_ok());
    for bad in ["", "a..b", "-a.com", "a b.com", "中文.com", "a.com/x", "*.", "a.*.com"] {
        assert!(check_sans(&names(&[bad])).is_err(), "{bad:?}");
    }
    assert!(check_sans(&names(&["a.com", "A.com"])).is_err());
}

pub(crate) fn kinds() -> [KeyType; 3] {
    [KeyType::Rsa2048, KeyType::EcP256, KeyType::EcSm2]
}

#[test]
fn requests_carry_subject_key_and_names_and_verify_with_the_key() {
    let sans = vec!["app.example.com".to_string(), "*.app.example.com".to_string()];
    for kind in kinds() {
        let key = test_key(kind, false);
        let pem = build_csr_pem(kind, &key, SUBJECT, &sans).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"), "{pem}");
        let csr = parse_csr(&pem).unwrap();
        assert_eq!(csr.info.subject.to_string(), SUBJECT);
        let tbs = crate::cert::csr_signed_bytes(&csr);
        let (alg, digest) = match kind {
            KeyType::Rsa2048 => (SignAlgorithm::RsaPkcs1Sha256, sha256(&tbs)),
            KeyType::EcP256 => (SignAlgorithm::EcdsaSha256, sha256(&tbs)),
            _ => (SignAlgorithm::Sm2Dsa, sm2_digest(&key, &tbs).unwrap()),
        };
        let sig = csr.signature.raw_bytes();
        assert!(verify_digest(kind, alg, &key, &digest, sig).unwrap(), "{kind:?}");
        // Another key's request does not verify with this key.
        let other = build_csr_pem(kind, &test_key(kind, true), SUBJECT, &[]).unwrap();
        let other = parse_csr(&other).unwrap();
        let other_tbs = crate::cert::csr_signed_bytes(&other);
        let other_digest = match kind {
            KeyType::EcSm2 => sm2_digest(&key, &other_tbs).unwrap(),
            _ => sha256(&other_tbs),
        };
        assert!(
            !verify_digest(kind, alg, &key, &other_digest, other.signature.raw_bytes()).unwrap()
        );
    }
    assert!(
        build_csr_pem(
            KeyType::Aes256,
            &crate::generate_key(KeyType::Aes256).unwrap(),
            SUBJECT,
            &[]
        )
        .is_err()
    );
}

pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("openssl does not run: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A root CA and an intermediate it signed (P-256), in `dir`.
pub(crate) fn make_cas(dir: &Path) {
    let ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
    std::fs::write(dir.join("ca.ext"), ext).unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-subj",
            "/C=CN/O=Yaoshi Test/CN=Test Root",
            "-days",
            "30",
        ],
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "inter.key",
            "-out",
            "inter.csr",
            "-subj",
            "/C=CN/O=Yaoshi Test/CN=Test Intermediate",
        ],
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "inter.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            "2",
            "-days",
            "30",
            "-extfile",
            "ca.ext",
            "-out",
            "inter.pem",
        ],
    )
    .unwrap();
}

/// Our request for `kind`, verified by `openssl req -verify`, then signed by the intermediate.
pub(crate) fn issue(dir: &Path, kind: KeyType, key: &crate::KeyMaterial, name: &str) -> String {
    let sans = vec!["app.example.com".to_string()];
    let csr = build_csr_pem(kind, key, SUBJECT, &sans).unwrap();
    let csr_file = format!("{name}.csr");
    std::fs::write(dir.join(&csr_file), &csr).unwrap();
    let mut verify = vec!["req", "-in", csr_file.as_str(), "-verify", "-noout"];
    if kind == KeyType::EcSm2 {
        verify.extend(["-vfyopt", "distid:1234567812345678"]);
    }
    openssl(dir, &verify)
        .unwrap_or_else(|e| panic!("openssl refuses our {kind:?} request: {e}\n{csr}"));
    let out = format!("{name}.pem");
    let mut sign = vec![
        "x509",
        "-req",
        "-in",
        &csr_file,
        "-CA",
        "inter.pem",
        "-CAkey",
        "inter.key",
        "-set_serial",
        "0x1234abcd",
        "-days",
        "10",
        "-copy_extensions",
        "copy",
        "-out",
        &out,
    ];
    if kind == KeyType::EcSm2 {
        sign.extend(["-vfyopt", "distid:1234567812345678"]);
    }
    openssl(dir, &sign)
        .unwrap_or_else(|e| panic!("openssl does not sign our {kind:?} request: {e}"));
    std::fs::read_to_string(dir.join(out)).unwrap()
}

#[test]
fn openssl_verifies_our_requests_and_uploads_of_its_certificates_are_checked() {
    if openssl(Path::new("."), &["version"]).is_err() {
        panic!("the openssl command is required (.ci/setup installs it)");
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make_cas(dir);
    let root = std::fs::read_to_string(dir.join("root.pem")).unwrap();
    let inter = std::fs::read_to_string(dir.join("inter.pem")).unwrap();
    let chain = format!("{inter}{root}");
    for kind in kinds() {
        let key = test_key(kind, false);
        let cert = issue(dir, kind, &key, &format!("{kind:?}"));
        // This crate reads no clock: "now" is a minute into the certificate's validity.
        let now_ms = stored_certificate_fields(&cert).unwrap().not_before_ms + 60_000;
        let checked = check_upload(kind, &key, &cert, Some(&chain), now_ms).unwrap();
        let f = &checked.fields;
        assert_eq!(f.subject, SUBJECT);
        assert_eq!(f.issuer, "CN=Test Intermediate,O=Yaoshi Test,C=CN");
        assert_eq!(f.serial, "1234abcd");
        assert_eq!(f.signature_algorithm, "ECDSA-SHA256");
        assert_eq!(f.sans, vec!["app.example.com".to_string()]);
        assert_eq!(f.not_after_ms - f.not_before_ms, 10 * 86_400_000, "{f:?}");
        assert_eq!(f.subject_key_identifier.len(), 20 * 3 - 1, "{f:?}");
        assert!(checked.chain_pem.matches("BEGIN CERTIFICATE").count() == 2);
        // Without a chain; with the chain upside down; a certificate of another key.
        assert!(check_upload(kind, &key, &cert, None, now_ms).is_ok());
        let upside_down = format!("{root}{inter}");
        assert_eq!(
            check_upload(kind, &key, &cert, Some(&upside_down), now_ms).map(|_| ()),
            Err(CertError::ChainOrder(1))
        );
        let other = test_key(kind, true);
        assert_eq!(
            check_upload(kind, &other, &cert, None, now_ms).map(|_| ()),
            Err(CertError::KeyMismatch)
        );
        // Past its NotAfter.
        let later = f.not_after_ms + 1;
        assert_eq!(
            check_upload(kind, &key, &cert, None, later).map(|_| ()),
            Err(CertError::Expired)
        );
    }
    // Not one certificate.
    let key = test_key(KeyType::EcP256, false);
    let cert = issue(dir, KeyType::EcP256, &key, "p256-again");
    let now_ms = stored_certificate_fields(&cert).unwrap().not_before_ms + 60_000;
    for bad in [
        String::new(),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".to_string(),
        cert.replace('A', "B"),
        format!("{cert}{cert}"),
        cert[..cert.len() / 2].to_string(),
    ] {
        assert_eq!(
            check_upload(KeyType::EcP256, &key, &bad, None, now_ms).map(|_| ()),
            Err(CertError::Certificate)
        );
    }
    assert_eq!(
        check_upload(KeyType::EcP256, &key, &cert, Some("garbage"), now_ms).map(|_| ()),
        Err(CertError::Chain)
    );
}
