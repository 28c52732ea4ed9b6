//! Key management actions: keys, their versions, deletion, protection and rotation policy.

use serde_json::{Value, json};
use yaoshi_crypto::generate_key;
use yaoshi_model::{
    ApiError, Command, CommandOutput, ErrorCode, KeyId, KeyMetadata, KeyOrigin, KeySpec, KeyState,
    KeyUsage, KeyVersion, KeyVersionId, MAX_PENDING_WINDOW_DAYS, MIN_PENDING_WINDOW_DAYS,
    ProtectionLevel, parse_rotation_interval,
};

use crate::context::RequestContext;
use crate::material::key_type;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{
    Fields, Page, fields, format_time, fresh_key, fresh_key_ref, internal, key_ref, propose,
    propose_unit, resolve_key, state,
};

const MAX_DESCRIPTION_BYTES: usize = 8192;

/// The key's ARN.
fn key_arn(region: &str, meta: &KeyMetadata) -> String {
    format!("acs:kms:{region}:{}:key/{}", meta.creator, meta.key_id)
}

fn metadata_json(region: &str, meta: &KeyMetadata) -> Value {
    let created = format_time(meta.creation_ms);
    let mut v = json!({
        "KeyId": meta.key_id.as_str(),
        "Arn": key_arn(region, meta),
        "KeyState": meta.state.as_str(),
        "KeySpec": meta.spec.as_str(),
        "KeyUsage": meta.usage.as_str(),
        "Origin": meta.origin.as_str(),
        "ProtectionLevel": meta.protection_level.as_str(),
        "Description": meta.description,
        "CreationDate": created,
        "Creator": meta.creator,
        "PrimaryKeyVersion": meta.primary_version.as_str(),
        "DeletionProtection": if meta.deletion_protection.is_some() { "Enabled" } else { "Disabled" },
        "AutomaticRotation": if meta.rotation_interval_s.is_some() { "Enabled" } else { "Disabled" },
        "LastRotationDate": format_time(meta.last_rotation_ms),
        "MaterialExpireTime": meta.material_expire_ms.map(format_time).unwrap_or_default(),
    });
    if let (Some(interval), Some(next)) = (meta.rotation_interval_s, meta.next_rotation_ms()) {
        v["RotationInterval"] = Value::String(format!("{interval}s"));
        v["NextRotationDate"] = Value::String(format_time(next));
    }
    if let Some(description) = &meta.deletion_protection {
        v["DeletionProtectionDescription"] = Value::String(description.clone());
    }
    if let (KeyState::PendingDeletion, Some(ms)) = (meta.state, meta.delete_ms) {
        v["DeleteDate"] = Value::String(format_time(ms));
    }
    v
}

/// A new key version id: a UUIDv7, so a key's versions list in creation order.
fn new_version_id() -> KeyVersionId {
    KeyVersionId::new(uuid::Uuid::now_v7().to_string())
}

/// Generates material for `spec` off the async threads (RSA-3072 can take a second) and wraps it
/// under the domain key for `key_id`/`version_id`.
pub(super) async fn generate_wrapped(
    api: &ApiState,
    spec: KeySpec,
    key_id: &KeyId,
    version_id: &KeyVersionId,
) -> Result<Vec<u8>, ApiError> {
    let material = tokio::task::spawn_blocking(move || generate_key(key_type(spec)))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(api.domain_key.wrap(&KeyVersion::wrap_aad(key_id, version_id), &material))
}

pub(super) async fn create_key(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let spec = match p.optional("KeySpec") {
        None => KeySpec::Aes256,
        Some(s) => KeySpec::parse(s).ok_or_else(|| ApiError::invalid("KeySpec"))?,
    };
    let usage = match p.optional("KeyUsage") {
        None => spec.default_usage(),
        Some(s) => KeyUsage::parse(s).ok_or_else(|| ApiError::invalid("KeyUsage"))?,
    };
    if !spec.allows_usage(usage) {
        return Err(ApiError::invalid("KeyUsage"));
    }
    let origin = match p.optional("Origin") {
        None => KeyOrigin::AliyunKms,
        Some(o) => KeyOrigin::parse(o).ok_or_else(|| ApiError::invalid("Origin"))?,
    };
    // Only symmetric cipher keys can be imported (docs/DESIGN.md §4; not HMAC keys either).
    if origin == KeyOrigin::External && !spec.is_cipher() {
        return Err(ApiError::new(ErrorCode::UnsupportedOrigin));
    }
    match p
        .optional("ProtectionLevel")
        .map(|o| ProtectionLevel::parse(o).ok_or_else(|| ApiError::invalid("ProtectionLevel")))
        .transpose()?
    {
        None | Some(ProtectionLevel::Software) => {}
        // There is no HSM behind this service; claiming HSM protection would be a lie.
        Some(ProtectionLevel::Hsm) => {
            return Err(ApiError::new(ErrorCode::UnsupportedProtectionLevel));
        }
    }
    let description = p.get("Description").unwrap_or_default();
    check_description(description)?;
    let rotation_interval_s = rotation_policy(p)?;
    // Automatic rotation is for KMS-generated symmetric keys only, HMAC keys included (docs/DESIGN.md
    // §4, docs/API.md "HMAC keys").
    if rotation_interval_s.is_some() && (origin == KeyOrigin::External || !spec.is_symmetric()) {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let tags = super::tags::parse_tags(p)?;

    let key_id = KeyId::new(uuid::Uuid::new_v4().to_string());
    let version_id = new_version_id();
    // An EXTERNAL key starts without material, waiting for ImportKeyMaterial.
    let (state, wrapped) = match origin {
        KeyOrigin::AliyunKms => {
            (KeyState::Enabled, generate_wrapped(api, spec, &key_id, &version_id).await?)
        }
        KeyOrigin::External => (KeyState::PendingImport, Vec::new()),
    };
    let metadata = KeyMetadata {
        key_id: key_id.clone(),
        state,
        spec,
        usage,
        origin,
        protection_level: ProtectionLevel::Software,
        description: description.to_string(),
        creation_ms: ctx.now_ms,
        creator: ctx.account_id.clone(),
        primary_version: version_id.clone(),
        delete_ms: None,
        deletion_protection: None,
        rotation_interval_s,
        last_rotation_ms: ctx.now_ms,
        material_expire_ms: None,
    };
    let version = KeyVersion {
        key_id,
        version_id,
        creation_ms: ctx.now_ms,
        wrapped_material: wrapped,
        material_digest: Vec::new(),
    };
    match propose(api, ctx, Command::CreateKey { metadata, version, tags }).await? {
        CommandOutput::Key(meta) => {
            Ok(fields(vec![("KeyMetadata", metadata_json(api.region(), &meta))]))
        }
        other => {
            tracing::error!(?other, "unexpected CreateKey output");
            Err(ApiError::new(ErrorCode::InternalFailure))
        }
    }
}

/// CreateKeyVersion: a new primary version for an Enabled asymmetric key, at most one per 7 days
/// (checked in apply against the proposer's clock). Symmetric keys, HMAC keys included, rotate
/// automatically instead (`Unsupported.Operation`).
pub(super) async fn create_key_version(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key = fresh_key(api, p.required("KeyId")?).await?;
    if key.spec.is_symmetric() {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let version_id = new_version_id();
    let wrapped = generate_wrapped(api, key.spec, &key.key_id, &version_id).await?;
    let version = KeyVersion {
        key_id: key.key_id,
        version_id,
        creation_ms: ctx.now_ms,
        wrapped_material: wrapped,
        material_digest: Vec::new(),
    };
    let response = version_json(&version);
    propose(api, ctx, Command::CreateKeyVersion { version }).await?;
    Ok(fields(vec![("KeyVersion", response)]))
}

pub(super) async fn describe_key(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let meta = resolve_key(api, p.required("KeyId")?)?;
    Ok(fields(vec![("KeyMetadata", metadata_json(api.region(), &meta))]))
}

pub(super) async fn list_keys(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let page = Page::parse(p)?;
    let filters = parse_filters(p)?;
    let (keys, total) = state(api)?
        .list_keys(page.offset, page.limit, |k| filters.iter().all(|f| f.matches(k)))
        .map_err(internal)?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| json!({"KeyId": k.key_id.as_str(), "KeyArn": key_arn(api.region(), k)}))
        .collect();
    Ok(page.fields("Keys", "Key", keys, total))
}

fn check_description(description: &str) -> Result<(), ApiError> {
    if description.len() > MAX_DESCRIPTION_BYTES {
        return Err(ApiError::invalid("Description"));
    }
    Ok(())
}

pub(super) async fn update_key_description(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    let description = p.get("Description").ok_or_else(|| ApiError::missing("Description"))?;
    check_description(description)?;
    let command = Command::UpdateKeyDescription { key_id, description: description.to_string() };
    propose_unit(api, ctx, command).await
}

pub(super) async fn enable_key(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    propose_unit(api, ctx, Command::SetKeyEnabled { key_id, enabled: true }).await
}

pub(super) async fn disable_key(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    propose_unit(api, ctx, Command::SetKeyEnabled { key_id, enabled: false }).await
}

pub(super) async fn schedule_key_deletion(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    let days = p.int_in(
        "PendingWindowInDays",
        i64::from(MIN_PENDING_WINDOW_DAYS),
        i64::from(MAX_PENDING_WINDOW_DAYS),
        i64::from(MAX_PENDING_WINDOW_DAYS),
    )?;
    let pending_window_days =
        u32::try_from(days).map_err(|_| ApiError::invalid("PendingWindowInDays"))?;
    propose_unit(api, ctx, Command::ScheduleKeyDeletion { key_id, pending_window_days }).await
}

fn version_json(v: &KeyVersion) -> Value {
    json!({
        "KeyId": v.key_id.as_str(),
        "KeyVersionId": v.version_id.as_str(),
        "CreationDate": format_time(v.creation_ms),
    })
}

pub(super) async fn describe_key_version(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key = resolve_key(api, p.required("KeyId")?)?;
    let version_id = KeyVersionId::new(p.required("KeyVersionId")?);
    let version = state(api)?
        .key_version(&key.key_id, &version_id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyVersionNotFound))?;
    Ok(fields(vec![("KeyVersion", version_json(&version))]))
}

pub(super) async fn list_key_versions(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key = resolve_key(api, p.required("KeyId")?)?;
    let page = Page::parse(p)?;
    let (versions, total) =
        state(api)?.list_key_versions(&key.key_id, page.offset, page.limit).map_err(internal)?;
    let versions: Vec<Value> = versions.iter().map(version_json).collect();
    Ok(page.fields("KeyVersions", "KeyVersion", versions, total))
}

pub(super) async fn set_deletion_protection(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let arn = p.required("ProtectedResourceArn")?;
    if !arn.starts_with("acs:kms:") {
        return Err(ApiError::invalid("ProtectedResourceArn"));
    }
    let key_id = key_ref(api, arn)?;
    if p.optional("EnableDeletionProtection").is_none() {
        return Err(ApiError::missing("EnableDeletionProtection"));
    }
    let protection = match p.bool_or("EnableDeletionProtection", false)? {
        true => {
            let description = p.get("DeletionProtectionDescription").unwrap_or_default();
            check_description(description)?;
            Some(description.to_string())
        }
        false => None,
    };
    propose_unit(api, ctx, Command::SetDeletionProtection { key_id, protection }).await
}

pub(super) async fn cancel_key_deletion(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    propose_unit(api, ctx, Command::CancelKeyDeletion { key_id }).await
}

/// Key specs of the reference, valid as filter values even where not implemented yet (with every
/// spec served, `KeySpec::parse`, so our HMAC specs filter too).
const KNOWN_KEY_SPECS: &[&str] = &[
    "Aliyun_AES_256",
    "Aliyun_AES_128",
    "Aliyun_AES_192",
    "Aliyun_SM4",
    "RSA_2048",
    "RSA_3072",
    "EC_P256",
    "EC_P256K",
    "EC_SM2",
];

/// One ListKeys filter: a key attribute and the values it may take (OR).
struct KeyFilter {
    attribute: String,
    values: Vec<String>,
}

impl KeyFilter {
    fn matches(&self, k: &KeyMetadata) -> bool {
        if self.values.is_empty() {
            return true;
        }
        let actual = match self.attribute.as_str() {
            "KeyState" => k.state.as_str(),
            "KeySpec" => k.spec.as_str(),
            "KeyUsage" => k.usage.as_str(),
            "ProtectionLevel" => k.protection_level.as_str(),
            // Every key so far is created by a user, none by a cloud service.
            _ => "User",
        };
        self.values.iter().any(|v| v == actual)
    }
}

/// Parses `Filters`: a JSON array (≤ 10) of `{"Key": attribute, "Values": [≤ 10 strings]}`;
/// filters are AND-ed, values within one filter OR-ed. Unknown attributes or values are invalid.
fn parse_filters(p: &Params) -> Result<Vec<KeyFilter>, ApiError> {
    let Some(raw) = p.optional("Filters") else { return Ok(Vec::new()) };
    let invalid = || ApiError::invalid("Filters");
    let items: Vec<Value> = serde_json::from_str(raw).map_err(|_| invalid())?;
    if items.len() > 10 {
        return Err(invalid());
    }
    items
        .iter()
        .map(|item| {
            let attribute = item.get("Key").and_then(Value::as_str).ok_or_else(invalid)?;
            let values: Vec<String> = match item.get("Values") {
                None | Some(Value::Null) => Vec::new(),
                Some(v) => serde_json::from_value(v.clone()).map_err(|_| invalid())?,
            };
            if values.len() > 10 {
                return Err(invalid());
            }
            let valid = |v: &String| match attribute {
                "KeyState" => KeyState::parse(v).is_some(),
                "KeySpec" => KNOWN_KEY_SPECS.contains(&v.as_str()) || KeySpec::parse(v).is_some(),
                "KeyUsage" => KeyUsage::parse(v).is_some(),
                "ProtectionLevel" => ProtectionLevel::parse(v).is_some(),
                "CreatorType" => v == "User" || v == "Service",
                _ => false,
            };
            if !matches!(
                attribute,
                "KeyState" | "KeySpec" | "KeyUsage" | "ProtectionLevel" | "CreatorType"
            ) || !values.iter().all(valid)
            {
                return Err(invalid());
            }
            Ok(KeyFilter { attribute: attribute.to_string(), values })
        })
        .collect()
}

/// `EnableAutomaticRotation` + `RotationInterval` (required when enabling, ignored otherwise) as a
/// period in seconds, `None` when rotation is off.
fn rotation_policy(p: &Params) -> Result<Option<u64>, ApiError> {
    rotation_policy_with(p, parse_rotation_interval)
}

/// `EnableAutomaticRotation` with its required `RotationInterval`, parsed (and bounded) by
/// `parse`; `None` when rotation is off. Shared by keys and secrets, whose bounds differ.
pub(super) fn rotation_policy_with(
    p: &Params,
    parse: fn(&str) -> Option<u64>,
) -> Result<Option<u64>, ApiError> {
    if !p.bool_or("EnableAutomaticRotation", false)? {
        return Ok(None);
    }
    let raw = p.required("RotationInterval")?;
    parse(raw).map(Some).ok_or_else(|| ApiError::invalid("RotationInterval"))
}

pub(super) async fn update_rotation_policy(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key_id = fresh_key_ref(api, p.required("KeyId")?).await?;
    if p.optional("EnableAutomaticRotation").is_none() {
        return Err(ApiError::missing("EnableAutomaticRotation"));
    }
    let interval_s = rotation_policy(p)?;
    propose_unit(api, ctx, Command::UpdateRotationPolicy { key_id, interval_s }).await
}
