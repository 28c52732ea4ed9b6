//! Alias actions: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, ListAliasesByKeyId.

use serde_json::{Value, json};
use yaoshi_model::{Alias, ApiError, Command, ErrorCode, KeyId};

use super::keys::fields;
use super::{Fields, internal, key_ref, paging, propose, resolve_key};
use crate::context::RequestContext;
use crate::params::Params;
use crate::server::ApiState;

fn alias_name(p: &Params) -> Result<&str, ApiError> {
    let name = p.required("AliasName")?;
    if !Alias::is_valid_name(name) {
        return Err(ApiError::invalid("AliasName"));
    }
    Ok(name)
}

/// The target key of CreateAlias/UpdateAlias: an id or ARN; an alias cannot point at an alias.
async fn target_key(api: &ApiState, p: &Params) -> Result<KeyId, ApiError> {
    let value = p.required("KeyId")?;
    if value.starts_with(Alias::PREFIX) {
        return Err(ApiError::new(ErrorCode::UnsupportedAlias));
    }
    key_ref(api, value, false).await
}

pub(super) async fn create_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?;
    let key_id = target_key(api, p).await?;
    let alias = Alias { name: name.to_string(), key_id, account_id: ctx.account_id.clone() };
    propose(api, ctx, Command::CreateAlias { alias }).await?;
    Ok(Fields::new())
}

pub(super) async fn update_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?.to_string();
    let key_id = target_key(api, p).await?;
    propose(api, ctx, Command::UpdateAlias { name, key_id }).await?;
    Ok(Fields::new())
}

pub(super) async fn delete_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?.to_string();
    propose(api, ctx, Command::DeleteAlias { name }).await?;
    Ok(Fields::new())
}

/// ListAliases, or ListAliasesByKeyId when `by_key`.
pub(super) async fn list_aliases(
    api: &ApiState,
    p: &Params,
    by_key: bool,
) -> Result<Fields, ApiError> {
    let key_id = match by_key {
        true => Some(resolve_key(api, p.required("KeyId")?).await?.key_id),
        false => None,
    };
    let (offset, limit, page_number, page_size) = paging(p)?;
    let (page, total) = api
        .node()?
        .state
        .list_aliases(key_id.as_ref().map(KeyId::as_str), offset, limit)
        .map_err(internal)?;
    let aliases: Vec<Value> = page
        .iter()
        .map(|a| {
            json!({
                "AliasName": a.name,
                "AliasArn": format!("acs:kms:{}:{}:{}", api.region(), a.account_id, a.name),
                "KeyId": a.key_id.as_str(),
            })
        })
        .collect();
    Ok(fields(vec![
        ("Aliases", json!({ "Alias": aliases })),
        ("TotalCount", json!(total)),
        ("PageNumber", json!(page_number)),
        ("PageSize", json!(page_size)),
    ]))
}
