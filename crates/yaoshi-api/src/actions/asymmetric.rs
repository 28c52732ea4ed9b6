//! Asymmetric keys on the data plane: GetPublicKey.

use serde_json::{Value, json};
use yaoshi_crypto::public_key_pem;
use yaoshi_model::{ApiError, ErrorCode, KeyMetadata, KeyVersion, KeyVersionId};

use super::crypto::{require_enabled, unwrap_material};
use super::keys::key_type;
use super::{Fields, internal, resolve_key};
use crate::params::Params;
use crate::server::ApiState;

/// An Enabled asymmetric key and the version named by `KeyVersionId`.
async fn asymmetric_version(
    api: &ApiState,
    p: &Params,
) -> Result<(KeyMetadata, KeyVersion), ApiError> {
    let meta = resolve_key(api, p.required("KeyId")?).await?;
    let version_id = KeyVersionId::new(p.required("KeyVersionId")?);
    require_enabled(&meta)?;
    if meta.spec.is_symmetric() {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let version = api
        .replica
        .key_version(&meta.key_id, &version_id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyVersionNotFound))?;
    Ok((meta, version))
}

pub(super) async fn get_public_key(api: &ApiState, p: &Params) -> Result<Fields, ApiError> {
    let (meta, version) = asymmetric_version(api, p).await?;
    let material = unwrap_material(api, &version)?;
    let pem = public_key_pem(key_type(meta.spec), &material).map_err(internal)?;
    Ok(Fields::from_iter([
        ("KeyId".to_string(), json!(meta.key_id.as_str())),
        ("KeyVersionId".to_string(), json!(version.version_id.as_str())),
        ("PublicKey".to_string(), Value::String(pem)),
    ]))
}
