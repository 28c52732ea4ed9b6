//! PKCS#12 import and export, with the `openssl` command as the independent side: it reads our
//! PKCS#12 files and encrypted PEM keys, and it writes the PKCS#12 files we import.

use std::path::Path;

use crate::cert::{CertError, stored_certificate_fields};
use crate::cert_test::{issue, kinds, make_cas, openssl};
use crate::pkcs12::{Pkcs12Error, export_pkcs12, export_private_key_pem, import_pkcs12};
use crate::sign_test::test_key;
use crate::{KeyType, public_key_pem};

const PASSWORD: &str = "correct horse battery";

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

#[test]
fn openssl_reads_our_exports_and_we_import_what_openssl_writes() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make_cas(dir);
    let chain = format!("{}{}", read(dir, "inter.pem"), read(dir, "root.pem"));
    let pass = format!("pass:{PASSWORD}");
    for kind in kinds() {
        let name = format!("{kind:?}");
        let key = test_key(kind, false);
        let public = public_key_pem(kind, &key).unwrap();
        let cert = issue(dir, kind, &key, &name);
        let now_ms = stored_certificate_fields(&cert).unwrap().not_before_ms + 60_000;

        // Our PKCS#12: openssl opens it, finds our key (its public half) and all three
        // certificates; and we read it back to the same key.
        let p12 = export_pkcs12(kind, &key, &cert, Some(&chain), PASSWORD, "app").unwrap();
        std::fs::write(dir.join(format!("{name}.p12")), &p12).unwrap();
        let opened =
            openssl(dir, &["pkcs12", "-in", &format!("{name}.p12"), "-passin", &pass, "-noenc"])
                .unwrap_or_else(|e| panic!("openssl refuses our {kind:?} PKCS#12: {e}"));
        assert_eq!(opened.matches("BEGIN CERTIFICATE").count(), 3, "{kind:?}");
        assert!(!opened.contains("BEGIN ENCRYPTED"), "{kind:?}");
        std::fs::write(dir.join(format!("{name}.clear.pem")), &opened).unwrap();
        let their_public =
            openssl(dir, &["pkey", "-in", &format!("{name}.clear.pem"), "-pubout"]).unwrap();
        assert_eq!(their_public.trim(), public.trim(), "{kind:?}");
        let back = import_pkcs12(&p12, PASSWORD, now_ms).unwrap();
        assert_eq!(back.kind, kind);
        assert_eq!(back.material.as_bytes(), key.as_bytes(), "{kind:?}");
        assert_eq!(back.upload.chain_pem.matches("BEGIN CERTIFICATE").count(), 2);
        assert_eq!(
            import_pkcs12(&p12, "wrong password", now_ms).map(|_| ()),
            Err(Pkcs12Error::Unreadable)
        );

        // Our encrypted PEM: openssl decrypts it with the password (and not without).
        let pem = export_private_key_pem(kind, &key, PASSWORD).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), "{pem}");
        let key_file = format!("{name}.key.pem");
        std::fs::write(dir.join(&key_file), &pem).unwrap();
        let decrypted =
            openssl(dir, &["pkey", "-in", &key_file, "-passin", &pass, "-pubout"]).unwrap();
        assert_eq!(decrypted.trim(), public.trim(), "{kind:?}");
        assert!(openssl(dir, &["pkey", "-in", &key_file, "-passin", "pass:wrong-pass"]).is_err());

        // openssl's PKCS#12 (its defaults: PBES2, AES-256-CBC, HMAC-SHA-256) of that key, the
        // certificate and the chain imports to the same key and certificate.
        let theirs = format!("{name}.openssl.p12");
        std::fs::write(dir.join("chain.pem"), &chain).unwrap();
        openssl(
            dir,
            &[
                "pkcs12",
                "-export",
                "-inkey",
                &key_file,
                "-passin",
                &pass,
                "-in",
                &format!("{name}.pem"),
                "-certfile",
                "chain.pem",
                "-passout",
                &pass,
                "-out",
                &theirs,
            ],
        )
        .unwrap_or_else(|e| panic!("openssl does not export {kind:?}: {e}"));
        let imported =
            import_pkcs12(&std::fs::read(dir.join(&theirs)).unwrap(), PASSWORD, now_ms).unwrap();
        assert_eq!(imported.kind, kind);
        assert_eq!(imported.material.as_bytes(), key.as_bytes(), "{kind:?}");
        assert_eq!(
            imported.upload.fields.subject,
            stored_certificate_fields(&cert).unwrap().subject
        );
        // Past the certificate's NotAfter the same file is refused as expired.
        let later = stored_certificate_fields(&cert).unwrap().not_after_ms + 1;
        assert_eq!(
            import_pkcs12(&std::fs::read(dir.join(&theirs)).unwrap(), PASSWORD, later).map(|_| ()),
            Err(Pkcs12Error::Certificate(CertError::Expired))
        );
    }
}

#[test]
fn imports_refuse_other_keys_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let pass = format!("pass:{PASSWORD}");
    // A self-signed RSA-3072 certificate: a key spec certificates do not have.
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:3072",
            "-noenc",
            "-keyout",
            "big.key",
            "-out",
            "big.pem",
            "-subj",
            "/C=CN/O=T/OU=T/CN=big",
            "-days",
            "2",
        ],
    )
    .unwrap();
    openssl(
        dir,
        &[
            "pkcs12", "-export", "-inkey", "big.key", "-in", "big.pem", "-passout", &pass, "-out",
            "big.p12",
        ],
    )
    .unwrap();
    let big = std::fs::read(dir.join("big.p12")).unwrap();
    let now_ms = stored_certificate_fields(&read(dir, "big.pem")).unwrap().not_before_ms + 1;
    assert_eq!(import_pkcs12(&big, PASSWORD, now_ms).map(|_| ()), Err(Pkcs12Error::KeySpec));
    // Certificates only, no key.
    openssl(
        dir,
        &["pkcs12", "-export", "-nokeys", "-in", "big.pem", "-passout", &pass, "-out", "nokey.p12"],
    )
    .unwrap();
    let nokey = std::fs::read(dir.join("nokey.p12")).unwrap();
    assert_eq!(import_pkcs12(&nokey, PASSWORD, now_ms).map(|_| ()), Err(Pkcs12Error::NoKey));
    // Garbage, a truncated file, a flipped byte, an oversized file.
    let mut flipped = big.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 1;
    for bad in [
        Vec::new(),
        b"not pkcs12".to_vec(),
        big[..big.len() / 2].to_vec(),
        flipped,
        vec![0x30; 70_000],
    ] {
        assert!(import_pkcs12(&bad, PASSWORD, now_ms).is_err());
    }
    // Export passwords: 8 to 128 characters.
    let key = test_key(KeyType::EcP256, false);
    assert_eq!(
        export_private_key_pem(KeyType::EcP256, &key, "short").map(|_| ()),
        Err(Pkcs12Error::Password)
    );
    assert_eq!(
        export_private_key_pem(KeyType::EcP256, &key, &"x".repeat(129)).map(|_| ()),
        Err(Pkcs12Error::Password)
    );
}
