//! Alias actions: CreateAlias, UpdateAlias, DeleteAlias, ListAliases, ListAliasesByKeyId.

use serde_json::{Value, json};
use yaoshi_model::{Alias, ApiError, Command, ErrorCode, KeyId};

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, Page, internal, key_ref, propose_unit, resolve_key, state};

fn alias_name(p: &Params) -> Result<&str, ApiError> {
    let name = p.required("AliasName")?;
    if !Alias::is_valid_name(name) {
        return Err(ApiError::invalid("AliasName"));
    }
    Ok(name)
}

/// The target key of CreateAlias/UpdateAlias: an id or ARN; an alias cannot point at an alias.
fn target_key(api: &ApiState, p: &Params) -> Result<KeyId, ApiError> {
    let value = p.required("KeyId")?;
    if value.starts_with(Alias::PREFIX) {
        return Err(ApiError::new(ErrorCode::UnsupportedAlias));
    }
    key_ref(api, value)
}

pub(super) async fn create_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?;
    let key_id = target_key(api, p)?;
    let alias = Alias { name: name.to_string(), key_id, account_id: ctx.account_id.clone() };
    propose_unit(api, ctx, Command::CreateAlias { alias }).await
}

pub(super) async fn update_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?.to_string();
    let key_id = target_key(api, p)?;
    propose_unit(api, ctx, Command::UpdateAlias { name, key_id }).await
}

pub(super) async fn delete_alias(
    api: &ApiState,
    ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let name = alias_name(p)?.to_string();
    propose_unit(api, ctx, Command::DeleteAlias { name }).await
}

pub(super) async fn list_aliases(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    alias_page(api, p, None)
}

pub(super) async fn list_aliases_by_key_id(
    api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let key = resolve_key(api, p.required("KeyId")?)?;
    alias_page(api, p, Some(&key.key_id))
}

/// One page of the aliases (of `key_id` only, when given).
fn alias_page(api: &ApiState, p: &Params, key_id: Option<&KeyId>) -> Result<Fields, ApiError> {
    let page = Page::parse(p)?;
    let (aliases, total) = state(api)?
        .list_aliases(key_id.map(KeyId::as_str), page.offset, page.limit)
        .map_err(internal)?;
    let aliases: Vec<Value> = aliases
        .iter()
        .map(|a| {
            json!({
                "AliasName": a.name,
                "AliasArn": format!("acs:kms:{}:{}:{}", api.region(), a.account_id, a.name),
                "KeyId": a.key_id.as_str(),
            })
        })
        .collect();
    Ok(page.fields("Aliases", "Alias", aliases, total))
}
