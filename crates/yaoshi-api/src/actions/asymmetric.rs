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

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use yaoshi_crypto::{
    EncryptAlgorithm, SIGN_DIGEST_LEN, SignAlgorithm, SigningKey,
    asymmetric_encrypt as encrypt_to_key, public_key_pem, verify_digest,
};
use yaoshi_model::{ApiError, KeyUsage, KeyVersion};
use zeroize::Zeroizing;

use crate::context::RequestContext;
use crate::material::{
    AsymmetricKey, asymmetric_key, crypto_error, decrypt_with, encrypt_algorithm,
};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, internal};

/// The `Algorithm` parameter as a signature algorithm.
fn sign_algorithm(p: &Params) -> Result<SignAlgorithm, ApiError> {
    SignAlgorithm::from_name(p.required("Algorithm")?).ok_or_else(|| ApiError::invalid("Algorithm"))
}

pub(super) async fn get_public_key(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let key = asymmetric_key(api, key_param, version_param, None, |_| None)?;
    let pem = public_key_pem(key.kind, &key.material).map_err(internal)?;
    let mut fields = key.fields();
    fields.insert("PublicKey".to_string(), Value::String(pem));
    Ok(fields)
}

/// The parameters AsymmetricSign and AsymmetricVerify share, validated, and the key.
fn signing_key(
    api: &ApiState,
    p: &Params,
) -> Result<(AsymmetricKey, SignAlgorithm, Zeroizing<Vec<u8>>), ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let algorithm = sign_algorithm(p)?;
    let digest = p.base64("Digest")?;
    let key = asymmetric_key(api, key_param, version_param, Some(KeyUsage::SignVerify), |kind| {
        (!algorithm.supports(kind)).then_some("Algorithm")
    })?;
    if digest.len() != SIGN_DIGEST_LEN {
        return Err(ApiError::invalid("Digest"));
    }
    Ok((key, algorithm, digest))
}

pub(super) async fn asymmetric_sign(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let (key, algorithm, digest) = signing_key(api, p)?;
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

pub(super) async fn asymmetric_verify(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let signature = p.base64("Value")?;
    let (key, algorithm, digest) = signing_key(api, p)?;
    let valid = verify_digest(key.kind, algorithm, &key.material, &digest, &signature)
        .map_err(|e| crypto_error(e, "Digest"))?;
    let mut fields = key.fields();
    fields.insert("Value".to_string(), Value::Bool(valid));
    Ok(fields)
}

/// The key of AsymmetricEncrypt / AsymmetricDecrypt and its validated algorithm.
fn encryption_key(
    api: &ApiState,
    p: &Params,
) -> Result<(AsymmetricKey, EncryptAlgorithm), ApiError> {
    let key_param = p.required("KeyId")?;
    let version_param = p.required("KeyVersionId")?;
    let algorithm = encrypt_algorithm(p, "Algorithm")?;
    let key =
        asymmetric_key(api, key_param, version_param, Some(KeyUsage::EncryptDecrypt), |kind| {
            (!algorithm.can_encrypt(kind)).then_some("Algorithm")
        })?;
    Ok((key, algorithm))
}

pub(super) async fn asymmetric_encrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let plaintext = p.base64("Plaintext")?;
    let (key, algorithm) = encryption_key(api, p)?;
    let ciphertext = encrypt_to_key(key.kind, algorithm, &key.material, &plaintext)
        .map_err(|e| crypto_error(e, "Plaintext"))?;
    let mut fields = key.fields();
    fields.insert("CiphertextBlob".to_string(), Value::String(B64.encode(ciphertext)));
    Ok(fields)
}

pub(super) async fn asymmetric_decrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let ciphertext = p.base64("CiphertextBlob")?;
    let (key, algorithm) = encryption_key(api, p)?;
    let plaintext = decrypt_with(&key, algorithm, &ciphertext, "CiphertextBlob")?;
    let mut fields = key.fields();
    fields.insert("Plaintext".to_string(), Value::String(B64.encode(&plaintext[..])));
    Ok(fields)
}
