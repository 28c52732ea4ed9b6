//! Key material for the data plane: the state checks a crypto operation needs, unwrapping a
//! version's material under the domain key (through the `unwrapped.rs` cache), the symmetric
//! blob helpers, and resolving an asymmetric key version. Used by every data-plane handler
//! (`actions/crypto.rs`, `actions/datakey.rs`, `actions/asymmetric.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{
    BlobHeader, CryptoError, EncryptAlgorithm, KeyMaterial, KeyType, asymmetric_decrypt,
    encryption_context_aad, open_blob_for, parse_blob_header, seal_blob_for,
};
use yaoshi_model::{
    ApiError, ErrorCode, KeyMetadata, KeySpec, KeyState, KeyUsage, KeyVersion, KeyVersionId,
};
use zeroize::Zeroizing;

use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, internal, resolve_key};

/// The crypto crate's key type of a key spec.
pub(crate) fn key_type(spec: KeySpec) -> KeyType {
    KeyType::from(spec)
}

/// Crypto operations need an Enabled key; the other states answer their own `Rejected.*` code.
pub(crate) fn require_enabled(meta: &KeyMetadata) -> Result<(), ApiError> {
    match meta.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(ApiError::new(ErrorCode::RejectedDisabled)),
        KeyState::PendingDeletion => Err(ApiError::new(ErrorCode::RejectedPendingDeletion)),
        KeyState::PendingImport => Err(ApiError::new(ErrorCode::RejectedPendingImport)),
    }
}

/// Crypto operations need an Enabled key whose imported material (if any) has not expired; expired
/// material counts as PendingImport until the scheduler records the transition.
pub(crate) fn require_usable(api: &ApiState, meta: &KeyMetadata) -> Result<(), ApiError> {
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
pub(crate) fn unwrap_material(
    api: &ApiState,
    version: &KeyVersion,
) -> Result<Arc<KeyMaterial>, ApiError> {
    let aad = KeyVersion::wrap_aad(&version.key_id, &version.version_id);
    unwrap_cached(api, &aad, &version.wrapped_material).inspect_err(|_| {
        tracing::error!(key_id = %version.key_id, "key material does not unwrap under the domain key");
    })
}

/// `wrapped` (wrapped under `aad`) unwrapped under the domain key, kept in `api.materials` by the
/// wrapped bytes; a failure is `InternalFailure` (the caller logs what it was).
pub(crate) fn unwrap_cached(
    api: &ApiState,
    aad: &[u8],
    wrapped: &[u8],
) -> Result<Arc<KeyMaterial>, ApiError> {
    api.materials
        .get_or_make(aad, wrapped, || api.domain_key.unwrap(aad, wrapped))
        .map_err(|_| ApiError::new(ErrorCode::InternalFailure))
}

/// The key a symmetric operation (Encrypt, GenerateDataKey…) seals under: the `KeyId` parameter
/// resolved, usable, an ENCRYPT/DECRYPT symmetric key, with its primary version's material.
pub(crate) fn symmetric_primary(
    api: &ApiState,
    key_param: &str,
) -> Result<(KeyMetadata, KeyVersion, Arc<KeyMaterial>), ApiError> {
    let meta = resolve_key(api, key_param)?;
    require_usable(api, &meta)?;
    if meta.usage != KeyUsage::EncryptDecrypt || !meta.spec.is_cipher() {
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
pub(crate) fn seal_b64(
    meta: &KeyMetadata,
    version: &KeyVersion,
    material: &KeyMaterial,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
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

/// Opens a symmetric blob (Base64) with its encryption context: the key it names must exist and be
/// usable; anything wrong with the blob or the context is `InvalidParameter` on `param`.
pub(crate) fn open_symmetric(
    api: &ApiState,
    blob_b64: &str,
    context: &BTreeMap<String, String>,
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
    if !meta.spec.is_cipher() {
        return Err(invalid_blob());
    }
    let version = api
        .replica
        .key_version(&meta.key_id, &KeyVersionId::new(header.key_version_id.clone()))
        .map_err(internal)?
        .ok_or_else(invalid_blob)?;
    let material = unwrap_material(api, &version)?;
    let plaintext =
        open_blob_for(key_type(meta.spec), &material, &blob, &encryption_context_aad(context))
            .map_err(|_| invalid_blob())?;
    Ok((meta, version, plaintext))
}

/// The `CiphertextBlob`, `KeyId` and `KeyVersionId` fields of a symmetric operation's response.
pub(crate) fn sealed_fields(blob: String, meta: &KeyMetadata, version: &KeyVersion) -> Fields {
    Fields::from_iter([
        ("CiphertextBlob".to_string(), Value::String(blob)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
    ])
}

/// An asymmetric key version resolved for an operation, with its material unwrapped.
pub(crate) struct AsymmetricKey {
    /// The key.
    pub(crate) meta: KeyMetadata,
    /// The version named by the request.
    pub(crate) version: KeyVersion,
    /// The key type of the spec.
    pub(crate) kind: KeyType,
    /// The version's private key material.
    pub(crate) material: Arc<KeyMaterial>,
}

impl AsymmetricKey {
    /// The `KeyId` and `KeyVersionId` fields every response carries.
    pub(crate) fn fields(&self) -> Fields {
        Fields::from_iter([
            ("KeyId".to_string(), json!(self.meta.key_id.as_str())),
            ("KeyVersionId".to_string(), json!(self.version.version_id.as_str())),
        ])
    }
}

/// Resolves the key `key_param` and its version `version_param`: the key must be usable, asymmetric
/// and (when `usage` is given) of that usage; `fits` says whether the requested algorithm belongs
/// to the key's type (`InvalidParameter` on the parameter it names otherwise).
pub(crate) fn asymmetric_key(
    api: &ApiState,
    key_param: &str,
    version_param: &str,
    usage: Option<KeyUsage>,
    fits: impl FnOnce(KeyType) -> Option<&'static str>,
) -> Result<AsymmetricKey, ApiError> {
    let meta = resolve_key(api, key_param)?;
    require_usable(api, &meta)?;
    if meta.spec.is_symmetric() || usage.is_some_and(|u| u != meta.usage) {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let kind = key_type(meta.spec);
    if let Some(param) = fits(kind) {
        return Err(ApiError::invalid(param));
    }
    let version = api
        .replica
        .key_version(&meta.key_id, &KeyVersionId::new(version_param))
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyVersionNotFound))?;
    let material = unwrap_material(api, &version)?;
    Ok(AsymmetricKey { meta, version, kind, material })
}

/// A named encryption algorithm parameter (`Algorithm`, `SourceEncryptionAlgorithm`,
/// `WrappingAlgorithm`); the decryption-only `RSAES_PKCS1_V1_5` of BYOK is not one of them.
pub(crate) fn encrypt_algorithm(p: &Params, name: &str) -> Result<EncryptAlgorithm, ApiError> {
    match EncryptAlgorithm::from_name(p.required(name)?) {
        Some(EncryptAlgorithm::RsaesPkcs1V15) | None => Err(ApiError::invalid(name)),
        Some(alg) => Ok(alg),
    }
}

/// A crypto failure the request caused, as `InvalidParameter` on `param`; anything else (bad
/// stored material) is an internal failure, logged without detail of the data.
pub(crate) fn crypto_error(e: CryptoError, param: &str) -> ApiError {
    match e {
        CryptoError::InvalidKeyMaterial | CryptoError::OperationFailed => internal(e),
        _ => ApiError::invalid(param),
    }
}

/// Decrypts public-key ciphertext with a key version's private key. Every failure caused by the
/// ciphertext is the same `InvalidParameter` on `param` (no padding oracle).
pub(crate) fn decrypt_with(
    key: &AsymmetricKey,
    algorithm: EncryptAlgorithm,
    ciphertext: &[u8],
    param: &str,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    asymmetric_decrypt(key.kind, algorithm, &key.material, ciphertext)
        .map_err(|e| crypto_error(e, param))
}
