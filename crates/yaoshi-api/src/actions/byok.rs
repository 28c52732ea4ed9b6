//! Bring your own key: GetParametersForImport, ImportKeyMaterial, DeleteKeyMaterial.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{generate_key, public_key_pem, unwrap_imported_material};
use yaoshi_model::{ApiError, Command, ErrorCode, ImportToken, KeyOrigin, KeySpec, KeyVersion};

use crate::context::RequestContext;
use crate::material::key_type;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{
    Fields, format_time, fresh_key, fresh_key_ref, internal, propose, propose_unit, state,
};

/// The wrapping key spec and algorithm pairs of docs/DESIGN.md §4.
fn wrapping(p: &Params) -> Result<(KeySpec, &str), ApiError> {
    let algorithm = p.required("WrappingAlgorithm")?;
    let spec = p.required("WrappingKeySpec")?;
    match (spec, algorithm) {
        ("RSA_2048", "RSAES_PKCS1_V1_5" | "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256") => {
            Ok((KeySpec::Rsa2048, algorithm))
        }
        ("EC_SM2", "SM2PKE") => Ok((KeySpec::EcSm2, algorithm)),
        ("RSA_2048" | "EC_SM2", _) => Err(ApiError::invalid("WrappingAlgorithm")),
        _ => Err(ApiError::invalid("WrappingKeySpec")),
    }
}

/// The PEM body: Base64 of the DER SubjectPublicKeyInfo, as the reference returns `PublicKey`.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// A fresh wrapping key pair and token per call, valid 24 hours, replicated so any node can take
/// the ImportKeyMaterial that follows.
pub(super) async fn get_parameters_for_import(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    let (spec, algorithm) = wrapping(p)?;
    let private = tokio::task::spawn_blocking(move || generate_key(key_type(spec)))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    let public = pem_body(&public_key_pem(key_type(spec), &private).map_err(internal)?);
    let token = uuid::Uuid::new_v4().to_string();
    let wrapped_private_key =
        api.domain_key.wrap(&ImportToken::wrap_aad(&key_id, &token), &private);
    drop(private);
    let expire_ms = ctx.now_ms.saturating_add(ImportToken::VALIDITY_MS);
    let record = ImportToken {
        token: token.clone(),
        key_id: key_id.clone(),
        wrapping_spec: spec,
        wrapping_algorithm: algorithm.to_string(),
        wrapped_private_key,
        expire_ms,
    };
    propose(api, ctx, Command::CreateImportToken { token: record }).await?;
    Ok(Fields::from_iter([
        ("KeyId".to_string(), json!(key_id.as_str())),
        ("ImportToken".to_string(), Value::String(token)),
        ("PublicKey".to_string(), Value::String(public)),
        ("TokenExpireTime".to_string(), Value::String(format_time(expire_ms))),
    ]))
}

pub(super) async fn delete_key_material(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    propose_unit(api, ctx, Command::DeleteKeyMaterial { key_id }).await
}

/// `KeyMaterialExpireUnix`: Unix seconds, 0 or absent = never; not in the past.
fn material_expiry(p: &Params, now_ms: i64) -> Result<Option<i64>, ApiError> {
    let seconds = p.int_in("KeyMaterialExpireUnix", 0, i64::MAX / 1000, 0)?;
    if seconds == 0 {
        return Ok(None);
    }
    let ms = seconds * 1000;
    if ms < now_ms {
        return Err(ApiError::invalid("KeyMaterialExpireUnix"));
    }
    Ok(Some(ms))
}

/// Unwraps the client's material with the token's private key, checks it fits the key spec, and
/// proposes it wrapped under the domain key with its keyed digest; apply decides whether the key
/// may take it (state, token, same material as before).
pub(super) async fn import_key_material(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_param = p.required("KeyId")?;
    let encrypted = p.required("EncryptedKeyMaterial")?;
    let token = p.required("ImportToken")?;
    let expire_ms = material_expiry(p, ctx.now_ms)?;
    let key = fresh_key(api, key_param).await?;
    if key.origin != KeyOrigin::External {
        return Err(ApiError::new(ErrorCode::UnsupportedOrigin));
    }
    let record = match state(api)?.import_token(token).map_err(internal)? {
        Some(t) if t.key_id == key.key_id => t,
        _ => return Err(ApiError::new(ErrorCode::InvalidImportToken)),
    };
    if ctx.now_ms >= record.expire_ms {
        return Err(ApiError::new(ErrorCode::ExpiredImportToken));
    }
    let ciphertext =
        B64.decode(encrypted.trim()).map_err(|_| ApiError::invalid("EncryptedKeyMaterial"))?;
    let private = api
        .domain_key
        .unwrap(&ImportToken::wrap_aad(&key.key_id, token), &record.wrapped_private_key)
        .map_err(internal)?;
    let wrapping = key_type(record.wrapping_spec);
    let algorithm = record.wrapping_algorithm.clone();
    let material = tokio::task::spawn_blocking(move || {
        unwrap_imported_material(wrapping, &algorithm, &private, &ciphertext)
    })
    .await
    .map_err(internal)?
    .map_err(|_| ApiError::new(ErrorCode::InvalidKeyMaterial))?;
    if Some(material.len()) != key_type(key.spec).symmetric_len() {
        return Err(ApiError::new(ErrorCode::InvalidKeyMaterial));
    }
    let aad = KeyVersion::wrap_aad(&key.key_id, &key.primary_version);
    let command = Command::ImportKeyMaterial {
        key_id: key.key_id.clone(),
        token: token.to_string(),
        wrapped_material: api.domain_key.wrap(&aad, &material),
        material_digest: api.domain_key.material_digest(&aad, &material),
        expire_ms,
    };
    drop(material);
    propose_unit(api, ctx, command).await
}
