//! Certificates through signed HTTP on a dev node, with the `openssl` command as the CA and as
//! the independent verifier: for RSA_2048, EC_P256 and EC_SM2, CreateCertificate's request is
//! verified and signed by a test CA, uploaded with its chain, and then the certificate signs
//! (checked by openssl against the certificate), verifies, encrypts and decrypts; status changes
//! gate those operations; bad input is a coded 4xx.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use yaoshi_client::{Client, Response};

use crate::support::{NodeProcess, assert_api_error, must_be_ready, must_call};

const SUBJECT: &str = "CN=app.example.com,OU=kms,O=Yaoshi,C=CN";

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A root CA and an intermediate (P-256) in `dir`.
pub(crate) fn make_cas(dir: &Path) -> (String, String) {
    std::fs::write(dir.join("ca.ext"), "basicConstraints=critical,CA:TRUE\n").unwrap();
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
            "/C=CN/O=Test CA/CN=Test Root",
            "-days",
            "30",
        ],
    );
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
            "/C=CN/O=Test CA/CN=Test Issuing CA",
        ],
    );
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
            "7",
            "-days",
            "30",
            "-extfile",
            "ca.ext",
            "-out",
            "inter.pem",
        ],
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    (read("root.pem"), read("inter.pem"))
}

/// The CA's certificate for the request `csr` (saved as `<name>.pem`).
pub(crate) fn sign_request(dir: &Path, name: &str, csr: &str, sm2: bool) -> String {
    let (csr_file, out) = (format!("{name}.csr"), format!("{name}.pem"));
    std::fs::write(dir.join(&csr_file), csr).unwrap();
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        csr_file.as_str(),
        "-CA",
        "inter.pem",
        "-CAkey",
        "inter.key",
        "-set_serial",
        "0x5eed",
        "-days",
        "10",
        "-copy_extensions",
        "copy",
        "-out",
        out.as_str(),
    ];
    if sm2 {
        args.extend(["-vfyopt", "distid:1234567812345678"]);
    }
    openssl(dir, &args);
    std::fs::read_to_string(dir.join(out)).unwrap()
}

/// openssl's verdict on `signature` over `message` with the certificate's public key.
pub(crate) fn openssl_verifies(
    dir: &Path,
    name: &str,
    message: &[u8],
    signature: &[u8],
    spec: &str,
) -> bool {
    std::fs::write(dir.join("msg.bin"), message).unwrap();
    std::fs::write(dir.join("sig.bin"), signature).unwrap();
    let public = openssl(dir, &["x509", "-in", &format!("{name}.pem"), "-pubkey", "-noout"]);
    std::fs::write(dir.join("pub.pem"), public).unwrap();
    let mut args = vec!["dgst", "-verify", "pub.pem", "-signature", "sig.bin"];
    args.push(if spec == "EC_SM2" { "-sm3" } else { "-sha256" });
    if spec == "EC_SM2" {
        args.extend(["-sigopt", "distid:1234567812345678"]);
    }
    args.push("msg.bin");
    Command::new("openssl").args(&args).current_dir(dir).output().unwrap().status.success()
}

/// A ready dev node and a test CA (root and intermediate PEMs in `<dir>/ca`).
struct Fixture {
    dir: tempfile::TempDir,
    node: NodeProcess,
    root: String,
    inter: String,
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let node = NodeProcess::dev(&dir.path().join("node"));
        must_be_ready(&node.client(), Duration::from_secs(30)).await;
        let ca = dir.path().join("ca");
        std::fs::create_dir_all(&ca).unwrap();
        let (root, inter) = make_cas(&ca);
        Fixture { dir, node, root, inter }
    }

    fn ca(&self) -> std::path::PathBuf {
        self.dir.path().join("ca")
    }
}

async fn call(c: &Client, action: &str, params: &[(&str, &str)]) -> Response {
    c.call(action, params).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn certificates_from_request_to_revocation_for_each_key_spec() {
    let fx = Fixture::start().await;
    let (c, ca, root, inter) = (fx.node.client(), fx.ca(), &fx.root, &fx.inter);
    let chain = format!("{inter}{root}");

    let mut ids = Vec::new();
    for (spec, sign_alg, enc_alg) in [
        ("RSA_2048", "RSA_PKCS1_SHA_256", Some("RSAES_OAEP_SHA_256")),
        ("EC_P256", "ECDSA_SHA_256", None),
        ("EC_SM2", "SM2DSA", Some("SM2PKE")),
    ] {
        let created = must_call(
            &c,
            "CreateCertificate",
            &[
                ("KeySpec", spec),
                ("Subject", SUBJECT),
                ("SubjectAlternativeNames", r#"["app.example.com","*.app.example.com"]"#),
                ("ExportablePrivateKey", "false"),
            ],
        )
        .await;
        let id = created.str("CertificateId").unwrap().to_string();
        assert!(created.str("Arn").unwrap().ends_with(&format!(":certificate/{id}")));
        let csr = created.str("Csr").unwrap().to_string();
        let pending = must_call(&c, "DescribeCertificate", &[("CertificateId", &id)]).await;
        assert_eq!(pending.str("Status"), Some("PENDING"), "{:?}", pending.body);
        assert_eq!(pending.str("KeySpec"), Some(spec));
        assert_eq!(pending.body["ExportablePrivateKey"], false);
        let message = B64.encode(b"certificate message");
        let sign = [("CertificateId", id.as_str()), ("Algorithm", sign_alg), ("Message", &message)];
        assert_api_error(
            &call(&c, "CertificatePrivateKeySign", &sign).await,
            409,
            "Rejected.CertificateNotActive",
        );

        // The CA verifies and signs the request; the upload needs the chain in order.
        let name = spec.to_lowercase();
        let cert = sign_request(&ca, &name, &csr, spec == "EC_SM2");
        let upside_down = format!("{root}{inter}");
        let bad_chain = [
            ("CertificateId", id.as_str()),
            ("Certificate", &cert),
            ("CertificateChain", &upside_down),
        ];
        assert_api_error(&call(&c, "UploadCertificate", &bad_chain).await, 400, "InvalidParameter");
        let upload =
            [("CertificateId", id.as_str()), ("Certificate", &cert), ("CertificateChain", &chain)];
        must_call(&c, "UploadCertificate", &upload).await;
        let d = must_call(&c, "DescribeCertificate", &[("CertificateId", &id)]).await;
        assert_eq!(d.str("Status"), Some("ACTIVE"), "{:?}", d.body);
        assert_eq!(d.str("Subject"), Some(SUBJECT));
        assert_eq!(d.str("Issuer"), Some("CN=Test Issuing CA,O=Test CA,C=CN"));
        assert_eq!(d.str("Serial"), Some("5eed"));
        assert_eq!(d.str("SignatureAlgorithm"), Some("ECDSA-SHA256"));
        assert_eq!(
            d.body["SubjectAlternativeNames"],
            serde_json::json!(["app.example.com", "*.app.example.com"])
        );
        assert!(d.str("SubjectPublicKey").unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
        assert!(
            d.str("NotBefore").is_some()
                && d.str("NotAfter").is_some()
                && d.str("SubjectKeyIdentifier").is_some()
        );
        let got = must_call(&c, "GetCertificate", &[("CertificateId", &id)]).await;
        assert_eq!(got.str("Csr"), Some(csr.as_str()));
        assert!(got.str("Certificate").unwrap().contains("BEGIN CERTIFICATE"));
        assert_eq!(got.str("CertificateChain").unwrap().matches("BEGIN CERTIFICATE").count(), 2);

        // Sign RAW: openssl verifies it against the certificate; so does the server, and a
        // changed message does not verify. DIGEST signs the precomputed digest.
        let signed = must_call(&c, "CertificatePrivateKeySign", &sign).await;
        let signature = signed.str("SignatureValue").unwrap().to_string();
        let sig_bytes = B64.decode(&signature).unwrap();
        assert!(openssl_verifies(&ca, &name, b"certificate message", &sig_bytes, spec), "{spec}");
        assert!(!openssl_verifies(&ca, &name, b"another message", &sig_bytes, spec), "{spec}");
        for (m, expected) in [(message.clone(), true), (B64.encode(b"another message"), false)] {
            let params = [
                ("CertificateId", id.as_str()),
                ("Algorithm", sign_alg),
                ("Message", m.as_str()),
                ("SignatureValue", signature.as_str()),
            ];
            let v = must_call(&c, "CertificatePublicKeyVerify", &params).await;
            assert_eq!(v.body["SignatureValid"], expected, "{spec}: {:?}", v.body);
        }
        if spec != "EC_SM2" {
            use sha2::Digest;
            let digest = B64.encode(sha2::Sha256::digest(b"certificate message"));
            let by_digest = [
                ("CertificateId", id.as_str()),
                ("Algorithm", sign_alg),
                ("Message", &digest),
                ("MessageType", "DIGEST"),
            ];
            let s = must_call(&c, "CertificatePrivateKeySign", &by_digest).await;
            let sig = B64.decode(s.str("SignatureValue").unwrap()).unwrap();
            assert!(
                openssl_verifies(&ca, &name, b"certificate message", &sig, spec),
                "{spec} DIGEST"
            );
        }
        let big = B64.encode(vec![7u8; 4096]);
        let too_big = [("CertificateId", id.as_str()), ("Algorithm", sign_alg), ("Message", &big)];
        assert_api_error(
            &call(&c, "CertificatePrivateKeySign", &too_big).await,
            400,
            "InvalidParameter",
        );
        let wrong_alg =
            [("CertificateId", id.as_str()), ("Algorithm", "SM2DSA"), ("Message", &message)];
        if spec != "EC_SM2" {
            assert_api_error(
                &call(&c, "CertificatePrivateKeySign", &wrong_alg).await,
                400,
                "InvalidParameter",
            );
        }

        // Encrypt with the certificate's public key, decrypt with its private key.
        let plaintext = B64.encode(b"data key bytes");
        match enc_alg {
            Some(alg) => {
                let e = must_call(
                    &c,
                    "CertificatePublicKeyEncrypt",
                    &[("CertificateId", &id), ("Algorithm", alg), ("Plaintext", &plaintext)],
                )
                .await;
                let blob = e.str("CiphertextBlob").unwrap();
                let d = must_call(
                    &c,
                    "CertificatePrivateKeyDecrypt",
                    &[("CertificateId", &id), ("Algorithm", alg), ("CiphertextBlob", blob)],
                )
                .await;
                assert_eq!(d.str("Plaintext"), Some(plaintext.as_str()), "{spec}");
            }
            None => {
                let e = call(
                    &c,
                    "CertificatePublicKeyEncrypt",
                    &[
                        ("CertificateId", &id),
                        ("Algorithm", "RSAES_OAEP_SHA_256"),
                        ("Plaintext", &plaintext),
                    ],
                )
                .await;
                assert_api_error(&e, 400, "InvalidParameter");
            }
        }
        ids.push((spec, id, cert, sign_alg, message, signature));
    }

    // Status: INACTIVE refuses everything, REVOKED only verifies and is final.
    let (_, id, _, sign_alg, message, signature) = &ids[1];
    let sign =
        [("CertificateId", id.as_str()), ("Algorithm", *sign_alg), ("Message", message.as_str())];
    let verify = [
        ("CertificateId", id.as_str()),
        ("Algorithm", *sign_alg),
        ("Message", message.as_str()),
        ("SignatureValue", signature.as_str()),
    ];
    must_call(&c, "UpdateCertificateStatus", &[("CertificateId", id), ("Status", "INACTIVE")])
        .await;
    assert_api_error(
        &call(&c, "CertificatePrivateKeySign", &sign).await,
        409,
        "Rejected.CertificateNotActive",
    );
    assert_api_error(
        &call(&c, "CertificatePublicKeyVerify", &verify).await,
        409,
        "Rejected.CertificateNotActive",
    );
    must_call(&c, "UpdateCertificateStatus", &[("CertificateId", id), ("Status", "ACTIVE")]).await;
    must_call(&c, "CertificatePrivateKeySign", &sign).await;
    must_call(&c, "UpdateCertificateStatus", &[("CertificateId", id), ("Status", "REVOKED")]).await;
    assert_api_error(
        &call(&c, "CertificatePrivateKeySign", &sign).await,
        409,
        "Rejected.CertificateNotActive",
    );
    let v = must_call(&c, "CertificatePublicKeyVerify", &verify).await;
    assert_eq!(v.body["SignatureValid"], true);
    let back =
        call(&c, "UpdateCertificateStatus", &[("CertificateId", id), ("Status", "ACTIVE")]).await;
    assert_api_error(&back, 409, "Rejected.StateModifiedFailed");
    let bad_status =
        call(&c, "UpdateCertificateStatus", &[("CertificateId", id), ("Status", "PENDING")]).await;
    assert_api_error(&bad_status, 400, "InvalidParameter");

    // Another key's certificate is refused; a corrupt PEM is refused.
    let (_, rsa_id, ..) = &ids[0];
    let (_, _, p256_cert, ..) = &ids[1];
    let mismatch = [("CertificateId", rsa_id.as_str()), ("Certificate", p256_cert.as_str())];
    assert_api_error(&call(&c, "UploadCertificate", &mismatch).await, 400, "InvalidParameter");
    let corrupt = p256_cert.replace('M', "m");
    let corrupt = [("CertificateId", rsa_id.as_str()), ("Certificate", corrupt.as_str())];
    assert_api_error(&call(&c, "UploadCertificate", &corrupt).await, 400, "InvalidParameter");

    // Tags on certificates.
    let tags = r#"[{"TagKey":"team","TagValue":"pay"}]"#;
    must_call(&c, "TagResource", &[("CertificateId", rsa_id), ("Tags", tags)]).await;
    let listed = must_call(&c, "ListResourceTags", &[("CertificateId", rsa_id)]).await;
    assert_eq!(listed.body["Tags"]["Tag"][0]["TagValue"], "pay");
    let d = must_call(&c, "DescribeCertificate", &[("CertificateId", rsa_id)]).await;
    assert_eq!(d.body["Tags"]["Tag"][0]["TagKey"], "team");

    // Bad requests: coded 4xx.
    for (params, status, code) in [
        (vec![("KeySpec", "RSA_3072"), ("Subject", SUBJECT)], 400, "InvalidParameter"),
        (vec![("KeySpec", "EC_P256"), ("Subject", "CN=a,OU=b,O=c")], 400, "InvalidParameter"),
        (
            vec![("KeySpec", "EC_P256"), ("Subject", "CN=a,OU=b,O=c,C=中国")],
            400,
            "InvalidParameter",
        ),
        (vec![("KeySpec", "EC_P256"), ("Subject", "garbage")], 400, "InvalidParameter"),
        (
            vec![
                ("KeySpec", "EC_P256"),
                ("Subject", SUBJECT),
                (
                    "SubjectAlternativeNames",
                    r#"["a1.x","a2.x","a3.x","a4.x","a5.x","a6.x","a7.x","a8.x","a9.x","a10.x","a11.x"]"#,
                ),
            ],
            400,
            "InvalidParameter",
        ),
        (
            vec![
                ("KeySpec", "EC_P256"),
                ("Subject", SUBJECT),
                ("SubjectAlternativeNames", "not json"),
            ],
            400,
            "InvalidParameter",
        ),
        (vec![("KeySpec", "EC_P256")], 400, "MissingParameter"),
    ] {
        assert_api_error(&call(&c, "CreateCertificate", &params).await, status, code);
    }
    // A Chinese organization name is a valid DN (UTF8String).
    let chinese = must_call(
        &c,
        "CreateCertificate",
        &[("KeySpec", "EC_SM2"), ("Subject", "CN=服务,OU=研发部,O=某某公司,C=CN")],
    )
    .await;
    let chinese_id = chinese.str("CertificateId").unwrap();
    let d = must_call(&c, "DescribeCertificate", &[("CertificateId", chinese_id)]).await;
    assert_eq!(d.str("Subject"), Some("CN=服务,OU=研发部,O=某某公司,C=CN"));

    // Deletion.
    must_call(&c, "DeleteCertificate", &[("CertificateId", rsa_id)]).await;
    for action in ["DescribeCertificate", "GetCertificate", "DeleteCertificate"] {
        assert_api_error(
            &call(&c, action, &[("CertificateId", rsa_id)]).await,
            404,
            "Certificate.NotFound",
        );
    }
    assert_api_error(
        &call(&c, "ListResourceTags", &[("CertificateId", rsa_id)]).await,
        404,
        "Certificate.NotFound",
    );
}

/// openssl's public key of a key or certificate file.
fn public_of(dir: &Path, args: &[&str]) -> String {
    openssl(dir, args)
}

#[tokio::test(flavor = "multi_thread")]
async fn pkcs12_files_import_and_exportable_keys_export() {
    let fx = Fixture::start().await;
    let (c, ca, root, inter) = (fx.node.client(), fx.ca(), &fx.root, &fx.inter);
    std::fs::write(ca.join("chain.pem"), format!("{inter}{root}")).unwrap();
    let pass = "pass:p12 password";
    for (spec, genpkey, sign_alg) in [
        (
            "RSA_2048",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
            "RSA_PSS_SHA_256",
        ),
        (
            "EC_P256",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
            "ECDSA_SHA_256",
        ),
        ("EC_SM2", &["-algorithm", "SM2"][..], "SM2DSA"),
    ] {
        // An existing key and certificate, made outside the KMS, in a PKCS#12 file.
        let name = format!("imported-{}", spec.to_lowercase());
        let key_file = format!("{name}.key");
        let mut args = vec!["genpkey"];
        args.extend(genpkey);
        args.extend(["-out", &key_file]);
        openssl(&ca, &args);
        let csr = format!("{name}.req");
        let mut req =
            vec!["req", "-new", "-key", &key_file, "-subj", "/C=CN/O=Yaoshi/OU=kms/CN=imported"];
        if spec == "EC_SM2" {
            req.extend(["-sm3", "-sigopt", "distid:1234567812345678"]);
        }
        req.extend(["-out", &csr]);
        openssl(&ca, &req);
        let csr_pem = std::fs::read_to_string(ca.join(&csr)).unwrap();
        sign_request(&ca, &name, &csr_pem, spec == "EC_SM2");
        let p12 = format!("{name}.p12");
        openssl(
            &ca,
            &[
                "pkcs12",
                "-export",
                "-inkey",
                &key_file,
                "-in",
                &format!("{name}.pem"),
                "-certfile",
                "chain.pem",
                "-passout",
                pass,
                "-out",
                &p12,
            ],
        );
        let file = B64.encode(std::fs::read(ca.join(&p12)).unwrap());
        let wrong = [("Pkcs12", file.as_str()), ("PrivateKeyPassword", "not the password")];
        assert_api_error(&call(&c, "ImportCertificate", &wrong).await, 400, "InvalidParameter");
        let garbage = [("Pkcs12", "bm90IGEgZmlsZQ=="), ("PrivateKeyPassword", "p12 password")];
        assert_api_error(&call(&c, "ImportCertificate", &garbage).await, 400, "InvalidParameter");
        let imported = must_call(
            &c,
            "ImportCertificate",
            &[("Pkcs12", &file), ("PrivateKeyPassword", "p12 password")],
        )
        .await;
        assert_eq!(imported.str("Status"), Some("ACTIVE"), "{:?}", imported.body);
        assert_eq!(imported.str("KeySpec"), Some(spec));
        let id = imported.str("CertificateId").unwrap().to_string();
        let d = must_call(&c, "DescribeCertificate", &[("CertificateId", &id)]).await;
        assert_eq!(d.str("Subject"), Some("CN=imported,OU=kms,O=Yaoshi,C=CN"), "{:?}", d.body);
        assert_eq!(d.body["ExportablePrivateKey"], true);
        let got = must_call(&c, "GetCertificate", &[("CertificateId", &id)]).await;
        assert_eq!(got.str("CertificateChain").unwrap().matches("BEGIN CERTIFICATE").count(), 2);

        // The imported key signs; openssl verifies against the certificate.
        let message = B64.encode(b"imported key signs");
        let signed = must_call(
            &c,
            "CertificatePrivateKeySign",
            &[("CertificateId", &id), ("Algorithm", sign_alg), ("Message", &message)],
        )
        .await;
        let sig = B64.decode(signed.str("SignatureValue").unwrap()).unwrap();
        if sign_alg != "RSA_PSS_SHA_256" {
            assert!(openssl_verifies(&ca, &name, b"imported key signs", &sig, spec), "{spec}");
        }
        let verified = must_call(
            &c,
            "CertificatePublicKeyVerify",
            &[
                ("CertificateId", &id),
                ("Algorithm", sign_alg),
                ("Message", &message),
                ("SignatureValue", &B64.encode(&sig)),
            ],
        )
        .await;
        assert_eq!(verified.body["SignatureValid"], true);

        // Export as PKCS#12 and as encrypted PEM: openssl opens both with the password, and
        // finds the very key that was imported.
        let original = public_of(&ca, &["pkey", "-in", &key_file, "-pubout"]);
        let short = [("CertificateId", id.as_str()), ("PrivateKeyPassword", "short")];
        assert_api_error(&call(&c, "ExportCertificate", &short).await, 400, "InvalidParameter");
        let exported = must_call(
            &c,
            "ExportCertificate",
            &[("CertificateId", &id), ("PrivateKeyPassword", "export password")],
        )
        .await;
        let out = format!("{name}.exported.p12");
        std::fs::write(ca.join(&out), B64.decode(exported.str("Pkcs12").unwrap()).unwrap())
            .unwrap();
        let opened = openssl(
            &ca,
            &["pkcs12", "-in", &out, "-passin", "pass:export password", "-noenc", "-nocerts"],
        );
        std::fs::write(ca.join(format!("{name}.opened.pem")), opened).unwrap();
        let from_p12 = public_of(&ca, &["pkey", "-in", &format!("{name}.opened.pem"), "-pubout"]);
        assert_eq!(from_p12, original, "{spec}");
        let pem = must_call(
            &c,
            "ExportCertificate",
            &[
                ("CertificateId", &id),
                ("ExportFormat", "PEM"),
                ("PrivateKeyPassword", "export password"),
            ],
        )
        .await;
        let key_pem = pem.str("PrivateKey").unwrap();
        assert!(key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{spec}");
        assert!(pem.str("Certificate").unwrap().contains("BEGIN CERTIFICATE"));
        std::fs::write(ca.join(format!("{name}.enc.pem")), key_pem).unwrap();
        let from_pem = public_of(
            &ca,
            &[
                "pkey",
                "-in",
                &format!("{name}.enc.pem"),
                "-passin",
                "pass:export password",
                "-pubout",
            ],
        );
        assert_eq!(from_pem, original, "{spec}");
        let bad_format = [
            ("CertificateId", id.as_str()),
            ("ExportFormat", "JKS"),
            ("PrivateKeyPassword", "export password"),
        ];
        assert_api_error(
            &call(&c, "ExportCertificate", &bad_format).await,
            400,
            "InvalidParameter",
        );

        // Imported with ExportablePrivateKey=false: the key never leaves.
        let locked = must_call(
            &c,
            "ImportCertificate",
            &[
                ("Pkcs12", &file),
                ("PrivateKeyPassword", "p12 password"),
                ("ExportablePrivateKey", "false"),
            ],
        )
        .await;
        let locked_id = locked.str("CertificateId").unwrap();
        let export = [("CertificateId", locked_id), ("PrivateKeyPassword", "export password")];
        assert_api_error(
            &call(&c, "ExportCertificate", &export).await,
            403,
            "Forbidden.PrivateKeyNotExportable",
        );
    }
}
