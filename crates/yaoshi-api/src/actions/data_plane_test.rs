//! The data plane over a replica whose records change between requests: the caches of unwrapped
//! material, parsed signing keys and credential secrets never serve a disabled or deleted key, a
//! replaced version or a replaced credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use yaoshi_crypto::{DomainKey, KeyMaterial, KeyType, generate_key};
use yaoshi_model::fixtures::KeyFixture;
use yaoshi_model::{
    AccessKeyId, Alias, ApiError, CertificateMetadata, CertificateStatus, Credential, ErrorCode,
    KeyId, KeyMetadata, KeySpec, KeyState, KeyUsage, KeyVersion, KeyVersionId,
};
use yaoshi_worker::{Replica, ReplicaError};

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::Fields;

/// A replica the test edits between requests.
#[derive(Debug, Default)]
struct Records {
    keys: Mutex<HashMap<String, KeyMetadata>>,
    versions: Mutex<HashMap<(String, String), KeyVersion>>,
    credentials: Mutex<HashMap<String, Credential>>,
    secrets: Mutex<HashMap<String, yaoshi_model::SecretRecord>>,
    certificates: Mutex<HashMap<String, CertificateMetadata>>,
}

impl Replica for Records {
    fn key(&self, key_id: &str) -> Result<Option<KeyMetadata>, ReplicaError> {
        Ok(self.keys.lock().unwrap().get(key_id).cloned())
    }

    fn key_version(
        &self,
        key_id: &KeyId,
        version_id: &KeyVersionId,
    ) -> Result<Option<KeyVersion>, ReplicaError> {
        let id = (key_id.to_string(), version_id.to_string());
        Ok(self.versions.lock().unwrap().get(&id).cloned())
    }

    fn alias(&self, _name: &str) -> Result<Option<Alias>, ReplicaError> {
        Ok(None)
    }

    fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, ReplicaError> {
        Ok(self.credentials.lock().unwrap().get(access_key_id).cloned())
    }

    fn access_point(&self, _name: &str) -> Result<Option<yaoshi_model::AccessPoint>, ReplicaError> {
        Ok(None)
    }

    fn secret(&self, name: &str) -> Result<Option<yaoshi_model::SecretMetadata>, ReplicaError> {
        Ok(self.secrets.lock().unwrap().get(name).map(|(m, _)| m.clone()))
    }

    fn secret_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<yaoshi_model::SecretVersion>, ReplicaError> {
        let secrets = self.secrets.lock().unwrap();
        let versions = secrets.get(name).map(|(_, v)| v.clone()).unwrap_or_default();
        Ok(versions.into_iter().find(|v| v.version_id == version_id))
    }

    fn certificate(&self, id: &str) -> Result<Option<CertificateMetadata>, ReplicaError> {
        Ok(self.certificates.lock().unwrap().get(id).cloned())
    }

    fn access_generation(&self) -> u64 {
        0
    }

    fn fresh(&self) -> bool {
        true
    }
}

struct Fixture {
    records: Arc<Records>,
    domain_key: DomainKey,
    api: Arc<ApiState>,
}

impl Fixture {
    fn new() -> Fixture {
        let records = Arc::new(Records::default());
        let domain_key = DomainKey::generate();
        let key_bytes = domain_key.to_hex();
        let api = ApiState::for_tests(records.clone(), DomainKey::from_hex(&key_bytes).unwrap());
        Fixture { records, domain_key, api }
    }

    /// Adds version `version` of `key` with fresh material and makes it primary (a rotation).
    fn add_version(&self, key: &str, spec: KeySpec, usage: KeyUsage, version: &str) {
        let kind = KeyType::from(spec);
        let (key_id, version_id) = (KeyId::new(key), KeyVersionId::new(version));
        let material = generate_key(kind).unwrap();
        let wrapped = self.domain_key.wrap(&KeyVersion::wrap_aad(&key_id, &version_id), &material);
        let (meta, version) = KeyFixture::new(key)
            .spec(spec)
            .usage(usage)
            .version_id(version)
            .wrapped(wrapped)
            .build();
        self.records
            .versions
            .lock()
            .unwrap()
            .insert((key.to_string(), version.version_id.as_str().to_string()), version);
        let mut keys = self.records.keys.lock().unwrap();
        keys.entry(key.to_string()).or_insert(meta).primary_version = version_id;
    }

    fn set_state(&self, key: &str, state: KeyState) {
        self.records.keys.lock().unwrap().get_mut(key).unwrap().state = state;
    }

    /// Stores secret `name` with one ACSCurrent version `v1` holding `value`, sealed under the
    /// primary version of key `key`.
    fn add_secret(&self, name: &str, key: &str, value: &str) {
        let meta = self.records.keys.lock().unwrap()[key].clone();
        let id = (key.to_string(), meta.primary_version.to_string());
        let version = self.records.versions.lock().unwrap()[&id].clone();
        let aad = KeyVersion::wrap_aad(&meta.key_id, &version.version_id);
        let material = self.domain_key.unwrap(&aad, &version.wrapped_material).unwrap();
        let sealed = yaoshi_crypto::seal_secret_version(
            &self.domain_key,
            &meta,
            &version,
            &material,
            name,
            "v1",
            yaoshi_model::SecretDataType::Text,
            value.as_bytes(),
            0,
        )
        .unwrap();
        let mut secret = yaoshi_model::SecretMetadata {
            name: name.to_string(),
            secret_type: yaoshi_model::SecretType::Generic,
            description: String::new(),
            encryption_key_id: meta.key_id.clone(),
            creation_ms: 0,
            update_ms: 0,
            extended_config: None,
            rotation_interval_s: None,
            last_rotation_ms: None,
            next_rotation_ms: None,
            planned_delete_ms: None,
            stages: Default::default(),
        };
        secret.stages.insert(yaoshi_model::STAGE_CURRENT.into(), "v1".into());
        self.records.secrets.lock().unwrap().insert(name.to_string(), (secret, vec![sealed]));
    }

    /// Stores an ACTIVE certificate `id` holding a fresh `spec` key (no real certificate: the key
    /// operations read only the status, the spec and the wrapped key).
    fn set_certificate(&self, id: &str, spec: KeySpec) {
        let material = generate_key(KeyType::from(spec)).unwrap();
        let wrapped = self.domain_key.wrap(&CertificateMetadata::wrap_aad(id), &material);
        let meta = CertificateMetadata {
            certificate_id: id.to_string(),
            key_spec: spec,
            subject: "CN=test".to_string(),
            sans: Vec::new(),
            exportable: false,
            status: CertificateStatus::Active,
            csr_pem: String::new(),
            certificate_pem: None,
            chain_pem: None,
            wrapped_private_key: wrapped,
            creation_ms: 0,
            update_ms: 0,
        };
        self.records.certificates.lock().unwrap().insert(id.to_string(), meta);
    }

    fn set_certificate_status(&self, id: &str, status: CertificateStatus) {
        self.records.certificates.lock().unwrap().get_mut(id).unwrap().status = status;
    }

    fn set_credential(&self, id: &str, secret: &str) {
        let access_key_id = AccessKeyId::new(id);
        let wrapped = self.domain_key.wrap(
            &Credential::wrap_aad(&access_key_id),
            &KeyMaterial::from_bytes(secret.as_bytes()),
        );
        self.records.credentials.lock().unwrap().insert(
            id.to_string(),
            Credential {
                access_key_id,
                wrapped_secret: wrapped,
                account_id: "account".to_string(),
                creation_ms: 0,
                retiring: None,
                access_point: None,
                description: String::new(),
            },
        );
    }

    async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Fields, ApiError> {
        let query: Vec<String> =
            params.iter().map(|(k, v)| format!("{k}={}", yaoshi_sign::percent_encode(v))).collect();
        let p = Params::parse(Some(&query.join("&")), None);
        let ctx = RequestContext {
            request_id: "test".to_string(),
            principal: AccessKeyId::new("ak"),
            account_id: "account".to_string(),
            nonce: None,
            now_ms: now_ms(),
            audit_name: None,
        };
        let action = super::Action::from_name(action).expect("an action of the table");
        action.dispatch(&self.api, &ctx, &p).await
    }
}

fn code(r: Result<Fields, ApiError>) -> ErrorCode {
    r.expect_err("the request should fail").code
}

fn text<'a>(f: &'a Fields, name: &str) -> &'a str {
    f[name].as_str().unwrap()
}

#[tokio::test]
async fn cached_material_never_outlives_state_or_rotation() {
    let fx = Fixture::new();
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v1");
    let enc = |pt: &'static str| [("KeyId", "k1"), ("Plaintext", pt)];
    let first = fx.call("Encrypt", &enc("aGVsbG8=")).await.unwrap();
    assert_eq!(text(&first, "KeyVersionId"), "v1");
    let blob_v1 = text(&first, "CiphertextBlob").to_string();
    assert_eq!(fx.api.materials.len(), 1);

    // Disabled and pending deletion keys are refused although their material is cached.
    fx.set_state("k1", KeyState::Disabled);
    assert_eq!(code(fx.call("Encrypt", &enc("aGVsbG8=")).await), ErrorCode::RejectedDisabled);
    let dec = [("CiphertextBlob", blob_v1.as_str())];
    assert_eq!(code(fx.call("Decrypt", &dec).await), ErrorCode::RejectedDisabled);
    fx.set_state("k1", KeyState::PendingDeletion);
    assert_eq!(
        code(fx.call("Encrypt", &enc("aGVsbG8=")).await),
        ErrorCode::RejectedPendingDeletion
    );
    fx.set_state("k1", KeyState::Enabled);
    assert_eq!(text(&fx.call("Decrypt", &dec).await.unwrap(), "Plaintext"), "aGVsbG8=");

    // A rotation seals under the new primary version at once; the old version still opens.
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v2");
    let second = fx.call("Encrypt", &enc("d29ybGQ=")).await.unwrap();
    assert_eq!(text(&second, "KeyVersionId"), "v2");
    let blob_v2 = text(&second, "CiphertextBlob").to_string();
    let dec2 = [("CiphertextBlob", blob_v2.as_str())];
    assert_eq!(text(&fx.call("Decrypt", &dec2).await.unwrap(), "Plaintext"), "d29ybGQ=");
    assert_eq!(text(&fx.call("Decrypt", &dec).await.unwrap(), "KeyVersionId"), "v1");

    // A version whose material was replaced is unwrapped again: a blob of the old material no
    // longer opens, a blob of the new one does.
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v1");
    assert_eq!(code(fx.call("Decrypt", &dec).await), ErrorCode::InvalidParameter);
    let third = fx.call("Encrypt", &enc("aGVsbG8=")).await.unwrap();
    assert_eq!(text(&third, "KeyVersionId"), "v1");
    let dec3 = [("CiphertextBlob", text(&third, "CiphertextBlob"))];
    assert_eq!(text(&fx.call("Decrypt", &dec3).await.unwrap(), "Plaintext"), "aGVsbG8=");

    // A deleted key is gone, cached material or not.
    fx.records.keys.lock().unwrap().remove("k1");
    assert_eq!(code(fx.call("Encrypt", &enc("aGVsbG8=")).await), ErrorCode::KeyNotFound);
    assert_eq!(code(fx.call("Decrypt", &dec2).await), ErrorCode::KeyNotFound);
}

#[tokio::test]
async fn cached_signing_keys_never_outlive_state_or_rotation() {
    let fx = Fixture::new();
    fx.add_version("s1", KeySpec::EcP256, KeyUsage::SignVerify, "v1");
    let digest = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let sign = |version: &'static str| {
        [
            ("KeyId", "s1"),
            ("KeyVersionId", version),
            ("Algorithm", "ECDSA_SHA_256"),
            ("Digest", digest),
        ]
    };
    fx.call("AsymmetricSign", &sign("v1")).await.unwrap();
    fx.call("AsymmetricSign", &sign("v1")).await.unwrap();
    assert_eq!(fx.api.signing_keys.len(), 1);
    fx.set_state("s1", KeyState::Disabled);
    assert_eq!(code(fx.call("AsymmetricSign", &sign("v1")).await), ErrorCode::RejectedDisabled);
    fx.set_state("s1", KeyState::Enabled);
    fx.add_version("s1", KeySpec::EcP256, KeyUsage::SignVerify, "v2");
    fx.call("AsymmetricSign", &sign("v2")).await.unwrap();
    assert_eq!(fx.api.signing_keys.len(), 2);
    fx.records.versions.lock().unwrap().remove(&("s1".to_string(), "v1".to_string()));
    assert_eq!(code(fx.call("AsymmetricSign", &sign("v1")).await), ErrorCode::KeyVersionNotFound);
    fx.records.keys.lock().unwrap().remove("s1");
    assert_eq!(code(fx.call("AsymmetricSign", &sign("v2")).await), ErrorCode::KeyNotFound);
}

#[tokio::test]
async fn certificate_keys_are_served_from_the_replica_and_follow_its_status() {
    let fx = Fixture::new();
    fx.set_certificate("c1", KeySpec::EcP256);
    let sign = [
        ("CertificateId", "c1"),
        ("Algorithm", "ECDSA_SHA_256"),
        ("MessageType", "RAW"),
        ("Message", "aGVsbG8="),
    ];
    let signed = fx.call("CertificatePrivateKeySign", &sign).await.unwrap();
    let signature = text(&signed, "SignatureValue").to_string();
    fx.call("CertificatePrivateKeySign", &sign).await.unwrap();
    assert_eq!(fx.api.signing_keys.len(), 1, "the parsed key is kept");
    let mut verify = sign.to_vec();
    verify.push(("SignatureValue", signature.as_str()));
    let valid = |f: Fields| f["SignatureValid"].as_bool().unwrap();
    assert!(valid(fx.call("CertificatePublicKeyVerify", &verify).await.unwrap()));

    // Revoked: only verifies. Inactive: nothing. Whatever was cached.
    fx.set_certificate_status("c1", CertificateStatus::Revoked);
    assert_eq!(
        code(fx.call("CertificatePrivateKeySign", &sign).await),
        ErrorCode::CertificateNotActive
    );
    assert!(valid(fx.call("CertificatePublicKeyVerify", &verify).await.unwrap()));
    fx.set_certificate_status("c1", CertificateStatus::Inactive);
    assert_eq!(
        code(fx.call("CertificatePublicKeyVerify", &verify).await),
        ErrorCode::CertificateNotActive
    );

    // A certificate re-created under the same id holds another key: the old signature no
    // longer verifies, the new key signs.
    fx.set_certificate("c1", KeySpec::EcP256);
    assert!(!valid(fx.call("CertificatePublicKeyVerify", &verify).await.unwrap()));
    fx.call("CertificatePrivateKeySign", &sign).await.unwrap();
    assert_eq!(fx.api.signing_keys.len(), 2);

    // Encrypt and decrypt through the cached private key (SM2 here).
    fx.set_certificate("c2", KeySpec::EcSm2);
    let enc = [("CertificateId", "c2"), ("Algorithm", "SM2PKE"), ("Plaintext", "c2VjcmV0")];
    let sealed = fx.call("CertificatePublicKeyEncrypt", &enc).await.unwrap();
    let dec = [
        ("CertificateId", "c2"),
        ("Algorithm", "SM2PKE"),
        ("CiphertextBlob", text(&sealed, "CiphertextBlob")),
    ];
    let opened = fx.call("CertificatePrivateKeyDecrypt", &dec).await.unwrap();
    assert_eq!(text(&opened, "Plaintext"), "c2VjcmV0");

    // Deleted: not found, cached key or not.
    fx.records.certificates.lock().unwrap().clear();
    assert_eq!(
        code(fx.call("CertificatePrivateKeySign", &sign).await),
        ErrorCode::CertificateNotFound
    );
    assert_eq!(
        code(fx.call("CertificatePrivateKeyDecrypt", &dec).await),
        ErrorCode::CertificateNotFound
    );
}

/// VerifyMac of "mac" under `h1` (version `version`, the primary when empty): `MacVerified`.
async fn verify(fx: &Fixture, version: &str, mac: &str) -> Result<bool, ApiError> {
    let mut p = vec![("KeyId", "h1"), ("Message", "bWFj"), ("MacData", mac)];
    if !version.is_empty() {
        p.push(("KeyVersionId", version));
    }
    fx.call("VerifyMac", &p).await.map(|f| f["MacVerified"].as_bool().unwrap())
}

#[tokio::test]
async fn cached_hmac_material_never_outlives_state_or_rotation() {
    let fx = Fixture::new();
    fx.add_version("h1", KeySpec::HmacSm3, KeyUsage::GenerateVerifyMac, "v1");
    let gen_mac = [("KeyId", "h1"), ("Message", "bWFj")];
    let first = fx.call("GenerateMac", &gen_mac).await.unwrap();
    assert_eq!(text(&first, "KeyVersionId"), "v1");
    let mac_v1 = text(&first, "MacData").to_string();
    assert_eq!(verify(&fx, "", &mac_v1).await, Ok(true));
    fx.set_state("h1", KeyState::Disabled);
    assert_eq!(code(fx.call("GenerateMac", &gen_mac).await), ErrorCode::RejectedDisabled);
    assert_eq!(verify(&fx, "", &mac_v1).await.unwrap_err().code, ErrorCode::RejectedDisabled);
    fx.set_state("h1", KeyState::Enabled);
    // A rotation: the primary version makes the MACs; the old one verifies only by its id.
    fx.add_version("h1", KeySpec::HmacSm3, KeyUsage::GenerateVerifyMac, "v2");
    let second = fx.call("GenerateMac", &gen_mac).await.unwrap();
    assert_eq!(text(&second, "KeyVersionId"), "v2");
    let mac_v2 = text(&second, "MacData").to_string();
    assert_ne!(mac_v1, mac_v2);
    assert_eq!(verify(&fx, "", &mac_v1).await, Ok(false));
    assert_eq!(verify(&fx, "v1", &mac_v1).await, Ok(true));
    assert_eq!(verify(&fx, "v2", &mac_v2).await, Ok(true));
    assert_eq!(verify(&fx, "v3", &mac_v2).await.unwrap_err().code, ErrorCode::KeyVersionNotFound);
    // Material replaced under a version id is unwrapped again: the old MAC no longer verifies.
    fx.add_version("h1", KeySpec::HmacSm3, KeyUsage::GenerateVerifyMac, "v1");
    assert_eq!(verify(&fx, "v1", &mac_v1).await, Ok(false));
    // An AES key makes no MAC, an HMAC key does not encrypt.
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v1");
    let on_aes = [("KeyId", "k1"), ("Message", "bWFj")];
    assert_eq!(code(fx.call("GenerateMac", &on_aes).await), ErrorCode::UnsupportedOperation);
    let enc = [("KeyId", "h1"), ("Plaintext", "bWFj")];
    assert_eq!(code(fx.call("Encrypt", &enc).await), ErrorCode::UnsupportedOperation);
}

#[test]
fn cached_secrets_never_outlive_the_credential() {
    let fx = Fixture::new();
    fx.set_credential("ak1", "secret-one");
    let client = |secret: &str| yaoshi_client_like_sign("ak1", secret);
    let ok = |pairs: Vec<(String, String)>| {
        let query: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", yaoshi_sign::percent_encode(v))).collect();
        let p = Params::parse(Some(&query.join("&")), None);
        crate::auth::authenticate(
            &fx.api,
            crate::auth::Scheme::Alibaba,
            "POST",
            &Default::default(),
            &p,
            b"",
            now_ms(),
        )
    };
    assert!(ok(client("secret-one")).is_ok());
    assert!(ok(client("secret-one")).is_ok());
    assert_eq!(fx.api.secrets.len(), 1);
    assert_eq!(ok(client("wrong")).unwrap_err().code, ErrorCode::SignatureDoesNotMatch);
    // A replaced secret takes effect at once: the old one no longer signs.
    fx.set_credential("ak1", "secret-two");
    assert_eq!(ok(client("secret-one")).unwrap_err().code, ErrorCode::SignatureDoesNotMatch);
    assert!(ok(client("secret-two")).is_ok());
    // A removed credential is unknown, whatever was cached.
    fx.records.credentials.lock().unwrap().remove("ak1");
    assert_eq!(ok(client("secret-two")).unwrap_err().code, ErrorCode::InvalidAccessKeyIdNotFound);
}

fn now_ms() -> i64 {
    use crate::clock::Clock;
    crate::clock::SystemClock.now_ms()
}

/// An RPC v1 request signed with `secret`, as the classic SDK signs it (fresh nonce).
fn yaoshi_client_like_sign(access_key_id: &str, secret: &str) -> Vec<(String, String)> {
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut pairs: Vec<(String, String)> = [
        ("Action", "DescribeRegions"),
        ("Version", "2016-01-20"),
        ("AccessKeyId", access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", timestamp.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    pairs.push(("SignatureNonce".to_string(), uuid::Uuid::new_v4().to_string()));
    let sts = yaoshi_sign::rpc_v1_string_to_sign("POST", &pairs);
    pairs.push(("Signature".to_string(), yaoshi_sign::rpc_v1_signature(secret, &sts)));
    pairs
}

#[tokio::test]
async fn secret_values_follow_their_master_key_state() {
    let fx = Fixture::new();
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v1");
    fx.add_secret("db", "k1", "pa55 word");
    let get = [("SecretName", "db")];
    let got = fx.call("GetSecretValue", &get).await.unwrap();
    assert_eq!(text(&got, "SecretData"), "pa55 word");
    assert_eq!(text(&got, "VersionId"), "v1");
    assert_eq!(got["VersionStages"]["VersionStage"][0], "ACSCurrent");
    assert_eq!(
        code(
            fx.call("GetSecretValue", &[("SecretName", "db"), ("VersionStage", "ACSPrevious")])
                .await
        ),
        ErrorCode::ResourceNotFound
    );
    assert_eq!(
        code(fx.call("GetSecretValue", &[("SecretName", "nope")]).await),
        ErrorCode::ResourceNotFound
    );
    fx.set_state("k1", KeyState::Disabled);
    assert_eq!(code(fx.call("GetSecretValue", &get).await), ErrorCode::RejectedDisabled);
    fx.set_state("k1", KeyState::PendingDeletion);
    assert_eq!(code(fx.call("GetSecretValue", &get).await), ErrorCode::RejectedPendingDeletion);
    fx.set_state("k1", KeyState::Enabled);
    assert_eq!(text(&fx.call("GetSecretValue", &get).await.unwrap(), "SecretData"), "pa55 word");
    // Material replaced under the same version id: the sealed data key no longer opens.
    fx.add_version("k1", KeySpec::Aes256, KeyUsage::EncryptDecrypt, "v1");
    assert_eq!(code(fx.call("GetSecretValue", &get).await), ErrorCode::InternalFailure);
    fx.records.keys.lock().unwrap().remove("k1");
    assert_eq!(code(fx.call("GetSecretValue", &get).await), ErrorCode::KeyNotFound);
    // A secret in its recovery window is not readable.
    fx.add_version("k2", KeySpec::Sm4, KeyUsage::EncryptDecrypt, "v1");
    fx.add_secret("sm4", "k2", "国密");
    assert_eq!(
        text(&fx.call("GetSecretValue", &[("SecretName", "sm4")]).await.unwrap(), "SecretData"),
        "国密"
    );
    fx.records.secrets.lock().unwrap().get_mut("sm4").unwrap().0.planned_delete_ms = Some(1);
    assert_eq!(
        code(fx.call("GetSecretValue", &[("SecretName", "sm4")]).await),
        ErrorCode::ResourceInDeleteWindow
    );
}
