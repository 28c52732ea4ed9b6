//! The certificate actions (docs/API.md "Certificates"): CreateCertificate, UploadCertificate,
//! GetCertificate, DescribeCertificate, UpdateCertificateStatus, DeleteCertificate, and the
//! private- and public-key operations CertificatePrivateKeySign, CertificatePublicKeyVerify,
//! CertificatePublicKeyEncrypt and CertificatePrivateKeyDecrypt; and our additions
//! ImportCertificate (a PKCS#12 file's key, certificate and chain, ACTIVE at once) and
//! ExportCertificate (PKCS#12, or an encrypted PKCS#8 PEM with the certificate and chain, only
//! where `ExportablePrivateKey` was set: `Forbidden.PrivateKeyNotExportable` otherwise).
//!
//! The proposing node generates the private key (RSA_2048, EC_P256 or EC_SM2), wraps it under
//! the domain key (associated data binds the certificate id) and signs the PKCS#10 request
//! (`yaoshi_crypto::cert`); the Raft log and the state hold only the wrapped key. Uploads are
//! checked here against the held key (public key match, validity, chain order) before they are
//! proposed. Sign, decrypt and encrypt need an ACTIVE certificate, verify an ACTIVE or REVOKED
//! one; otherwise `Rejected.CertificateNotActive` (409).
//!
//! The four key operations are data plane: they read the certificate from the replica (a node's
//! own state, or a worker's cache fed with certificates like keys) and keep the unwrapped key and
//! the parsed signing key in the same caches as key versions (`unwrapped.rs`, by the wrapped bytes
//! and the certificate's AAD), so a worker signs and decrypts without a Raft round trip.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::cert::{CertError, build_csr_pem, check_upload, stored_certificate_fields};
use yaoshi_crypto::pkcs12::{
    MAX_PKCS12_BYTES, Pkcs12Error, export_pkcs12, export_private_key_pem, import_pkcs12,
};
use yaoshi_crypto::{
    EncryptAlgorithm, KeyMaterial, KeyType, SIGN_DIGEST_LEN, SignAlgorithm, SigningKey,
    asymmetric_decrypt, asymmetric_encrypt, generate_key, public_key_pem, sha256, sm2_digest,
    verify_digest,
};
use yaoshi_model::{
    ApiError, CERTIFICATE_KEY_SPECS, CertificateMetadata, CertificateStatus, Command,
    CommandOutput, ErrorCode, KeySpec, ResourceRef,
};

use crate::context::RequestContext;
use crate::material::{crypto_error, encrypt_algorithm, key_type, unwrap_cached};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, fields, format_time, internal, propose, propose_unit, state};

/// The largest RAW message CertificatePrivateKeySign / CertificatePublicKeyVerify take (bytes,
/// exclusive: "less than 4 KiB").
pub(crate) const MAX_RAW_MESSAGE: usize = 4096;

fn certificate_arn(api: &ApiState, ctx: &RequestContext, id: &str) -> String {
    format!("acs:kms:{}:{}:certificate/{id}", api.region(), ctx.account_id)
}

/// The certificate `CertificateId` names in the node's state (control plane), or
/// `Certificate.NotFound`.
fn stored_certificate(api: &ApiState, p: &Params) -> Result<CertificateMetadata, ApiError> {
    let id = p.required("CertificateId")?;
    state(api)?
        .certificate(id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::CertificateNotFound))
}

fn cert_error(e: CertError, param: &'static str) -> ApiError {
    match e {
        CertError::Crypto(e) => crypto_error(e, param),
        CertError::Subject(_) => ApiError::invalid("Subject"),
        CertError::SubjectAlternativeNames(_) => ApiError::invalid("SubjectAlternativeNames"),
        CertError::Chain | CertError::ChainOrder(_) => ApiError::invalid("CertificateChain"),
        CertError::Certificate | CertError::KeyMismatch | CertError::Expired => {
            ApiError::invalid("Certificate")
        }
    }
}

/// The certificate `CertificateId` names as the data plane sees it (the node's own replica, or a
/// worker's cache), or `Certificate.NotFound`.
fn from_replica(api: &ApiState, p: &Params) -> Result<CertificateMetadata, ApiError> {
    let id = p.required("CertificateId")?;
    api.replica
        .certificate(id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::CertificateNotFound))
}

/// The certificate's private key, unwrapped once per wrapped bytes (`unwrapped.rs`: the caller
/// has already checked the certificate's status).
fn cached_private_key(
    api: &ApiState,
    meta: &CertificateMetadata,
) -> Result<Arc<KeyMaterial>, ApiError> {
    let aad = CertificateMetadata::wrap_aad(&meta.certificate_id);
    unwrap_cached(api, &aad, &meta.wrapped_private_key).inspect_err(|_| {
        tracing::error!(certificate_id = %meta.certificate_id, "certificate key does not unwrap under the domain key");
    })
}

/// The certificate's private key, unwrapped and owned (ExportCertificate hands it to a blocking
/// task).
fn private_key(api: &ApiState, meta: &CertificateMetadata) -> Result<KeyMaterial, ApiError> {
    api.domain_key
        .unwrap(&CertificateMetadata::wrap_aad(&meta.certificate_id), &meta.wrapped_private_key)
        .map_err(|_| {
            tracing::error!(certificate_id = %meta.certificate_id, "certificate key does not unwrap under the domain key");
            ApiError::new(ErrorCode::InternalFailure)
        })
}

fn certificate_output(output: CommandOutput) -> Result<CertificateMetadata, ApiError> {
    match output {
        CommandOutput::Certificate(meta) => Ok(*meta),
        other => {
            tracing::error!(?other, "unexpected certificate command output");
            Err(ApiError::new(ErrorCode::InternalFailure))
        }
    }
}

/// A new certificate (a fresh id, PENDING, nothing uploaded) holding `material` wrapped under the
/// domain key for that id.
fn new_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    key_spec: KeySpec,
    material: &KeyMaterial,
    exportable: bool,
) -> CertificateMetadata {
    let certificate_id = uuid::Uuid::new_v4().to_string();
    let wrapped = api.domain_key.wrap(&CertificateMetadata::wrap_aad(&certificate_id), material);
    CertificateMetadata {
        certificate_id,
        key_spec,
        subject: String::new(),
        sans: Vec::new(),
        exportable,
        status: CertificateStatus::Pending,
        csr_pem: String::new(),
        certificate_pem: None,
        chain_pem: None,
        wrapped_private_key: wrapped,
        creation_ms: ctx.now_ms,
        update_ms: ctx.now_ms,
    }
}

/// `SubjectAlternativeNames`: a JSON array of DNS names (absent: none).
fn sans(p: &Params) -> Result<Vec<String>, ApiError> {
    match p.optional("SubjectAlternativeNames") {
        None => Ok(Vec::new()),
        Some(raw) => serde_json::from_str::<Vec<String>>(raw)
            .map_err(|_| ApiError::invalid("SubjectAlternativeNames")),
    }
}

pub(super) async fn create_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let spec = KeySpec::parse(p.required("KeySpec")?)
        .filter(|s| CERTIFICATE_KEY_SPECS.contains(s))
        .ok_or_else(|| ApiError::invalid("KeySpec"))?;
    let subject = p.required("Subject")?.to_string();
    let sans = sans(p)?;
    let exportable = p.bool_or("ExportablePrivateKey", true)?;
    let tags = super::tags::parse_tags(p)?;
    // Refuse a bad subject before spending a key generation on it.
    let canonical = yaoshi_crypto::cert::parse_subject(&subject)
        .map_err(|e| cert_error(e, "Subject"))?
        .to_string();
    yaoshi_crypto::cert::check_sans(&sans).map_err(|e| cert_error(e, "SubjectAlternativeNames"))?;
    let kind = key_type(spec);
    let (request_subject, request_sans) = (subject.clone(), sans.clone());
    let (material, csr_pem) = tokio::task::spawn_blocking(move || {
        let material = generate_key(kind)?;
        let csr = build_csr_pem(kind, &material, &request_subject, &request_sans)?;
        Ok::<_, CertError>((material, csr))
    })
    .await
    .map_err(internal)?
    .map_err(|e| cert_error(e, "Subject"))?;
    let metadata = CertificateMetadata {
        subject: canonical,
        sans,
        csr_pem,
        ..new_certificate(api, ctx, spec, &material, exportable)
    };
    let command = Command::CreateCertificate { metadata: Box::new(metadata), tags };
    let meta = certificate_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![
        ("CertificateId", json!(meta.certificate_id)),
        ("Arn", json!(certificate_arn(api, ctx, &meta.certificate_id))),
        ("Csr", json!(meta.csr_pem)),
    ]))
}

pub(super) async fn upload_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let certificate_pem = p.required("Certificate")?;
    let chain = p.optional("CertificateChain");
    let meta = stored_certificate(api, p)?;
    if meta.status == CertificateStatus::Revoked {
        return Err(ApiError::new(ErrorCode::StateModifiedFailed));
    }
    let material = cached_private_key(api, &meta)?;
    let checked =
        check_upload(key_type(meta.key_spec), &material, certificate_pem, chain, ctx.now_ms)
            .map_err(|e| cert_error(e, "Certificate"))?;
    let command = Command::UploadCertificate {
        certificate_id: meta.certificate_id,
        certificate_pem: checked.certificate_pem,
        chain_pem: checked.chain_pem,
    };
    propose_unit(api, ctx, command).await
}

pub(super) async fn get_certificate(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let meta = stored_certificate(api, p)?;
    let mut out =
        fields(vec![("CertificateId", json!(meta.certificate_id)), ("Csr", json!(meta.csr_pem))]);
    if let Some(cert) = &meta.certificate_pem {
        out.insert("Certificate".into(), json!(cert));
        out.insert("CertificateChain".into(), json!(meta.chain_pem.clone().unwrap_or_default()));
    }
    Ok(out)
}

pub(super) async fn describe_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let meta = stored_certificate(api, p)?;
    let material = cached_private_key(api, &meta)?;
    let public_key = public_key_pem(key_type(meta.key_spec), &material).map_err(internal)?;
    let tags = state(api)?
        .tags(&ResourceRef::Certificate(meta.certificate_id.clone()))
        .map_err(internal)?;
    let tags: Vec<Value> =
        tags.iter().map(|t| json!({"TagKey": t.key, "TagValue": t.value})).collect();
    let mut out = fields(vec![
        ("CertificateId", json!(meta.certificate_id)),
        ("Arn", json!(certificate_arn(api, ctx, &meta.certificate_id))),
        ("KeySpec", json!(meta.key_spec.as_str())),
        ("Status", json!(meta.status.as_str())),
        ("ExportablePrivateKey", json!(meta.exportable)),
        ("CreatedAt", json!(format_time(meta.creation_ms))),
        ("UpdatedAt", json!(format_time(meta.update_ms))),
        ("Subject", json!(meta.subject)),
        ("SubjectAlternativeNames", json!(meta.sans)),
        ("SubjectPublicKey", json!(public_key)),
        ("Tags", json!({ "Tag": tags })),
    ]);
    if let Some(f) = meta.certificate_pem.as_deref().and_then(stored_certificate_fields) {
        out.insert("Subject".into(), json!(f.subject));
        out.insert("SubjectAlternativeNames".into(), json!(f.sans));
        out.insert("Issuer".into(), json!(f.issuer));
        out.insert("Serial".into(), json!(f.serial));
        out.insert("NotBefore".into(), json!(format_time(f.not_before_ms)));
        out.insert("NotAfter".into(), json!(format_time(f.not_after_ms)));
        out.insert("SignatureAlgorithm".into(), json!(f.signature_algorithm));
        out.insert("SubjectKeyIdentifier".into(), json!(f.subject_key_identifier));
    }
    Ok(out)
}

pub(super) async fn update_certificate_status(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let id = p.required("CertificateId")?.to_string();
    let status = match CertificateStatus::parse(p.required("Status")?) {
        Some(s) if s != CertificateStatus::Pending => s,
        _ => return Err(ApiError::invalid("Status")),
    };
    propose_unit(api, ctx, Command::UpdateCertificateStatus { certificate_id: id, status }).await
}

pub(super) async fn delete_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let id = p.required("CertificateId")?.to_string();
    propose_unit(api, ctx, Command::DeleteCertificate { certificate_id: id }).await
}

fn pkcs12_error(e: Pkcs12Error) -> ApiError {
    match e {
        Pkcs12Error::Unreadable | Pkcs12Error::NoKey => ApiError::invalid("Pkcs12"),
        Pkcs12Error::KeySpec => ApiError::invalid("KeySpec"),
        Pkcs12Error::Password => ApiError::invalid("PrivateKeyPassword"),
        Pkcs12Error::Certificate(e) => cert_error(e, "Certificate"),
    }
}

/// The key spec of an imported key type (one of [`CERTIFICATE_KEY_SPECS`]).
fn certificate_spec(kind: KeyType) -> Option<KeySpec> {
    CERTIFICATE_KEY_SPECS.into_iter().find(|s| key_type(*s) == kind)
}

pub(super) async fn import_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let file = p.base64("Pkcs12")?;
    if file.len() > MAX_PKCS12_BYTES {
        return Err(ApiError::invalid("Pkcs12"));
    }
    let password = zeroize::Zeroizing::new(p.required("PrivateKeyPassword")?.to_string());
    let exportable = p.bool_or("ExportablePrivateKey", true)?;
    let tags = super::tags::parse_tags(p)?;
    let now_ms = ctx.now_ms;
    // Key derivation is CPU work (up to the reader's iteration cap): off the async threads.
    let imported = tokio::task::spawn_blocking(move || import_pkcs12(&file, &password, now_ms))
        .await
        .map_err(internal)?
        .map_err(pkcs12_error)?;
    let spec = certificate_spec(imported.kind).ok_or_else(|| ApiError::invalid("KeySpec"))?;
    let upload = imported.upload;
    let metadata = CertificateMetadata {
        subject: upload.fields.subject.clone(),
        sans: upload.fields.sans.clone(),
        status: CertificateStatus::Active,
        certificate_pem: Some(upload.certificate_pem),
        chain_pem: (!upload.chain_pem.is_empty()).then_some(upload.chain_pem),
        ..new_certificate(api, ctx, spec, &imported.material, exportable)
    };
    let command = Command::ImportCertificate { metadata: Box::new(metadata), tags };
    let meta = certificate_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![
        ("CertificateId", json!(meta.certificate_id)),
        ("Arn", json!(certificate_arn(api, ctx, &meta.certificate_id))),
        ("KeySpec", json!(meta.key_spec.as_str())),
        ("Status", json!(meta.status.as_str())),
    ]))
}

/// ExportCertificate: the request is checked, then `Command::ExportCertificate` puts the export
/// in the audit trail (apply refuses it unless the certificate is exportable and ACTIVE), and only
/// then is the key re-encrypted under the caller's password, from the certificate as authorized.
pub(super) async fn export_certificate(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let format = match p.optional("ExportFormat").unwrap_or("PKCS12") {
        "PKCS12" => true,
        "PEM" => false,
        _ => return Err(ApiError::invalid("ExportFormat")),
    };
    let password = zeroize::Zeroizing::new(p.required("PrivateKeyPassword")?.to_string());
    yaoshi_crypto::pkcs12::check_password(&password).map_err(pkcs12_error)?;
    // Refuse what apply would refuse without a round trip; apply decides.
    let seen = stored_certificate(api, p)?;
    if !seen.exportable {
        return Err(ApiError::new(ErrorCode::PrivateKeyNotExportable));
    }
    if !seen.usable() {
        return Err(not_active());
    }
    let command = Command::ExportCertificate { certificate_id: seen.certificate_id };
    let meta = certificate_output(propose(api, ctx, command).await?)?;
    let Some(certificate_pem) = meta.certificate_pem.clone() else {
        return Err(not_active());
    };
    let material = private_key(api, &meta)?;
    let kind = key_type(meta.key_spec);
    let (id, chain) = (meta.certificate_id.clone(), meta.chain_pem.clone());
    let mut out = fields(vec![("CertificateId", json!(meta.certificate_id))]);
    if format {
        let file = tokio::task::spawn_blocking(move || {
            export_pkcs12(kind, &material, &certificate_pem, chain.as_deref(), &password, &id)
        })
        .await
        .map_err(internal)?
        .map_err(pkcs12_error)?;
        out.insert("Pkcs12".into(), json!(B64.encode(file)));
    } else {
        let key =
            tokio::task::spawn_blocking(move || export_private_key_pem(kind, &material, &password))
                .await
                .map_err(internal)?
                .map_err(pkcs12_error)?;
        out.insert("PrivateKey".into(), json!(key));
        out.insert("Certificate".into(), json!(certificate_pem));
        out.insert("CertificateChain".into(), json!(meta.chain_pem.unwrap_or_default()));
    }
    Ok(out)
}

fn not_active() -> ApiError {
    ApiError::new(ErrorCode::CertificateNotActive)
}

/// What a certificate sign or verify request names, validated.
struct SigningRequest {
    meta: CertificateMetadata,
    kind: KeyType,
    algorithm: SignAlgorithm,
    material: Arc<KeyMaterial>,
    digest: Vec<u8>,
}

/// The signature algorithm, the digest to sign (from `Message` and `MessageType`), and the key.
fn signing_request(api: &ApiState, p: &Params, verify: bool) -> Result<SigningRequest, ApiError> {
    let algorithm = SignAlgorithm::from_name(p.required("Algorithm")?)
        .ok_or_else(|| ApiError::invalid("Algorithm"))?;
    let message = p.base64("Message")?;
    let raw = match p.optional("MessageType").unwrap_or("RAW") {
        "RAW" => true,
        "DIGEST" => false,
        _ => return Err(ApiError::invalid("MessageType")),
    };
    let meta = from_replica(api, p)?;
    let allowed = if verify { meta.may_verify() } else { meta.usable() };
    if !allowed {
        return Err(not_active());
    }
    let kind = key_type(meta.key_spec);
    if !algorithm.supports(kind) {
        return Err(ApiError::invalid("Algorithm"));
    }
    let material = cached_private_key(api, &meta)?;
    let digest = if raw {
        if message.len() >= MAX_RAW_MESSAGE {
            return Err(ApiError::invalid("Message"));
        }
        match algorithm {
            SignAlgorithm::Sm2Dsa => {
                sm2_digest(&material, &message).map_err(|e| crypto_error(e, "Message"))?.to_vec()
            }
            _ => sha256(&message).to_vec(),
        }
    } else {
        if message.len() != SIGN_DIGEST_LEN {
            return Err(ApiError::invalid("Message"));
        }
        message.to_vec()
    };
    Ok(SigningRequest { meta, kind, algorithm, material, digest })
}

pub(super) async fn certificate_private_key_sign(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let r = signing_request(api, p, false)?;
    let aad = CertificateMetadata::wrap_aad(&r.meta.certificate_id);
    let parsed = api
        .signing_keys
        .get_or_make(&aad, &r.meta.wrapped_private_key, || {
            SigningKey::from_material(r.kind, &r.material)
        })
        .map_err(|e| crypto_error(e, "Message"))?;
    let signature = parsed.sign(r.algorithm, &r.digest).map_err(|e| crypto_error(e, "Message"))?;
    Ok(fields(vec![
        ("CertificateId", json!(r.meta.certificate_id)),
        ("SignatureValue", json!(B64.encode(signature))),
    ]))
}

pub(super) async fn certificate_public_key_verify(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let signature = p.base64("SignatureValue")?;
    let r = signing_request(api, p, true)?;
    let valid = verify_digest(r.kind, r.algorithm, &r.material, &r.digest, &signature)
        .map_err(|e| crypto_error(e, "SignatureValue"))?;
    Ok(fields(vec![
        ("CertificateId", json!(r.meta.certificate_id)),
        ("SignatureValid", json!(valid)),
    ]))
}

/// The encryption algorithm for an ACTIVE certificate's key, and the key.
fn encryption_request(
    api: &ApiState,
    p: &Params,
) -> Result<(CertificateMetadata, KeyType, EncryptAlgorithm, Arc<KeyMaterial>), ApiError> {
    let algorithm = encrypt_algorithm(p, "Algorithm")?;
    let meta = from_replica(api, p)?;
    if !meta.usable() {
        return Err(not_active());
    }
    let kind = key_type(meta.key_spec);
    if !algorithm.can_encrypt(kind) {
        return Err(ApiError::invalid("Algorithm"));
    }
    let material = cached_private_key(api, &meta)?;
    Ok((meta, kind, algorithm, material))
}

pub(super) async fn certificate_public_key_encrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let plaintext = p.base64("Plaintext")?;
    let (meta, kind, algorithm, material) = encryption_request(api, p)?;
    let ciphertext = asymmetric_encrypt(kind, algorithm, &material, &plaintext)
        .map_err(|e| crypto_error(e, "Plaintext"))?;
    Ok(fields(vec![
        ("CertificateId", json!(meta.certificate_id)),
        ("CiphertextBlob", json!(B64.encode(ciphertext))),
    ]))
}

pub(super) async fn certificate_private_key_decrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let ciphertext = p.base64("CiphertextBlob")?;
    let (meta, kind, algorithm, material) = encryption_request(api, p)?;
    let plaintext = asymmetric_decrypt(kind, algorithm, &material, &ciphertext)
        .map_err(|e| crypto_error(e, "CiphertextBlob"))?;
    Ok(fields(vec![
        ("CertificateId", json!(meta.certificate_id)),
        ("Plaintext", json!(B64.encode(&plaintext[..]))),
    ]))
}
