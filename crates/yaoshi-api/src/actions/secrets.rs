//! The secrets manager's actions (docs/API.md "Secrets"): CreateSecret,
//! GetSecretValue (data plane), PutSecretValue, ListSecretVersionIds, UpdateSecretVersionStage,
//! DescribeSecret, UpdateSecret, ListSecrets, DeleteSecret, RestoreSecret, RotateSecret and
//! UpdateSecretRotationPolicy; and DescribeScheduledActions (our addition), which lists the
//! scheduler's pending work for keys and secrets.
//!
//! Values are sealed here, on the proposing node, with a fresh data key under the secret's master
//! key (`yaoshi_crypto::seal_secret_version`): the Raft log, the state and the worker feed only
//! ever hold the sealed form. GetSecretValue opens them where it runs, node or worker, and needs
//! the master key Enabled (`Rejected.Disabled` / `Rejected.PendingDeletion` otherwise).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use yaoshi_crypto::{
    KeyType, open_secret_version, parse_blob_header, rotated_value, seal_secret_version,
};
use yaoshi_model::{
    ApiError, Command, CommandOutput, ErrorCode, KeyId, KeyMetadata, KeyOrigin, KeySpec, KeyState,
    KeyUsage, KeyVersion, KeyVersionId, MAX_RECOVERY_DAYS, MAX_SECRET_DATA_BYTES,
    MAX_STAGES_PER_VERSION, MIN_RECOVERY_DAYS, ProtectionLevel, ResourceRef, STAGE_CURRENT,
    SecretDataType, SecretMetadata, SecretType, SecretVersion, parse_secret_rotation_interval,
};
use zeroize::Zeroizing;

use crate::context::RequestContext;
use crate::material::{require_usable, symmetric_primary, unwrap_material};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{
    Fields, Page, fields, format_time, internal, key_ref, propose, state, write_error,
};

const MAX_DESCRIPTION_BYTES: usize = 8192;
const MAX_EXTENDED_CONFIG_BYTES: usize = 1024;

/// The secret's ARN.
fn secret_arn(api: &ApiState, ctx: &RequestContext, name: &str) -> String {
    format!("acs:kms:{}:{}:secret/{name}", api.region(), ctx.account_id)
}

/// The `SecretName` parameter, valid.
fn secret_name(p: &Params) -> Result<&str, ApiError> {
    let name = p.required("SecretName")?;
    if !SecretMetadata::is_valid_name(name) {
        return Err(ApiError::invalid("SecretName"));
    }
    Ok(name)
}

/// A `VersionId` parameter: 1–64 printable ASCII characters.
fn version_id(p: &Params, name: &str) -> Result<String, ApiError> {
    let v = p.required(name)?;
    if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(name));
    }
    Ok(v.to_string())
}

fn description(p: &Params) -> Result<Option<&str>, ApiError> {
    match p.get("Description") {
        Some(d) if d.len() > MAX_DESCRIPTION_BYTES => Err(ApiError::invalid("Description")),
        other => Ok(other),
    }
}

/// `SecretDataType` (text by default) and `SecretData`: text as given; binary must be Base64 and
/// is kept (and returned) as that Base64 text.
fn secret_data(p: &Params) -> Result<(SecretDataType, Zeroizing<Vec<u8>>), ApiError> {
    let data_type = match p.optional("SecretDataType") {
        None => SecretDataType::Text,
        Some(t) => SecretDataType::parse(t).ok_or_else(|| ApiError::invalid("SecretDataType"))?,
    };
    let data = p.required("SecretData")?;
    if data.len() > MAX_SECRET_DATA_BYTES {
        return Err(ApiError::invalid("SecretData"));
    }
    if data_type == SecretDataType::Binary && B64.decode(data.trim()).is_err() {
        return Err(ApiError::invalid("SecretData"));
    }
    Ok((data_type, Zeroizing::new(data.as_bytes().to_vec())))
}

/// A live secret from the node's replica (callers passed a read barrier).
fn live_secret(api: &ApiState, name: &str) -> Result<SecretMetadata, ApiError> {
    let meta = state(api)?
        .secret(name)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
    if meta.planned_delete_ms.is_some() {
        return Err(ApiError::new(ErrorCode::ResourceInDeleteWindow));
    }
    Ok(meta)
}

/// The secret a write seals under, from this node's replica without a read barrier (its type and
/// master key never change; apply checks the recovery window and the key's state against the
/// committed state), read again after a barrier only when the replica does not have it yet.
async fn secret_for_write(api: &ApiState, name: &str) -> Result<SecretMetadata, ApiError> {
    if let Some(meta) = state(api)?.secret(name).map_err(internal)? {
        return Ok(meta);
    }
    barrier(api).await?;
    state(api)?
        .secret(name)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))
}

async fn barrier(api: &ApiState) -> Result<(), ApiError> {
    api.node()?.read_barrier().await.map_err(write_error)
}

/// Seals `value` as version `version_id` of `name` under the primary version of master key
/// `key_param`; returns the key's id and the version.
fn seal(
    api: &ApiState,
    key_param: &str,
    name: &str,
    version_id: &str,
    data_type: SecretDataType,
    value: &[u8],
    now_ms: i64,
) -> Result<(KeyId, SecretVersion), ApiError> {
    let (key, key_version, material) = symmetric_primary(api, key_param)?;
    let version = seal_under(
        api,
        (&key, &key_version),
        &material,
        name,
        version_id,
        data_type,
        value,
        now_ms,
    )?;
    Ok((key.key_id, version))
}

/// Seals under a given master key version with its unwrapped material.
#[allow(clippy::too_many_arguments)]
fn seal_under(
    api: &ApiState,
    (key, key_version): (&KeyMetadata, &KeyVersion),
    material: &yaoshi_crypto::KeyMaterial,
    name: &str,
    version_id: &str,
    data_type: SecretDataType,
    value: &[u8],
    now_ms: i64,
) -> Result<SecretVersion, ApiError> {
    seal_secret_version(
        &api.domain_key,
        key,
        key_version,
        material,
        name,
        version_id,
        data_type,
        value,
        now_ms,
    )
    .map_err(internal)
}

/// Opens a version's value: the master key its data key names must exist and be usable.
fn open(
    api: &ApiState,
    name: &str,
    version: &SecretVersion,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let header = parse_blob_header(&version.data_key_blob).map_err(internal)?;
    let key = api
        .replica
        .key(&header.key_id)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyNotFound))?;
    require_usable(api, &key)?;
    let key_version = api
        .replica
        .key_version(&key.key_id, &KeyVersionId::new(header.key_version_id))
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyVersionNotFound))?;
    let material = unwrap_material(api, &key_version)?;
    open_secret_version(KeyType::from(key.spec), &material, name, version).map_err(|_| {
        tracing::error!(secret = name, "a secret version does not open under its master key");
        ApiError::new(ErrorCode::InternalFailure)
    })
}

fn stages_json(stages: Vec<String>) -> Value {
    json!({ "VersionStage": stages })
}

/// The rotation fields of a secret (AutomaticRotation always; the rest when they apply).
fn rotation_fields(meta: &SecretMetadata, out: &mut Fields) {
    out.insert(
        "AutomaticRotation".into(),
        json!(if meta.rotates() { "Enabled" } else { "Disabled" }),
    );
    if let Some(s) = meta.rotation_interval_s {
        out.insert("RotationInterval".into(), json!(format!("{s}s")));
    }
    if let (true, Some(next)) = (meta.rotates(), meta.next_rotation_ms) {
        out.insert("NextRotationDate".into(), json!(format_time(next)));
    }
    if let Some(last) = meta.last_rotation_ms {
        out.insert("LastRotationDate".into(), json!(format_time(last)));
    }
}

fn tags_json(api: &ApiState, name: &str) -> Result<Value, ApiError> {
    let tags = state(api)?.tags(&ResourceRef::Secret(name.to_string())).map_err(internal)?;
    let tags: Vec<Value> =
        tags.iter().map(|t| json!({"TagKey": t.key, "TagValue": t.value})).collect();
    Ok(json!({ "Tag": tags }))
}

fn secret_output(output: CommandOutput) -> Result<SecretMetadata, ApiError> {
    match output {
        CommandOutput::Secret(meta) => Ok(*meta),
        other => {
            tracing::error!(?other, "unexpected secret command output");
            Err(ApiError::new(ErrorCode::InternalFailure))
        }
    }
}

/// A managed database secret's ExtendedConfig: JSON with `SecretSubType` `SingleUser` and a
/// `DBInstanceId` (the database address, docs/API.md "Secrets"), at most 1024 bytes.
fn rds_extended_config(p: &Params) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid("ExtendedConfig");
    let raw = p.required("ExtendedConfig")?;
    if raw.len() > MAX_EXTENDED_CONFIG_BYTES {
        return Err(invalid());
    }
    let config: Value = serde_json::from_str(raw).map_err(|_| invalid())?;
    let sub = config.get("SecretSubType").and_then(Value::as_str);
    let instance = config.get("DBInstanceId").and_then(Value::as_str);
    if sub != Some("SingleUser") || instance.is_none_or(str::is_empty) {
        return Err(invalid());
    }
    Ok(config.to_string())
}

/// A managed database secret's SecretData, `{"Accounts":[{"AccountName","AccountPassword"}]}`
/// with one account (SingleUser), stored as `{"AccountName","AccountPassword"}` (what
/// GetSecretValue returns).
fn rds_value(data: &[u8]) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let invalid = || ApiError::invalid("SecretData");
    let value: Value = serde_json::from_slice(data).map_err(|_| invalid())?;
    let account = match value.get("Accounts").and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => one,
        _ => match value.get("AccountName") {
            Some(_) => &value,
            None => return Err(invalid()),
        },
    };
    let name = account.get("AccountName").and_then(Value::as_str).filter(|s| !s.is_empty());
    let password = account.get("AccountPassword").and_then(Value::as_str);
    match (name, password) {
        (Some(name), Some(password)) => Ok(Zeroizing::new(
            json!({"AccountName": name, "AccountPassword": password}).to_string().into_bytes(),
        )),
        _ => Err(invalid()),
    }
}

/// The master key of a new secret without `EncryptionKeyId`: the region's default secrets key,
/// or a new one (AES-256, deletion protected) created with the secret.
async fn default_key(
    api: &ApiState,
    ctx: &RequestContext,
) -> Result<(String, Option<(KeyMetadata, KeyVersion)>), ApiError> {
    if let Some(id) = state(api)?.secrets_key().map_err(internal)? {
        return Ok((id.to_string(), None));
    }
    // Before creating one, make sure it was not just created elsewhere.
    barrier(api).await?;
    if let Some(id) = state(api)?.secrets_key().map_err(internal)? {
        return Ok((id.to_string(), None));
    }
    let key_id = KeyId::new(uuid::Uuid::new_v4().to_string());
    let version_id = KeyVersionId::new(uuid::Uuid::now_v7().to_string());
    let wrapped = super::keys::generate_wrapped(api, KeySpec::Aes256, &key_id, &version_id).await?;
    let metadata = KeyMetadata {
        key_id: key_id.clone(),
        state: KeyState::Enabled,
        spec: KeySpec::Aes256,
        usage: KeyUsage::EncryptDecrypt,
        origin: KeyOrigin::AliyunKms,
        protection_level: ProtectionLevel::Software,
        description: "Default master key of the secrets manager".into(),
        creation_ms: ctx.now_ms,
        creator: ctx.account_id.clone(),
        primary_version: version_id.clone(),
        delete_ms: None,
        deletion_protection: Some("Default master key of the secrets manager".into()),
        rotation_interval_s: None,
        last_rotation_ms: ctx.now_ms,
        material_expire_ms: None,
    };
    let version = KeyVersion {
        key_id: key_id.clone(),
        version_id,
        creation_ms: ctx.now_ms,
        wrapped_material: wrapped,
        material_digest: Vec::new(),
    };
    Ok((key_id.to_string(), Some((metadata, version))))
}

pub(super) async fn create_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let version_id = version_id(p, "VersionId")?;
    let secret_type = match p.optional("SecretType") {
        None => SecretType::Generic,
        Some(t) => SecretType::parse(t).ok_or_else(|| ApiError::invalid("SecretType"))?,
    };
    let (data_type, mut value) = secret_data(p)?;
    let extended_config = match secret_type {
        SecretType::Generic => None,
        SecretType::Rds => {
            if data_type != SecretDataType::Text {
                return Err(ApiError::invalid("SecretDataType"));
            }
            value = rds_value(&value)?;
            Some(rds_extended_config(p)?)
        }
    };
    let description = description(p)?.unwrap_or_default().to_string();
    let rotation_interval_s = rotation_policy(p)?;
    let tags = super::tags::parse_tags(p)?;
    // No read barrier on the way: apply decides name clashes and the master key's state against
    // the committed state. Only a miss in this node's replica (a key or the default secrets key
    // just created elsewhere) is read again after a barrier.
    let (key_id, version, new_key) = match p.optional("EncryptionKeyId") {
        Some(key_param) => {
            let attempt = || -> Result<(KeyId, SecretVersion), ApiError> {
                let key_param = key_ref(api, key_param)?;
                seal(api, key_param.as_str(), name, &version_id, data_type, &value, ctx.now_ms)
            };
            let (key_id, version) = match attempt() {
                Err(e) if matches!(e.code, ErrorCode::KeyNotFound | ErrorCode::AliasNotFound) => {
                    barrier(api).await?;
                    attempt()?
                }
                other => other?,
            };
            (key_id, version, None)
        }
        None => match default_key(api, ctx).await? {
            (key_id, None) => {
                let (key_id, version) =
                    seal(api, &key_id, name, &version_id, data_type, &value, ctx.now_ms)?;
                (key_id, version, None)
            }
            (key_id, Some(new_key)) => {
                // The new key exists only in the command yet: seal under its own material.
                let material = unwrap_material(api, &new_key.1)?;
                let version = seal_under(
                    api,
                    (&new_key.0, &new_key.1),
                    &material,
                    name,
                    &version_id,
                    data_type,
                    &value,
                    ctx.now_ms,
                )?;
                (KeyId::new(key_id), version, Some(new_key))
            }
        },
    };
    let period_ms = rotation_interval_s.map(|s| i64::try_from(s).unwrap_or(i64::MAX) * 1000);
    let metadata = SecretMetadata {
        name: name.to_string(),
        secret_type,
        description,
        encryption_key_id: key_id,
        creation_ms: ctx.now_ms,
        update_ms: ctx.now_ms,
        extended_config,
        rotation_interval_s,
        last_rotation_ms: None,
        next_rotation_ms: period_ms.map(|p| ctx.now_ms.saturating_add(p)),
        planned_delete_ms: None,
        stages: Default::default(),
    };
    let command = Command::CreateSecret {
        metadata: Box::new(metadata),
        version,
        tags,
        new_key: new_key.map(Box::new),
    };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    let mut out = fields(vec![
        ("Arn", json!(secret_arn(api, ctx, &meta.name))),
        ("SecretName", json!(meta.name)),
        ("VersionId", json!(version_id)),
        ("SecretType", json!(meta.secret_type.as_str())),
    ]);
    if meta.rotates() || meta.secret_type != SecretType::Generic {
        rotation_fields(&meta, &mut out);
    }
    if let Some(config) = &meta.extended_config {
        out.insert("ExtendedConfig".into(), json!(config));
    }
    Ok(out)
}

/// `EnableAutomaticRotation` with its `RotationInterval` (6 h–365 d), `None` when off.
fn rotation_policy(p: &Params) -> Result<Option<u64>, ApiError> {
    super::keys::rotation_policy_with(p, parse_secret_rotation_interval)
}

/// GetSecretValue (data plane): the version at `VersionStage` (ACSCurrent by default) or
/// `VersionId`, opened where the request runs.
pub(super) async fn get_secret_value(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let not_found = || ApiError::new(ErrorCode::ResourceNotFound);
    let meta = api.replica.secret(name).map_err(internal)?.ok_or_else(not_found)?;
    if meta.planned_delete_ms.is_some() {
        return Err(ApiError::new(ErrorCode::ResourceInDeleteWindow));
    }
    let version_id = match (p.optional("VersionId"), p.optional("VersionStage")) {
        (Some(v), _) => v.to_string(),
        (None, stage) => {
            meta.version_at(stage.unwrap_or(STAGE_CURRENT)).ok_or_else(not_found)?.to_string()
        }
    };
    let version =
        api.replica.secret_version(name, &version_id).map_err(internal)?.ok_or_else(not_found)?;
    if let Some(stage) = p.optional("VersionStage")
        && !meta.stages_of(&version_id).iter().any(|s| s == stage)
    {
        return Err(not_found());
    }
    let value = open(api, name, &version)?;
    let data = String::from_utf8_lossy(&value).into_owned();
    let mut out = fields(vec![
        ("SecretName", json!(meta.name)),
        ("VersionId", json!(version.version_id)),
        ("SecretData", Value::String(data)),
        ("SecretDataType", json!(version.data_type.as_str())),
        ("CreateTime", json!(format_time(version.creation_ms))),
        ("SecretType", json!(meta.secret_type.as_str())),
        ("VersionStages", stages_json(meta.stages_of(&version.version_id))),
    ]);
    rotation_fields(&meta, &mut out);
    if p.bool_or("FetchExtendedConfig", false)?
        && let Some(config) = &meta.extended_config
    {
        out.insert("ExtendedConfig".into(), json!(config));
    }
    Ok(out)
}

/// `VersionStages`: a JSON array of stage names, or `{"VersionStage":[...]}`; ACSCurrent when
/// absent.
fn version_stages(p: &Params) -> Result<Vec<String>, ApiError> {
    let invalid = || ApiError::invalid("VersionStages");
    let Some(raw) = p.optional("VersionStages") else {
        return Ok(vec![STAGE_CURRENT.to_string()]);
    };
    let value: Value = serde_json::from_str(raw).map_err(|_| invalid())?;
    let list = match &value {
        Value::Array(a) => a,
        Value::Object(o) => o.get("VersionStage").and_then(Value::as_array).ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    let stages: Vec<String> = list
        .iter()
        .map(|s| s.as_str().filter(|s| (1..=64).contains(&s.len())).map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(invalid)?;
    if stages.is_empty() || stages.len() > MAX_STAGES_PER_VERSION {
        return Err(invalid());
    }
    Ok(stages)
}

pub(super) async fn put_secret_value(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let version_id = version_id(p, "VersionId")?;
    let (data_type, value) = secret_data(p)?;
    let stages = version_stages(p)?;
    let meta = secret_for_write(api, name).await?;
    if meta.secret_type != SecretType::Generic {
        return Err(ApiError::new(ErrorCode::UnsupportedOperation));
    }
    let (_, version) = seal(
        api,
        meta.encryption_key_id.as_str(),
        name,
        &version_id,
        data_type,
        &value,
        ctx.now_ms,
    )?;
    let command = Command::PutSecretValue { name: name.to_string(), version, stages };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![
        ("SecretName", json!(meta.name)),
        ("VersionId", json!(version_id)),
        ("VersionStages", stages_json(meta.stages_of(&version_id))),
    ]))
}

pub(super) async fn list_secret_version_ids(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let include_deprecated = p.bool_or("IncludeDeprecated", false)?;
    let page = Page::parse(p)?;
    let reader = state(api)?;
    let meta = reader
        .secret(name)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
    let versions = reader.secret_versions(name).map_err(internal)?;
    let shown: Vec<Value> = versions
        .iter()
        .filter_map(|v| {
            let stages = meta.stages_of(&v.version_id);
            (include_deprecated || !stages.is_empty()).then(|| {
                json!({
                    "VersionId": v.version_id,
                    "CreateTime": format_time(v.creation_ms),
                    "VersionStages": stages_json(stages),
                })
            })
        })
        .collect();
    let total = shown.len();
    let items = shown.into_iter().skip(page.offset).take(page.limit).collect();
    let mut out = page.fields("VersionIds", "VersionId", items, total);
    out.insert("SecretName".into(), json!(name));
    Ok(out)
}

pub(super) async fn update_secret_version_stage(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let stage = p.required("VersionStage")?;
    if stage.len() > 64 {
        return Err(ApiError::invalid("VersionStage"));
    }
    let remove_from = p.optional("RemoveFromVersion").map(str::to_string);
    let move_to = p.optional("MoveToVersion").map(str::to_string);
    if remove_from.is_none() && move_to.is_none() {
        return Err(ApiError::missing("MoveToVersion"));
    }
    let command = Command::UpdateSecretVersionStage {
        name: name.to_string(),
        stage: stage.to_string(),
        remove_from,
        move_to,
    };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![("SecretName", json!(meta.name))]))
}

/// The fields DescribeSecret (and ListSecrets, in part) shows of a secret.
fn describe_json(
    api: &ApiState,
    ctx: &RequestContext,
    meta: &SecretMetadata,
    fetch_tags: bool,
) -> Result<Fields, ApiError> {
    let mut out = fields(vec![
        ("Arn", json!(secret_arn(api, ctx, &meta.name))),
        ("SecretName", json!(meta.name)),
        ("Description", json!(meta.description)),
        ("EncryptionKeyId", json!(meta.encryption_key_id.as_str())),
        ("CreateTime", json!(format_time(meta.creation_ms))),
        ("UpdateTime", json!(format_time(meta.update_ms))),
        ("SecretType", json!(meta.secret_type.as_str())),
    ]);
    rotation_fields(meta, &mut out);
    if let Some(at) = meta.planned_delete_ms {
        out.insert("PlannedDeleteTime".into(), json!(format_time(at)));
    }
    if let Some(config) = &meta.extended_config {
        out.insert("ExtendedConfig".into(), json!(config));
    }
    if fetch_tags {
        out.insert("Tags".into(), tags_json(api, &meta.name)?);
    }
    Ok(out)
}

pub(super) async fn describe_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let fetch_tags = p.bool_or("FetchTags", false)?;
    let meta = state(api)?
        .secret(name)
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
    describe_json(api, ctx, &meta, fetch_tags)
}

pub(super) async fn update_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let description = description(p)?.map(str::to_string);
    let custom = p.optional("ExtendedConfig.CustomData");
    let extended_config = match custom {
        None => None,
        Some(raw) => {
            let custom: Value = serde_json::from_str(raw)
                .map_err(|_| ApiError::invalid("ExtendedConfig.CustomData"))?;
            if !custom.is_object() {
                return Err(ApiError::invalid("ExtendedConfig.CustomData"));
            }
            barrier(api).await?;
            let meta = live_secret(api, name)?;
            let Some(current) = &meta.extended_config else {
                return Err(ApiError::new(ErrorCode::UnsupportedOperation));
            };
            let mut config: Value = serde_json::from_str(current).map_err(internal)?;
            config["CustomData"] = custom;
            let text = config.to_string();
            if text.len() > MAX_EXTENDED_CONFIG_BYTES {
                return Err(ApiError::invalid("ExtendedConfig.CustomData"));
            }
            Some(text)
        }
    };
    if description.is_none() && extended_config.is_none() {
        return Err(ApiError::missing("Description"));
    }
    let command = Command::UpdateSecret { name: name.to_string(), description, extended_config };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![("SecretName", json!(meta.name))]))
}

/// A `Filters` entry of ListSecrets: SecretName, Description, TagKey or TagValue, matching any of
/// its values.
struct Filter {
    key: String,
    values: Vec<String>,
}

fn parse_filters(p: &Params) -> Result<Vec<Filter>, ApiError> {
    let invalid = || ApiError::invalid("Filters");
    let Some(raw) = p.optional("Filters") else { return Ok(Vec::new()) };
    let items: Vec<Value> = serde_json::from_str(raw).map_err(|_| invalid())?;
    if items.len() > 10 {
        return Err(invalid());
    }
    items
        .iter()
        .map(|item| {
            let key = item.get("Key").and_then(Value::as_str).ok_or_else(invalid)?;
            if !["SecretName", "Description", "TagKey", "TagValue"].contains(&key) {
                return Err(invalid());
            }
            let values: Vec<String> = item
                .get("Values")
                .and_then(Value::as_array)
                .ok_or_else(invalid)?
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(invalid)?;
            if values.is_empty() || values.len() > 10 {
                return Err(invalid());
            }
            Ok(Filter { key: key.to_string(), values })
        })
        .collect()
}

pub(super) async fn list_secrets(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let page = Page::parse(p)?;
    let fetch_tags = p.bool_or("FetchTags", false)?;
    let filters = parse_filters(p)?;
    let reader = state(api)?;
    let needs_tags = filters.iter().any(|f| f.key.starts_with("Tag"));
    let matches = |meta: &SecretMetadata| {
        let tags = if needs_tags {
            reader.tags(&ResourceRef::Secret(meta.name.clone())).unwrap_or_default()
        } else {
            Vec::new()
        };
        filters.iter().all(|f| {
            f.values.iter().any(|v| match f.key.as_str() {
                "SecretName" => meta.name == *v,
                "Description" => meta.description.contains(v.as_str()),
                "TagKey" => tags.iter().any(|t| t.key == *v),
                _ => tags.iter().any(|t| t.value == *v),
            })
        })
    };
    let (secrets, total) =
        reader.list_secrets(page.offset, page.limit, matches).map_err(internal)?;
    let mut items = Vec::with_capacity(secrets.len());
    for meta in &secrets {
        let mut item = fields(vec![
            ("SecretName", json!(meta.name)),
            ("SecretType", json!(meta.secret_type.as_str())),
            ("CreateTime", json!(format_time(meta.creation_ms))),
            ("UpdateTime", json!(format_time(meta.update_ms))),
        ]);
        if let Some(at) = meta.planned_delete_ms {
            item.insert("PlannedDeleteTime".into(), json!(format_time(at)));
        }
        if fetch_tags {
            item.insert("Tags".into(), tags_json(api, &meta.name)?);
        }
        items.push(Value::Object(item));
    }
    Ok(page.fields("SecretList", "Secret", items, total))
}

pub(super) async fn delete_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let force = p.bool_or("ForceDeleteWithoutRecovery", false)?;
    let days = p.int_in(
        "RecoveryWindowInDays",
        i64::from(MIN_RECOVERY_DAYS),
        i64::from(MAX_RECOVERY_DAYS),
        i64::from(MAX_RECOVERY_DAYS),
    )?;
    let recovery_window_days = if force {
        None
    } else {
        Some(u32::try_from(days).map_err(|_| ApiError::invalid("RecoveryWindowInDays"))?)
    };
    let command = Command::DeleteSecret { name: name.to_string(), recovery_window_days };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    let planned = meta.planned_delete_ms.unwrap_or(ctx.now_ms);
    Ok(fields(vec![
        ("SecretName", json!(meta.name)),
        ("PlannedDeleteTime", json!(format_time(planned))),
    ]))
}

pub(super) async fn restore_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let meta =
        secret_output(propose(api, ctx, Command::RestoreSecret { name: name.to_string() }).await?)?;
    Ok(fields(vec![("SecretName", json!(meta.name))]))
}

/// RotateSecret: a new version with a generated value (Generic: a random password; managed: the
/// same account with a random password, confirmed by the leader's rotation backend before it
/// becomes ACSCurrent). The same VersionId again changes nothing.
pub(super) async fn rotate_secret(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    let version_id = version_id(p, "VersionId")?;
    let meta = secret_for_write(api, name).await?;
    let reader = state(api)?;
    if reader.secret_version(name, &version_id).map_err(internal)?.is_none() {
        let current_id = meta
            .version_at(STAGE_CURRENT)
            .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
        let current = reader
            .secret_version(name, current_id)
            .map_err(internal)?
            .ok_or_else(|| ApiError::new(ErrorCode::ResourceNotFound))?;
        let current_value = open(api, name, &current)?;
        let value = match (meta.secret_type, api.rotation_hook.get()) {
            (SecretType::Generic, Some(hook)) => {
                hook.next_value(name, &version_id, &current_value).await.map_err(|e| {
                    tracing::warn!(secret = %name, error = %e, "rotation hook failed");
                    ApiError::new(ErrorCode::ServiceUnavailableTemporary)
                })?
            }
            _ => rotated_value(meta.secret_type, &current_value)
                .ok_or_else(|| ApiError::new(ErrorCode::UnsupportedOperation))?,
        };
        let (_, version) = seal(
            api,
            meta.encryption_key_id.as_str(),
            name,
            &version_id,
            SecretDataType::Text,
            &value,
            ctx.now_ms,
        )?;
        let command = Command::RotateSecret { name: name.to_string(), version };
        secret_output(propose(api, ctx, command).await?)?;
    }
    Ok(fields(vec![
        ("Arn", json!(secret_arn(api, ctx, name))),
        ("SecretName", json!(name)),
        ("VersionId", json!(version_id)),
    ]))
}

pub(super) async fn update_secret_rotation_policy(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = secret_name(p)?;
    p.required("EnableAutomaticRotation")?;
    let interval_s = rotation_policy(p)?;
    let command = Command::UpdateSecretRotationPolicy { name: name.to_string(), interval_s };
    let meta = secret_output(propose(api, ctx, command).await?)?;
    Ok(fields(vec![("SecretName", json!(meta.name))]))
}

/// DescribeScheduledActions (our addition): the scheduler's work in due order — key deletions,
/// rotations and material expiries, secret purges, rotations and pending rotations — paged.
pub(super) async fn describe_scheduled_actions(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let page = Page::parse(p)?;
    let all = state(api)?.scheduled_actions().map_err(internal)?;
    let total = all.len();
    let items = all
        .into_iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|a| {
            json!({
                "Action": a.action,
                "ResourceType": a.resource_type,
                "ResourceId": a.resource,
                "DueTime": format_time(a.due_ms),
            })
        })
        .collect();
    Ok(page.fields("ScheduledActions", "ScheduledAction", items, total))
}
