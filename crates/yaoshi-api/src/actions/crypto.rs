//! Data-plane actions on the local replica: Encrypt, Decrypt, ReEncrypt.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_model::{ApiError, KeyUsage};
use zeroize::Zeroizing;

use crate::context::RequestContext;
use crate::material::{
    asymmetric_key, decrypt_with, encrypt_algorithm, open_symmetric, seal_b64, sealed_fields,
    symmetric_primary,
};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::Fields;

/// Encrypt accepts at most 6 KiB of plaintext.
const MAX_PLAINTEXT_BYTES: usize = 6 * 1024;

/// The plaintext's size as the client means it: `Plaintext` is documented as Base64, but clients
/// expect Decrypt to return exactly the string they sent, so the string itself is encrypted.
fn plaintext_len(plaintext: &str) -> usize {
    B64.decode(plaintext).map(|b| b.len()).unwrap_or(plaintext.len())
}

pub(super) async fn encrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let plaintext = p.required("Plaintext")?;
    if plaintext_len(plaintext) > MAX_PLAINTEXT_BYTES {
        return Err(ApiError::invalid("Plaintext"));
    }
    let context = p.string_map("EncryptionContext")?;
    let (meta, version, material) = symmetric_primary(api, key_param)?;
    let blob = seal_b64(&meta, &version, &material, plaintext.as_bytes(), &context)?;
    Ok(sealed_fields(blob, &meta, &version))
}

pub(super) async fn decrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
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
pub(super) async fn re_encrypt(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
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
            )?;
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
    let (meta, version, material) = symmetric_primary(api, destination)?;
    let blob = seal_b64(&meta, &version, &material, &plaintext, &destination_context)?;
    let mut fields = sealed_fields(blob, &meta, &version);
    fields.insert("SourceKeyId".to_string(), json!(source_key.as_str()));
    fields.insert("SourceKeyVersionId".to_string(), json!(source_version.as_str()));
    Ok(fields)
}
