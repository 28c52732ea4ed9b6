//! Data-plane actions on the local replica: Encrypt, Decrypt, ReEncrypt.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{
    BlobHeader, KeyMaterial, encryption_context_aad, open_blob_for, parse_blob_header,
    seal_blob_for,
};
use yaoshi_model::{ApiError, ErrorCode, KeyMetadata, KeyState, KeyUsage, KeyVersion};
use zeroize::Zeroizing;

use super::asymmetric::{asymmetric_key, decrypt_with, encrypt_algorithm};
use super::keys::key_type;
use super::{Fields, internal, resolve_key};
use crate::params::Params;
use crate::server::ApiState;

/// Encrypt accepts at most 6 KiB of plaintext.
const MAX_PLAINTEXT_BYTES: usize = 6 * 1024;

/// Crypto operations need an Enabled key.
pub(super) fn require_enabled(meta: &KeyMetadata) -> Result<(), ApiError> {
    match meta.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(ApiError::new(ErrorCode::RejectedDisabled)),
        KeyState::PendingDeletion => Err(ApiError::new(ErrorCode::RejectedPendingDeletion)),
        KeyState::PendingImport => Err(ApiError::new(ErrorCode::RejectedPendingImport)),
    }
}

/// Crypto operations need an Enabled key whose imported material (if any) has not expired; expired
/// material counts as PendingImport until the scheduler records the transition.
pub(super) fn require_usable(api: &ApiState, meta: &KeyMetadata) -> Result<(), ApiError> {
    require_enabled(meta)?;
    match meta.material_expire_ms {
        Some(expire_ms) if api.clock.now_ms() >= expire_ms => {
            Err(ApiError::new(ErrorCode::RejectedPendingImport))
        }
        _ => Ok(()),
    }
}

/// The version's material, unwrapped under the domain key (kept by wrapped material, see
/// `unwrapped.rs`: the caller has already checked the key's state).
pub(super) fn unwrap_material(
    api: &ApiState,
    version: &KeyVersion,
) -> Result<Arc<KeyMaterial>, ApiError> {
    let aad = KeyVersion::wrap_aad(&version.key_id, &version.version_id);
    api.materials
        .get_or_make(&aad, &version.wrapped_material, || {
            api.domain_key.unwrap(&aad, &version.wrapped_material)
        })
        .map_err(|_| {
            tracing::error!(key_id = %version.key_id, "key material does not unwrap under the domain key");
            ApiError::new(ErrorCode::InternalFailure)
        })
}

/// The plaintext's size as the client means it: `Plaintext` is documented as Base64, but clients
/// expect Decrypt to return exactly the string they sent, so the string itself is encrypted.
fn plaintext_len(plaintext: &str) -> usize {
    B64.decode(plaintext).map(|b| b.len()).unwrap_or(plaintext.len())
}

/// The key a symmetric operation (Encrypt, GenerateDataKey…) seals under: the `KeyId` parameter
/// resolved, Enabled, an ENCRYPT/DECRYPT symmetric key, with its primary version's material.
pub(super) async fn symmetric_primary(
    api: &ApiState,
    key_param: &str,
) -> Result<(KeyMetadata, KeyVersion, Arc<KeyMaterial>), ApiError> {
    let meta = resolve_key(api, key_param).await?;
    require_usable(api, &meta)?;
    if meta.usage != KeyUsage::EncryptDecrypt || !meta.spec.is_symmetric() {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let version = api
        .replica
        .key_version(&meta.key_id, &meta.primary_version)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::InternalFailure))?;
    let material = unwrap_material(api, &version)?;
    Ok((meta, version, material))
}

/// Seals `plaintext` under a key's version into a Base64 blob, with the encryption context as AAD.
pub(super) fn seal_b64(
    meta: &KeyMetadata,
    version: &KeyVersion,
    material: &KeyMaterial,
    plaintext: &[u8],
    context: &std::collections::BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let header = BlobHeader {
        key_id: meta.key_id.to_string(),
        key_version_id: version.version_id.to_string(),
    };
    let blob = seal_blob_for(
        key_type(meta.spec),
        material,
        &header,
        plaintext,
        &encryption_context_aad(context),
    )
    .map_err(|_| ApiError::invalid("Plaintext"))?;
    Ok(B64.encode(blob))
}

pub(super) async fn encrypt(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let plaintext = p.required("Plaintext")?;
    if plaintext_len(plaintext) > MAX_PLAINTEXT_BYTES {
        return Err(ApiError::invalid("Plaintext"));
    }
    let context = p.string_map("EncryptionContext")?;
    let (meta, version, material) = symmetric_primary(api, key_param).await?;
    let blob = seal_b64(&meta, &version, &material, plaintext.as_bytes(), &context)?;
    Ok(Fields::from_iter([
        ("CiphertextBlob".to_string(), Value::String(blob)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
    ]))
}

/// Opens a symmetric blob (Base64) with its encryption context: the key it names must exist and be
/// Enabled; anything wrong with the blob or the context is `InvalidParameter` on `param`.
pub(super) fn open_symmetric(
    api: &ApiState,
    blob_b64: &str,
    context: &std::collections::BTreeMap<String, String>,
    param: &str,
) -> Result<(KeyMetadata, KeyVersion, Zeroizing<Vec<u8>>), ApiError> {
    let invalid_blob = || ApiError::invalid(param);
    let blob = B64.decode(blob_b64.trim()).map_err(|_| invalid_blob())?;
    let header = parse_blob_header(&blob).map_err(|_| invalid_blob())?;
    let meta = api
        .replica
        .key(&header.key_id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyNotFound))?;
    require_usable(api, &meta)?;
    if !meta.spec.is_symmetric() {
        return Err(invalid_blob());
    }
    let version = api
        .replica
        .key_version(&meta.key_id, &yaoshi_model::KeyVersionId::new(header.key_version_id.clone()))
        .map_err(internal)?
        .ok_or_else(invalid_blob)?;
    let material = unwrap_material(api, &version)?;
    let plaintext =
        open_blob_for(key_type(meta.spec), &material, &blob, &encryption_context_aad(context))
            .map_err(|_| invalid_blob())?;
    Ok((meta, version, plaintext))
}

pub(super) fn decrypt(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let blob_b64 = p.required("CiphertextBlob")?;
    let context = p.string_map("EncryptionContext")?;
    let (meta, version, plaintext) = open_symmetric(api, blob_b64, &context, "CiphertextBlob")?;
    let plaintext = match std::str::from_utf8(&plaintext) {
        Ok(s) => s.to_string(),
        Err(_) => B64.encode(&plaintext[..]),
    };
    Ok(Fields::from_iter([
        ("Plaintext".to_string(), Value::String(plaintext)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
    ]))
}

/// ReEncrypt: open the source ciphertext and seal the same plaintext under `DestinationKeyId`'s
/// primary version and `DestinationEncryptionContext`. The plaintext never leaves the process.
///
/// The source is a symmetric blob (opened under its own key and `SourceEncryptionContext`), or,
/// when `SourceEncryptionAlgorithm` is given, public-key ciphertext of the asymmetric key
/// `SourceKeyId`/`SourceKeyVersionId` (AsymmetricEncrypt's output, or a local encryption to
/// GetPublicKey's key). Public-key plaintext is sealed as its Base64 text, as data keys are, so
/// Decrypt of the result returns the `Plaintext` AsymmetricDecrypt would.
pub(super) async fn re_encrypt(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let destination = p.required("DestinationKeyId")?;
    let destination_context = p.string_map("DestinationEncryptionContext")?;
    let (source_key, source_version, plaintext) =
        if p.optional("SourceEncryptionAlgorithm").is_some() {
            let algorithm = encrypt_algorithm(p, "SourceEncryptionAlgorithm")?;
            let ciphertext = p.base64("CiphertextBlob")?;
            let key = asymmetric_key(
                api,
                p.required("SourceKeyId")?,
                p.required("SourceKeyVersionId")?,
                Some(KeyUsage::EncryptDecrypt),
                |kind| (!algorithm.can_encrypt(kind)).then_some("SourceEncryptionAlgorithm"),
            )
            .await?;
            let raw = decrypt_with(&key, algorithm, &ciphertext, "CiphertextBlob")?;
            let text = Zeroizing::new(B64.encode(&raw[..]).into_bytes());
            (key.meta.key_id, key.version.version_id, text)
        } else {
            let blob_b64 = p.required("CiphertextBlob")?;
            let source_context = p.string_map("SourceEncryptionContext")?;
            let (source, version, plaintext) =
                open_symmetric(api, blob_b64, &source_context, "CiphertextBlob")?;
            (source.key_id, version.version_id, plaintext)
        };
    let (meta, version, material) = symmetric_primary(api, destination).await?;
    let blob = seal_b64(&meta, &version, &material, &plaintext, &destination_context)?;
    Ok(Fields::from_iter([
        ("CiphertextBlob".to_string(), Value::String(blob)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
        ("SourceKeyId".to_string(), json!(source_key.as_str())),
        ("SourceKeyVersionId".to_string(), json!(source_version.as_str())),
    ]))
}
