//! Criterion micro-benchmarks of the CPU work behind one KMS request, through the same public
//! functions the server calls: request signature verification (`yaoshi-sign`), parameter decoding,
//! ciphertext blobs and domain-key wrapping, and every signing and MAC primitive
//! (`yaoshi-crypto`).
//!
//! Where the server's call wraps a bare primitive (HKDF and random salt around GCM in a blob, the
//! Base64 around HMAC-SHA1 in an RPC v1 signature), the bare RustCrypto primitive is measured in
//! the same run as a `baseline_*` benchmark next to it.
//!
//! Run: `cargo bench -p yaoshi-bench --bench micro` (about a minute; add `-- --quick` for a
//! rougher figure in a few seconds, or a name filter such as `-- gcm/`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, AesGcm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::{BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use yaoshi_crypto::{
    BlobHeader, DomainKey, KeyMaterial, KeyType, SignAlgorithm, SigningKey, encryption_context_aad,
    generate_key, hmac_sha256, hmac_sm3, open_blob_for, parse_blob_header, seal_blob_for,
    sign_digest, sm2_digest, verify_digest,
};

/// SM4-GCM as the crypto crate builds it (RFC 8998).
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// An access key secret of the length Alibaba Cloud issues (30 characters).
const SECRET: &str = "testAccessKeySecret00000000000";
/// A key id in the server's format.
const KEY_ID: &str = "key-0f9b3c2e-6a1d-4c55-9e0b-3d2f7a8c1b64";
/// A key version id in the server's format.
const KEY_VERSION_ID: &str = "0f9b3c2e-6a1d-4c55-9e0b-3d2f7a8c1b65";
/// The `EncryptionContext` parameter of the typical request.
const CONTEXT_JSON: &str = r#"{"purpose":"bench","tenant":"acme"}"#;
/// Plaintext sizes for the GCM benchmarks: a data key, and a typical small secret.
const SIZES: [usize; 2] = [32, 1024];

fn main() {
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    bench_signature(&mut c);
    bench_params(&mut c);
    bench_blob(&mut c);
    bench_gcm(&mut c);
    bench_asymmetric(&mut c);
    bench_mac(&mut c);
    c.final_summary();
}

/// The decoded parameters of a typical Encrypt request as the classic SDK sends it, unsigned.
fn encrypt_params() -> Vec<(String, String)> {
    [
        ("Action", "Encrypt"),
        ("Version", "2016-01-20"),
        ("Format", "JSON"),
        ("AccessKeyId", "testAccessKeyId"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "3e1c7b6f0d9a4e2b8c5f1a0d7e6b3c29"),
        ("Timestamp", "2026-11-23T12:00:00Z"),
        ("KeyId", "alias/bench"),
        ("Plaintext", "SGVsbG8sIFlhb3NoaSEgVGhpcyBpcyBhIGJlbmNobWFyayBwbGFpbnRleHQu"),
        ("EncryptionContext", CONTEXT_JSON),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The same request with its RPC v1 `Signature` appended, as the server receives it.
fn signed_encrypt_params() -> Vec<(String, String)> {
    let mut params = encrypt_params();
    let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", &params);
    let signature = yaoshi_sign::rpc_v1_signature(SECRET, &sts);
    params.push(("Signature".to_string(), signature));
    params
}

/// The signed request encoded as a query string, as `yaoshi-client` sends it.
fn encrypt_query() -> String {
    signed_encrypt_params()
        .iter()
        .map(|(k, v)| {
            format!("{}={}", yaoshi_sign::percent_encode(k), yaoshi_sign::percent_encode(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Mirrors `yaoshi_api::params::Params::parse` (crate-private): query pairs, then body pairs,
/// form-decoded. yaoshi-api is not a dependency here because it would pull in RocksDB.
fn parse_params(query: Option<&str>, body: Option<&[u8]>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(q) = query {
        pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    if let Some(b) = body {
        pairs.extend(form_urlencoded::parse(b).into_owned());
    }
    pairs
}

/// Mirrors the JSON branch of `Params::string_map` for `EncryptionContext`.
fn parse_context(raw: &str) -> BTreeMap<String, String> {
    let value: serde_json::Value = serde_json::from_str(raw).expect("context is JSON");
    value
        .as_object()
        .expect("context is an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
        .collect()
}

fn bench_signature(c: &mut Criterion) {
    let mut g = c.benchmark_group("signature");
    let signed = signed_encrypt_params();
    let given = signed.last().map(|(_, v)| v.clone()).expect("signature pushed");

    g.bench_function("rpc_v1_string_to_sign", |b| {
        b.iter(|| yaoshi_sign::rpc_v1_string_to_sign(black_box("POST"), black_box(&signed)));
    });
    let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", &signed);
    g.bench_function("rpc_v1_signature", |b| {
        b.iter(|| yaoshi_sign::rpc_v1_signature(black_box(SECRET), black_box(&sts)));
    });
    let key = format!("{SECRET}&");
    g.bench_function("baseline_hmac_sha1_raw", |b| {
        b.iter(|| {
            let mut mac =
                <Hmac<sha1::Sha1> as hmac::KeyInit>::new_from_slice(black_box(key.as_bytes()))
                    .expect("any key length");
            mac.update(black_box(sts.as_bytes()));
            mac.finalize().into_bytes()
        });
    });
    // What `auth::rpc_v1` does per request, minus the credential lookup.
    g.bench_function("rpc_v1_verify", |b| {
        b.iter(|| {
            let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", black_box(&signed));
            let expected = yaoshi_sign::rpc_v1_signature(SECRET, &sts);
            assert!(yaoshi_sign::signatures_match(&expected, black_box(&given)));
        });
    });

    // ACS3-HMAC-SHA256 of the same request: action parameters in the query, SDK headers.
    let query: Vec<(String, String)> = encrypt_params().into_iter().skip(8).collect();
    let body: &[u8] = b"";
    let headers: Vec<(String, String)> = [
        ("host", "kms.cn-hangzhou.aliyuncs.com"),
        ("x-acs-action", "Encrypt"),
        ("x-acs-version", "2016-01-20"),
        ("x-acs-date", "2026-11-23T12:00:00Z"),
        ("x-acs-signature-nonce", "3e1c7b6f0d9a4e2b8c5f1a0d7e6b3c29"),
        ("x-acs-content-sha256", &yaoshi_sign::sha256_hex(body)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let authorization = yaoshi_sign::acs3_authorization(
        "testAccessKeyId",
        SECRET,
        "POST",
        "/",
        &query,
        &headers,
        body,
    );
    // What `auth::acs3` does per request, minus the credential lookup.
    g.bench_function("acs3_verify", |b| {
        b.iter(|| {
            let parsed = yaoshi_sign::parse_acs3_authorization(black_box(&authorization))
                .expect("well-formed");
            let canonical = yaoshi_sign::acs3_canonical_request(
                "POST",
                "/",
                black_box(&query),
                black_box(&headers),
                &parsed.signed_headers,
                &yaoshi_sign::sha256_hex(body),
            );
            let sts = yaoshi_sign::acs3_string_to_sign(&canonical);
            let expected = yaoshi_sign::acs3_signature(SECRET, &sts);
            assert!(yaoshi_sign::signatures_match(&expected, &parsed.signature));
        });
    });
    g.finish();
}

fn bench_params(c: &mut Criterion) {
    let mut g = c.benchmark_group("params");
    let query = encrypt_query();
    g.bench_function("parse_encrypt_query", |b| {
        b.iter(|| parse_params(black_box(Some(query.as_str())), None));
    });
    g.bench_function("encryption_context_json_to_aad", |b| {
        b.iter(|| encryption_context_aad(&parse_context(black_box(CONTEXT_JSON))));
    });
    let material = KeyMaterial::generate(32);
    let header = header();
    let blob = seal_blob_for(KeyType::Aes256, &material, &header, &[7u8; 32], b"").expect("seal");
    let blob_b64 = B64.encode(&blob);
    g.bench_function("base64_decode_ciphertext_blob", |b| {
        b.iter(|| B64.decode(black_box(blob_b64.trim())).expect("base64"));
    });
    g.finish();
}

fn header() -> BlobHeader {
    BlobHeader { key_id: KEY_ID.to_string(), key_version_id: KEY_VERSION_ID.to_string() }
}

fn bench_blob(c: &mut Criterion) {
    let mut g = c.benchmark_group("blob");
    let header = header();
    let material = KeyMaterial::generate(32);
    let aad = encryption_context_aad(&parse_context(CONTEXT_JSON));
    let blob = seal_blob_for(KeyType::Aes256, &material, &header, &[7u8; 32], &aad).expect("seal");
    g.bench_function("parse_header", |b| {
        b.iter(|| parse_blob_header(black_box(&blob)).expect("well-formed"));
    });

    // Domain-key wrapping of key material at rest; Encrypt/Decrypt unwrap on every request.
    let domain = DomainKey::generate();
    let wrap_aad = format!("yaoshi-key-material:{KEY_ID}:{KEY_VERSION_ID}").into_bytes();
    let rsa = generate_key(KeyType::Rsa2048).expect("RSA keygen");
    for (name, m) in [("aes256", &material), ("rsa2048_pkcs8", &rsa)] {
        let wrapped = domain.wrap(&wrap_aad, m);
        g.bench_with_input(BenchmarkId::new("domain_key_wrap", name), m, |b, m| {
            b.iter(|| domain.wrap(black_box(&wrap_aad), m));
        });
        g.bench_with_input(BenchmarkId::new("domain_key_unwrap", name), &wrapped, |b, w| {
            b.iter(|| domain.unwrap(black_box(&wrap_aad), black_box(w)).expect("unwrap"));
        });
    }

    // The whole symmetric crypto of Encrypt and Decrypt after authentication: unwrap the key
    // version's material, context to AAD, seal or open the blob, Base64.
    let wrapped = domain.wrap(&wrap_aad, &material);
    let plaintext = B64.encode([0x5au8; 32]);
    g.bench_function("encrypt_path_aes256", |b| {
        b.iter(|| {
            let m = domain.unwrap(&wrap_aad, black_box(&wrapped)).expect("unwrap");
            let aad = encryption_context_aad(&parse_context(black_box(CONTEXT_JSON)));
            let blob =
                seal_blob_for(KeyType::Aes256, &m, &header, black_box(plaintext.as_bytes()), &aad)
                    .expect("seal");
            B64.encode(blob)
        });
    });
    let blob_b64 = B64.encode(
        seal_blob_for(KeyType::Aes256, &material, &header, plaintext.as_bytes(), &aad)
            .expect("seal"),
    );
    g.bench_function("decrypt_path_aes256", |b| {
        b.iter(|| {
            let blob = B64.decode(black_box(&blob_b64)).expect("base64");
            let _ = parse_blob_header(&blob).expect("header");
            let m = domain.unwrap(&wrap_aad, black_box(&wrapped)).expect("unwrap");
            let aad = encryption_context_aad(&parse_context(black_box(CONTEXT_JSON)));
            open_blob_for(KeyType::Aes256, &m, &blob, &aad).expect("open")
        });
    });
    g.finish();
}

fn bench_gcm(c: &mut Criterion) {
    let mut g = c.benchmark_group("gcm");
    let header = header();
    let aad = encryption_context_aad(&parse_context(CONTEXT_JSON));
    for (name, kind) in [("aes256", KeyType::Aes256), ("sm4", KeyType::Sm4)] {
        let material = generate_key(kind).expect("symmetric keygen");
        for size in SIZES {
            let plaintext = vec![0xa5u8; size];
            let blob = seal_blob_for(kind, &material, &header, &plaintext, &aad).expect("seal");
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("{name}_blob_seal"), size),
                &plaintext,
                |b, p| {
                    b.iter(|| {
                        seal_blob_for(kind, &material, &header, black_box(p), &aad).expect("seal")
                    });
                },
            );
            g.bench_with_input(
                BenchmarkId::new(format!("{name}_blob_open"), size),
                &blob,
                |b, blob| {
                    b.iter(|| open_blob_for(kind, &material, black_box(blob), &aad).expect("open"));
                },
            );
        }
    }

    // Baselines: the bare GCM primitive (key setup + seal of a fixed nonce in place), no HKDF, no
    // random salt and nonce, no blob layout.
    let nonce = [3u8; 12];
    let aes_key = [9u8; 32];
    let sm4_key = [9u8; 16];
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(BenchmarkId::new("baseline_aes256_gcm_raw_seal", size), |b| {
            let mut buf = vec![0xa5u8; size];
            b.iter(|| {
                let cipher = Aes256Gcm::new_from_slice(black_box(&aes_key)).expect("key length");
                cipher
                    .encrypt_inout_detached(&nonce.into(), &aad, buf.as_mut_slice().into())
                    .expect("seal")
            });
        });
        g.bench_function(BenchmarkId::new("baseline_sm4_gcm_raw_seal", size), |b| {
            let mut buf = vec![0xa5u8; size];
            b.iter(|| {
                let cipher = Sm4Gcm::new_from_slice(black_box(&sm4_key)).expect("key length");
                cipher
                    .encrypt_inout_detached(&nonce.into(), &aad, buf.as_mut_slice().into())
                    .expect("seal")
            });
        });
    }
    g.finish();
}

fn bench_asymmetric(c: &mut Criterion) {
    let mut g = c.benchmark_group("asymmetric");
    let digest = yaoshi_crypto::sha256(b"the message an AsymmetricSign caller hashed");
    let cases = [
        ("rsa2048_pss_sign", KeyType::Rsa2048, SignAlgorithm::RsaPssSha256),
        ("rsa2048_pkcs1_sign", KeyType::Rsa2048, SignAlgorithm::RsaPkcs1Sha256),
        ("p256_ecdsa_sign", KeyType::EcP256, SignAlgorithm::EcdsaSha256),
        ("secp256k1_ecdsa_sign", KeyType::EcP256k, SignAlgorithm::EcdsaSha256),
        ("sm2_sign", KeyType::EcSm2, SignAlgorithm::Sm2Dsa),
    ];
    for (name, kind, alg) in cases {
        let material = generate_key(kind).expect("keygen");
        // For SM2 the caller's digest is e = SM3(Z_A || M); any 32 bytes sign the same way.
        // AsymmetricSign keeps parsed keys for hot keys: `SigningKey::sign` is its steady state,
        // `sign_digest` (parse the material, then sign) a cache miss.
        let key = SigningKey::from_material(kind, &material).expect("parse key");
        g.bench_function(name, |b| {
            b.iter(|| key.sign(alg, black_box(&digest)).expect("sign"));
        });
        g.bench_function(format!("{name}_with_parse").as_str(), |b| {
            b.iter(|| sign_digest(kind, alg, &material, black_box(&digest)).expect("sign"));
        });
        let signature = sign_digest(kind, alg, &material, &digest).expect("sign");
        let verify_name = name.replace("_sign", "_verify");
        g.bench_function(verify_name.as_str(), |b| {
            b.iter(|| {
                assert!(
                    verify_digest(kind, alg, &material, black_box(&digest), black_box(&signature))
                        .expect("verify")
                );
            });
        });
    }
    let sm2 = generate_key(KeyType::EcSm2).expect("keygen");
    g.bench_function("sm2_digest_za", |b| {
        b.iter(|| sm2_digest(&sm2, black_box(b"the message an AsymmetricSign caller sent")));
    });
    g.finish();
}

fn bench_mac(c: &mut Criterion) {
    let mut g = c.benchmark_group("mac");
    let key = [0x42u8; 32];
    let data = [0x24u8; 64];
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("hmac_sha256_64B", |b| {
        b.iter(|| hmac_sha256(black_box(&key), black_box(&data)));
    });
    g.bench_function("hmac_sm3_64B", |b| {
        b.iter(|| hmac_sm3(black_box(&key), black_box(&data)));
    });
    // yaoshi-crypto has no HMAC-SHA1: the server's only HMAC-SHA1 is inside `rpc_v1_signature`
    // (see `signature/`); this is the bare primitive on the same 64 bytes.
    g.bench_function("hmac_sha1_64B", |b| {
        b.iter(|| {
            let mut mac = <Hmac<sha1::Sha1> as hmac::KeyInit>::new_from_slice(black_box(&key))
                .expect("any key length");
            mac.update(black_box(&data));
            mac.finalize().into_bytes()
        });
    });
    g.finish();
}
