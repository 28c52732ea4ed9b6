//! HMAC keys on the data plane (our addition, docs/API.md "HMAC keys"; CTyun "计算hmacSM3"):
//! GenerateMac and VerifyMac under an `HMAC_SM3` or `HMAC_SHA256` key.
//!
//! Errors, in the order they are checked: a missing parameter (`MissingParameter`); a `Message`
//! or `MacData` that is not Base64, or a `Message` over 4096 bytes (`InvalidParameter`); the key
//! (`Forbidden.KeyNotFound`, the `Rejected.*` state codes); a key that is not an HMAC key
//! (`Unsupported.Operation`, as Encrypt on a SIGN/VERIFY key); VerifyMac's `KeyVersionId`
//! (`Forbidden.KeyVersionNotFound`). A MAC that does not verify is `MacVerified: false`, not an
//! error. Neither the message nor the key material is logged.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{KeyMaterial, KeyType, mac, verify_mac as verify_tag};
use yaoshi_model::{ApiError, ErrorCode, KeyMetadata, KeyUsage, KeyVersion, KeyVersionId};
use zeroize::Zeroizing;

use crate::context::RequestContext;
use crate::material::{key_type, require_usable, unwrap_material};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, internal, resolve_key};

/// Longest `Message`, in decoded bytes.
const MAX_MESSAGE_BYTES: usize = 4096;

/// An HMAC key version resolved for an operation, with its material unwrapped.
struct MacKey {
    meta: KeyMetadata,
    version: KeyVersion,
    kind: KeyType,
    material: Arc<KeyMaterial>,
}

impl MacKey {
    /// The `KeyId` and `KeyVersionId` fields both responses carry.
    fn fields(&self) -> Fields {
        Fields::from_iter([
            ("KeyId".to_string(), json!(self.meta.key_id.as_str())),
            ("KeyVersionId".to_string(), json!(self.version.version_id.as_str())),
        ])
    }
}

/// The `Message` parameter, decoded and within [`MAX_MESSAGE_BYTES`].
fn message(p: &Params) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let message = p.base64("Message")?;
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::invalid("Message"));
    }
    Ok(message)
}

/// Resolves `KeyId` (id, ARN or alias): usable, an HMAC key of usage GENERATE/VERIFY_MAC, and its
/// version `version_param` (the primary version when `None`).
fn mac_key(api: &ApiState, p: &Params, version_param: Option<&str>) -> Result<MacKey, ApiError> {
    let meta = resolve_key(api, p.required("KeyId")?)?;
    require_usable(api, &meta)?;
    if !meta.spec.is_hmac() || meta.usage != KeyUsage::GenerateVerifyMac {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let version_id = version_param.map_or_else(|| meta.primary_version.clone(), KeyVersionId::new);
    let version = api
        .replica
        .key_version(&meta.key_id, &version_id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyVersionNotFound))?;
    let material = unwrap_material(api, &version)?;
    Ok(MacKey { kind: key_type(meta.spec), meta, version, material })
}

/// GenerateMac: the MAC of `Message` under the key's primary version, Base64 in `MacData`.
pub(super) async fn generate_mac(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let message = message(p)?;
    let key = mac_key(api, p, None)?;
    // The key type is an HMAC type (checked above): an error here is internal.
    let tag = mac(key.kind, &key.material, &message).map_err(internal)?;
    let mut fields = key.fields();
    fields.insert("MacData".to_string(), Value::String(B64.encode(tag)));
    Ok(fields)
}

/// VerifyMac: whether `MacData` is the MAC of `Message` under the key version `KeyVersionId`
/// (default: the primary version), in `MacVerified`.
pub(super) async fn verify_mac(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let message = message(p)?;
    let tag = p.base64("MacData")?;
    let key = mac_key(api, p, p.optional("KeyVersionId"))?;
    let verified = verify_tag(key.kind, &key.material, &message, &tag).map_err(internal)?;
    let mut fields = key.fields();
    fields.insert("MacVerified".to_string(), Value::Bool(verified));
    Ok(fields)
}
