//! Data keys: GenerateDataKey, GenerateDataKeyWithoutPlaintext, and the envelope exports
//! ExportDataKey and GenerateAndExportDataKey.
//!
//! A data key is sealed as its Base64 text, so Decrypt returns exactly the `Plaintext`
//! GenerateDataKey returned. An export encrypts the data key's raw bytes (the Base64 decoded) to
//! the caller's public key, which is what a crypto module importing it expects; a sealed
//! plaintext that is not Base64 (Encrypt accepts any text) is exported as its bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{
    CryptoError, EncryptAlgorithm, KeyType, encrypt_to_public_pem, public_pem_key_type,
    random_bytes,
};
use yaoshi_model::ApiError;
use zeroize::Zeroizing;

use crate::context::RequestContext;
use crate::material::{
    encrypt_algorithm, open_symmetric, seal_b64, sealed_fields, symmetric_primary,
};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::Fields;

/// The data key length: `NumberOfBytes` (1–1024) wins over `KeySpec` (`AES_256` default, or
/// `AES_128`). Also returns the name of the parameter that decided it.
fn data_key_len(p: &Params) -> Result<(usize, &'static str), ApiError> {
    if p.optional("NumberOfBytes").is_some() {
        let n = p.int_in("NumberOfBytes", 1, 1024, 32)?;
        let n = usize::try_from(n).map_err(|_| ApiError::invalid("NumberOfBytes"))?;
        return Ok((n, "NumberOfBytes"));
    }
    match p.optional("KeySpec") {
        None | Some("AES_256") => Ok((32, "KeySpec")),
        Some("AES_128") => Ok((16, "KeySpec")),
        Some(_) => Err(ApiError::invalid("KeySpec")),
    }
}

/// The public key an export wraps to: `PublicKeyBlob` (Base64 DER SubjectPublicKeyInfo; PEM is
/// accepted too) of type `WrappingKeySpec` (`RSA_2048` or `EC_SM2`), used with
/// `WrappingAlgorithm` (the OAEP algorithms for RSA, SM2PKE for SM2).
struct Wrapping {
    algorithm: EncryptAlgorithm,
    pem: String,
}

impl Wrapping {
    fn from_params(p: &Params) -> Result<Wrapping, ApiError> {
        let algorithm = encrypt_algorithm(p, "WrappingAlgorithm")?;
        let spec = match p.required("WrappingKeySpec")? {
            "RSA_2048" => KeyType::Rsa2048,
            "EC_SM2" => KeyType::EcSm2,
            _ => return Err(ApiError::invalid("WrappingKeySpec")),
        };
        if !algorithm.can_encrypt(spec) {
            return Err(ApiError::invalid("WrappingAlgorithm"));
        }
        let raw = p.required("PublicKeyBlob")?;
        let pem = if raw.trim_start().starts_with("-----BEGIN") {
            raw.to_string()
        } else {
            spki_pem(&p.base64("PublicKeyBlob")?)
        };
        match public_pem_key_type(&pem) {
            Ok(kind) if kind == spec => Ok(Wrapping { algorithm, pem }),
            _ => Err(ApiError::invalid("PublicKeyBlob")),
        }
    }

    /// Encrypts `data_key` to the public key, Base64; too long for the key is `InvalidParameter`
    /// on `size_param`.
    fn wrap(&self, data_key: &[u8], size_param: &str) -> Result<String, ApiError> {
        encrypt_to_public_pem(self.algorithm, &self.pem, data_key).map(|c| B64.encode(c)).map_err(
            |e| match e {
                CryptoError::PlaintextTooLong { .. } | CryptoError::EmptyPlaintext => {
                    ApiError::invalid(size_param)
                }
                _ => ApiError::invalid("PublicKeyBlob"),
            },
        )
    }
}

/// DER SubjectPublicKeyInfo as PEM.
fn spki_pem(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// The bytes an export wraps for a sealed plaintext: the Base64-decoded data key, or the
/// plaintext itself when it is not Base64.
fn export_bytes(sealed: &[u8]) -> Zeroizing<Vec<u8>> {
    match B64.decode(sealed) {
        Ok(raw) if !raw.is_empty() => Zeroizing::new(raw),
        _ => Zeroizing::new(sealed.to_vec()),
    }
}

/// Generates a data key, seals it under the key's primary version and returns the fields of
/// GenerateDataKey (without `Plaintext`) and the data key.
fn new_data_key(
    api: &ApiState,
    p: &Params,
    len: usize,
) -> Result<(Fields, Zeroizing<Vec<u8>>), ApiError> {
    let key_param = p.required("KeyId")?;
    let context = p.string_map("EncryptionContext")?;
    let (meta, version, material) = symmetric_primary(api, key_param)?;
    let data_key = random_bytes(len);
    let encoded = Zeroizing::new(B64.encode(&data_key[..]));
    let blob = seal_b64(&meta, &version, &material, encoded.as_bytes(), &context)?;
    Ok((sealed_fields(blob, &meta, &version), data_key))
}

pub(super) async fn generate_data_key(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let (len, _) = data_key_len(p)?;
    let (mut fields, data_key) = new_data_key(api, p, len)?;
    fields.insert("Plaintext".to_string(), Value::String(B64.encode(&data_key[..])));
    Ok(fields)
}

pub(super) async fn generate_data_key_without_plaintext(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let (len, _) = data_key_len(p)?;
    let (fields, _) = new_data_key(api, p, len)?;
    Ok(fields)
}

pub(super) async fn generate_and_export_data_key(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let (len, size_param) = data_key_len(p)?;
    let wrapping = Wrapping::from_params(p)?;
    let limit = wrapping.algorithm.max_plaintext_len(match wrapping.algorithm {
        EncryptAlgorithm::Sm2Pke => KeyType::EcSm2,
        _ => KeyType::Rsa2048,
    });
    if limit.is_some_and(|max| len > max) {
        return Err(ApiError::invalid(size_param));
    }
    let (mut fields, data_key) = new_data_key(api, p, len)?;
    let exported = wrapping.wrap(&data_key, size_param)?;
    fields.insert("ExportedDataKey".to_string(), Value::String(exported));
    Ok(fields)
}

pub(super) async fn export_data_key(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let blob = p.required("CiphertextBlob")?;
    let context = p.string_map("EncryptionContext")?;
    let wrapping = Wrapping::from_params(p)?;
    let (meta, version, sealed) = open_symmetric(api, blob, &context, "CiphertextBlob")?;
    let exported = wrapping.wrap(&export_bytes(&sealed), "CiphertextBlob")?;
    Ok(Fields::from_iter([
        ("ExportedDataKey".to_string(), Value::String(exported)),
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_bytes_decode_base64_data_keys_only() {
        assert_eq!(&export_bytes(b"AAEC")[..], &[0, 1, 2]);
        assert_eq!(&export_bytes(b"not base64!")[..], b"not base64!");
        assert_eq!(&export_bytes(b"")[..], b"");
    }

    #[test]
    fn spki_pem_lines() {
        let pem = spki_pem(&[7u8; 100]);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
    }
}
