//! Data keys: GenerateDataKey and GenerateDataKeyWithoutPlaintext.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::random_bytes;
use yaoshi_model::ApiError;
use zeroize::Zeroizing;

use super::Fields;
use super::crypto::{seal_b64, symmetric_primary};
use crate::params::Params;
use crate::server::ApiState;

/// The data key length: `NumberOfBytes` (1–1024) wins over `KeySpec` (`AES_256` default, or
/// `AES_128`).
fn data_key_len(p: &Params) -> Result<usize, ApiError> {
    if p.optional("NumberOfBytes").is_some() {
        let n = p.int_in("NumberOfBytes", 1, 1024, 32)?;
        return usize::try_from(n).map_err(|_| ApiError::invalid("NumberOfBytes"));
    }
    match p.optional("KeySpec") {
        None | Some("AES_256") => Ok(32),
        Some("AES_128") => Ok(16),
        Some(_) => Err(ApiError::invalid("KeySpec")),
    }
}

/// Generates a data key and seals it under the key's primary version. The sealed plaintext is the
/// data key's Base64 text, so Decrypt returns exactly the `Plaintext` GenerateDataKey returned.
pub(super) async fn generate_data_key(
    api: &ApiState,
    p: &Params,
    with_plaintext: bool,
) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let len = data_key_len(p)?;
    let context = p.string_map("EncryptionContext")?;
    let (meta, version, material) = symmetric_primary(api, key_param).await?;
    let data_key = random_bytes(len);
    let encoded = Zeroizing::new(B64.encode(&data_key[..]));
    let blob = seal_b64(&meta, &version, &material, encoded.as_bytes(), &context)?;
    let mut fields = Fields::from_iter([
        ("CiphertextBlob".to_string(), Value::String(blob)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
    ]);
    if with_plaintext {
        fields.insert("Plaintext".to_string(), Value::String(encoded.to_string()));
    }
    Ok(fields)
}
