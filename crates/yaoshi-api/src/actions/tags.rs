//! Tag actions (TagResource, UntagResource, ListResourceTags) on keys and secrets, and the parsing
//! of `Tags`, shared with CreateKey and CreateSecret. Certificates reuse it when they exist.

use serde_json::{Value, json};
use yaoshi_model::{ApiError, Command, ErrorCode, MAX_TAGS_PER_RESOURCE, ResourceRef, Tag};

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, fields, fresh_key_ref, internal, propose_unit, resolve_key, state};

/// Parses the `Tags` parameter: a JSON array of `{"TagKey","TagValue"}`, at most 10 entries.
/// Absent means no tags.
pub(super) fn parse_tags(p: &Params) -> Result<Vec<Tag>, ApiError> {
    let Some(raw) = p.optional("Tags") else { return Ok(Vec::new()) };
    let invalid = || ApiError::invalid("Tags");
    let items: Vec<Value> = serde_json::from_str(raw).map_err(|_| invalid())?;
    if items.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::new(ErrorCode::LimitExceeded));
    }
    items
        .iter()
        .map(|item| {
            let key = item.get("TagKey").and_then(Value::as_str).ok_or_else(invalid)?;
            let value = item.get("TagValue").and_then(Value::as_str).unwrap_or_default();
            if !Tag::is_valid_key(key) || !Tag::is_valid_value(value) {
                return Err(invalid());
            }
            Ok(Tag { key: key.to_string(), value: value.to_string() })
        })
        .collect()
}

/// The one resource a tag action names: exactly one of KeyId, SecretName, CertificateId.
async fn resource(api: &ApiState, p: &Params) -> Result<ResourceRef, ApiError> {
    let given: Vec<&str> = ["KeyId", "SecretName", "CertificateId"]
        .into_iter()
        .filter(|n| p.optional(n).is_some())
        .collect();
    match given.as_slice() {
        [] => Err(ApiError::missing("KeyId")),
        ["KeyId"] => Ok(ResourceRef::Key(fresh_key_ref(api, p.required("KeyId")?).await?)),
        ["SecretName"] => Ok(ResourceRef::Secret(p.required("SecretName")?.to_string())),
        ["CertificateId"] => Ok(ResourceRef::Certificate(p.required("CertificateId")?.to_string())),
        _ => Err(ApiError::invalid("KeyId")),
    }
}

pub(super) async fn tag_resource(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let resource = resource(api, p).await?;
    let tags = parse_tags(p)?;
    if tags.is_empty() {
        return Err(ApiError::missing("Tags"));
    }
    propose_unit(api, ctx, Command::TagResource { resource, tags }).await
}

pub(super) async fn untag_resource(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let resource = resource(api, p).await?;
    let raw = p.required("TagKeys")?;
    let tag_keys: Vec<String> =
        serde_json::from_str(raw).map_err(|_| ApiError::invalid("TagKeys"))?;
    if tag_keys.is_empty()
        || tag_keys.len() > MAX_TAGS_PER_RESOURCE
        || !tag_keys.iter().all(|k| Tag::is_valid_key(k))
    {
        return Err(ApiError::invalid("TagKeys"));
    }
    propose_unit(api, ctx, Command::UntagResource { resource, tag_keys }).await
}

pub(super) async fn list_resource_tags(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let (resource, owner) = match resource(api, p).await? {
        ResourceRef::Key(_) => {
            let key = resolve_key(api, p.required("KeyId")?)?;
            (ResourceRef::Key(key.key_id.clone()), ("KeyId", key.key_id.to_string()))
        }
        ResourceRef::Secret(name) => {
            if state(api)?.secret(&name).map_err(internal)?.is_none() {
                return Err(ApiError::new(ErrorCode::ResourceNotFound));
            }
            (ResourceRef::Secret(name.clone()), ("SecretName", name))
        }
        ResourceRef::Certificate(id) => {
            if state(api)?.certificate(&id).map_err(internal)?.is_none() {
                return Err(ApiError::new(ErrorCode::CertificateNotFound));
            }
            (ResourceRef::Certificate(id.clone()), ("CertificateId", id))
        }
    };
    let tags = state(api)?.tags(&resource).map_err(internal)?;
    let tags: Vec<Value> = tags
        .iter()
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value, owner.0: owner.1}))
        .collect();
    Ok(fields(vec![("Tags", json!({ "Tag": tags }))]))
}
