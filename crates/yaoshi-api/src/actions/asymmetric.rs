//! Asymmetric keys on the data plane: GetPublicKey, AsymmetricSign, AsymmetricVerify,
//! AsymmetricEncrypt and AsymmetricDecrypt.
//!
//! Every action names a key and one of its versions. Errors, in the order they are checked:
//! a missing parameter (`MissingParameter`); an unknown `Algorithm` name or a value that is not
//! Base64 (`InvalidParameter`); the key (`Forbidden.KeyNotFound`, the `Rejected.*` state codes);
//! a symmetric key or a key of the other usage (`Unsupported.Operation`); an algorithm that does
//! not belong to the key spec, a digest that is not 32 bytes, a plaintext outside the limits or a
//! ciphertext that does not decrypt (`InvalidParameter`); the version
//! (`Forbidden.KeyVersionNotFound`).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{
    CryptoError, EncryptAlgorithm, KeyMaterial, KeyType, SIGN_DIGEST_LEN, SignAlgorithm,
    SigningKey, asymmetric_decrypt, asymmetric_encrypt, public_key_pem, verify_digest,
};
use yaoshi_model::{ApiError, ErrorCode, KeyMetadata, KeyUsage, KeyVersion, KeyVersionId};
use zeroize::Zeroizing;

use super::crypto::{require_usable, unwrap_material};
use super::keys::key_type;
use super::{Fields, internal, resolve_key};
use crate::params::Params;
use crate::server::ApiState;

/// An asymmetric key version resolved for an operation, with its material unwrapped.
pub(super) struct AsymmetricKey {
    /// The key.
    pub(super) meta: KeyMetadata,
    /// The version named by the request.
    pub(super) version: KeyVersion,
    /// The key type of the spec.
    pub(super) kind: KeyType,
    /// The version's private key material.
    pub(super) material: Arc<KeyMaterial>,
}

impl AsymmetricKey {
    /// The `KeyId` and `KeyVersionId` fields every response carries.
    fn fields(&self) -> Fields {
        Fields::from_iter([
            ("KeyId".to_string(), json!(self.meta.key_id.as_str())),
            ("KeyVersionId".to_string(), json!(self.version.version_id.as_str())),
        ])
    }
}

/// Resolves the key `key_param` and its version `version_param`: the key must be usable, asymmetric
/// and (when `usage` is given) of that usage; `fits` says whether the requested algorithm belongs
/// to the key's type (`InvalidParameter` on `algorithm_param` otherwise).
pub(super) async fn asymmetric_key(
    api: &ApiState,
    key_param: &str,
    version_param: &str,
    usage: Option<KeyUsage>,
    fits: impl FnOnce(KeyType) -> Option<&'static str>,
) -> Result<AsymmetricKey, ApiError> {
    let meta = resolve_key(api, key_param).await?;
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

/// The `Algorithm` parameter as a signature algorithm.
fn sign_algorithm(p: &Params) -> Result<SignAlgorithm, ApiError> {
    SignAlgorithm::from_name(p.required("Algorithm")?).ok_or_else(|| ApiError::invalid("Algorithm"))
}

/// A named encryption algorithm parameter (`Algorithm`, `SourceEncryptionAlgorithm`…); the
/// decryption-only `RSAES_PKCS1_V1_5` of BYOK is not one of them.
pub(super) fn encrypt_algorithm(p: &Params, name: &str) -> Result<EncryptAlgorithm, ApiError> {
    match EncryptAlgorithm::from_name(p.required(name)?) {
        Some(EncryptAlgorithm::RsaesPkcs1V15) | None => Err(ApiError::invalid(name)),
        Some(alg) => Ok(alg),
    }
}

/// A crypto failure the request caused, as `InvalidParameter` on `param`; anything else (bad
/// stored material) is an internal failure, logged without detail of the data.
fn crypto_error(e: CryptoError, param: &str) -> ApiError {
    match e {
        CryptoError::InvalidKeyMaterial | CryptoError::OperationFailed => internal(e),
        _ => ApiError::invalid(param),
    }
}

pub(super) async fn get_public_key(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let key = asymmetric_key(api, key_param, version_param, None, |_| None).await?;
    let pem = public_key_pem(key.kind, &key.material).map_err(internal)?;
    let mut fields = key.fields();
    fields.insert("PublicKey".to_string(), Value::String(pem));
    Ok(fields)
}

/// The parameters AsymmetricSign and AsymmetricVerify share, validated, and the key.
async fn signing_key(
    api: &ApiState,
    p: &Params,
) -> Result<(AsymmetricKey, SignAlgorithm, Zeroizing<Vec<u8>>), ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let algorithm = sign_algorithm(p)?;
    let digest = p.base64("Digest")?;
    let key = asymmetric_key(api, key_param, version_param, Some(KeyUsage::SignVerify), |kind| {
        (!algorithm.supports(kind)).then_some("Algorithm")
    })
    .await?;
    if digest.len() != SIGN_DIGEST_LEN {
        return Err(ApiError::invalid("Digest"));
    }
    Ok((key, algorithm, digest))
}

pub(super) async fn asymmetric_sign(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let (key, algorithm, digest) = signing_key(api, p).await?;
    let parsed = api
        .signing_keys
        .get_or_make(
            &KeyVersion::wrap_aad(&key.version.key_id, &key.version.version_id),
            &key.version.wrapped_material,
            || SigningKey::from_material(key.kind, &key.material),
        )
        .map_err(|e| crypto_error(e, "Digest"))?;
    let signature = parsed.sign(algorithm, &digest).map_err(|e| crypto_error(e, "Digest"))?;
    let mut fields = key.fields();
    fields.insert("Value".to_string(), Value::String(B64.encode(signature)));
    Ok(fields)
}

pub(super) async fn asymmetric_verify(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let signature = p.base64("Value")?;
    let (key, algorithm, digest) = signing_key(api, p).await?;
    let valid = verify_digest(key.kind, algorithm, &key.material, &digest, &signature)
        .map_err(|e| crypto_error(e, "Digest"))?;
    let mut fields = key.fields();
    fields.insert("Value".to_string(), Value::Bool(valid));
    Ok(fields)
}

/// The key of AsymmetricEncrypt / AsymmetricDecrypt and its validated algorithm.
async fn encryption_key(
    api: &ApiState,
    p: &Params,
) -> Result<(AsymmetricKey, EncryptAlgorithm), ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let algorithm = encrypt_algorithm(p, "Algorithm")?;
    let key =
        asymmetric_key(api, key_param, version_param, Some(KeyUsage::EncryptDecrypt), |kind| {
            (!algorithm.can_encrypt(kind)).then_some("Algorithm")
        })
        .await?;
    Ok((key, algorithm))
}

pub(super) async fn asymmetric_encrypt_action(
    api: &ApiState,
    p: &Params,
) -> Result<Fields, ApiError> {
    let plaintext = p.base64("Plaintext")?;
    let (key, algorithm) = encryption_key(api, p).await?;
    let ciphertext = asymmetric_encrypt(key.kind, algorithm, &key.material, &plaintext)
        .map_err(|e| crypto_error(e, "Plaintext"))?;
    let mut fields = key.fields();
    fields.insert("CiphertextBlob".to_string(), Value::String(B64.encode(ciphertext)));
    Ok(fields)
}

/// Decrypts public-key ciphertext with a key version's private key. Every failure caused by the
/// ciphertext is the same `InvalidParameter` on `param` (no padding oracle).
pub(super) fn decrypt_with(
    key: &AsymmetricKey,
    algorithm: EncryptAlgorithm,
    ciphertext: &[u8],
    param: &str,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    asymmetric_decrypt(key.kind, algorithm, &key.material, ciphertext)
        .map_err(|e| crypto_error(e, param))
}

pub(super) async fn asymmetric_decrypt_action(
    api: &ApiState,
    p: &Params,
) -> Result<Fields, ApiError> {
    let ciphertext = p.base64("CiphertextBlob")?;
    let (key, algorithm) = encryption_key(api, p).await?;
    let plaintext = decrypt_with(&key, algorithm, &ciphertext, "CiphertextBlob")?;
    let mut fields = key.fields();
    fields.insert("Plaintext".to_string(), Value::String(B64.encode(&plaintext[..])));
    Ok(fields)
}
