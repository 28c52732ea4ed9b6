//! The one action table: every action the API serves, its plane, and its handler.

mod account;
mod aliases;
mod asymmetric;
mod byok;
mod crypto;
mod datakey;
mod keys;
mod tags;

#[cfg(test)]
mod data_plane_test;

use std::sync::Arc;

use serde_json::{Map, Value};
use yaoshi_model::{
    Alias, ApiError, CommandEnvelope, CommandOutput, ErrorCode, KeyId, KeyMetadata,
};
use yaoshi_raft::WriteError;

use crate::context::RequestContext;
use crate::params::Params;
use crate::server::ApiState;

/// How an action is executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// A state change: a command replicated through Raft.
    Write,
    /// A control-plane read: linearizable (read-index barrier, then the local replica).
    Read,
    /// A data-plane operation on the local replica's key material, no Raft round trip.
    Data,
}

/// Every action served, with its plane. Actions of the reference not listed here are not
/// implemented yet and answer `InvalidParameter` for `Action`.
pub const ACTIONS: &[(&str, Plane)] = &[
    ("CreateKey", Plane::Write),
    ("DescribeKey", Plane::Read),
    ("ListKeys", Plane::Read),
    ("DescribeKeyVersion", Plane::Read),
    ("ListKeyVersions", Plane::Read),
    ("CreateKeyVersion", Plane::Write),
    ("UpdateKeyDescription", Plane::Write),
    ("EnableKey", Plane::Write),
    ("DisableKey", Plane::Write),
    ("ScheduleKeyDeletion", Plane::Write),
    ("CancelKeyDeletion", Plane::Write),
    ("SetDeletionProtection", Plane::Write),
    ("UpdateRotationPolicy", Plane::Write),
    ("CreateAlias", Plane::Write),
    ("UpdateAlias", Plane::Write),
    ("DeleteAlias", Plane::Write),
    ("ListAliases", Plane::Read),
    ("ListAliasesByKeyId", Plane::Read),
    ("TagResource", Plane::Write),
    ("UntagResource", Plane::Write),
    ("ListResourceTags", Plane::Read),
    ("DescribeRegions", Plane::Data),
    ("OpenKmsService", Plane::Data),
    ("DescribeAccountKmsStatus", Plane::Data),
    ("Encrypt", Plane::Data),
    ("Decrypt", Plane::Data),
    ("GenerateDataKey", Plane::Data),
    ("GenerateDataKeyWithoutPlaintext", Plane::Data),
    ("GetPublicKey", Plane::Data),
    ("ReEncrypt", Plane::Data),
    ("ExportDataKey", Plane::Data),
    ("GenerateAndExportDataKey", Plane::Data),
    ("AsymmetricSign", Plane::Data),
    ("AsymmetricVerify", Plane::Data),
    ("AsymmetricEncrypt", Plane::Data),
    ("AsymmetricDecrypt", Plane::Data),
    ("GetParametersForImport", Plane::Write),
    ("ImportKeyMaterial", Plane::Write),
    ("DeleteKeyMaterial", Plane::Write),
];

pub(crate) type Fields = Map<String, Value>;

/// Runs the handler of `action`.
pub(crate) async fn dispatch(
    api: &Arc<ApiState>,
    ctx: &RequestContext,
    action: &str,
    params: &Params,
) -> Result<Fields, ApiError> {
    let Some((_, plane)) = ACTIONS.iter().find(|(name, _)| *name == action) else {
        return Err(ApiError::invalid("Action"));
    };
    if *plane == Plane::Read {
        api.node()?.read_barrier().await.map_err(write_error)?;
    }
    match action {
        "CreateKey" => keys::create_key(api, ctx, params).await,
        "DescribeKey" => keys::describe_key(api, params).await,
        "ListKeys" => keys::list_keys(api, params),
        "DescribeKeyVersion" => keys::describe_key_version(api, params).await,
        "ListKeyVersions" => keys::list_key_versions(api, params).await,
        "CreateKeyVersion" => keys::create_key_version(api, ctx, params).await,
        "UpdateKeyDescription" => keys::update_key_description(api, ctx, params).await,
        "EnableKey" => keys::set_key_enabled(api, ctx, params, true).await,
        "DisableKey" => keys::set_key_enabled(api, ctx, params, false).await,
        "ScheduleKeyDeletion" => keys::schedule_key_deletion(api, ctx, params).await,
        "CancelKeyDeletion" => keys::cancel_key_deletion(api, ctx, params).await,
        "SetDeletionProtection" => keys::set_deletion_protection(api, ctx, params).await,
        "UpdateRotationPolicy" => keys::update_rotation_policy(api, ctx, params).await,
        "CreateAlias" => aliases::create_alias(api, ctx, params).await,
        "UpdateAlias" => aliases::update_alias(api, ctx, params).await,
        "DeleteAlias" => aliases::delete_alias(api, ctx, params).await,
        "ListAliases" => aliases::list_aliases(api, params, false).await,
        "ListAliasesByKeyId" => aliases::list_aliases(api, params, true).await,
        "TagResource" => tags::tag_resource(api, ctx, params).await,
        "UntagResource" => tags::untag_resource(api, ctx, params).await,
        "ListResourceTags" => tags::list_resource_tags(api, params).await,
        "DescribeRegions" => Ok(account::describe_regions(api)),
        "OpenKmsService" => account::open_kms_service(),
        "DescribeAccountKmsStatus" => Ok(account::describe_account_kms_status()),
        "Encrypt" => crypto::encrypt(api, params).await,
        "Decrypt" => crypto::decrypt(api, params),
        "GenerateDataKey" => datakey::generate_data_key(api, params, true).await,
        "GenerateDataKeyWithoutPlaintext" => datakey::generate_data_key(api, params, false).await,
        "GetPublicKey" => asymmetric::get_public_key(api, params).await,
        "ReEncrypt" => crypto::re_encrypt(api, params).await,
        "ExportDataKey" => datakey::export_data_key(api, params),
        "GenerateAndExportDataKey" => datakey::generate_and_export_data_key(api, params).await,
        "AsymmetricSign" => asymmetric::asymmetric_sign(api, params).await,
        "AsymmetricVerify" => asymmetric::asymmetric_verify(api, params).await,
        "AsymmetricEncrypt" => asymmetric::asymmetric_encrypt_action(api, params).await,
        "AsymmetricDecrypt" => asymmetric::asymmetric_decrypt_action(api, params).await,
        "GetParametersForImport" => byok::get_parameters_for_import(api, ctx, params).await,
        "ImportKeyMaterial" => byok::import_key_material(api, ctx, params).await,
        "DeleteKeyMaterial" => byok::delete_key_material(api, ctx, params).await,
        _ => Err(ApiError::invalid("Action")),
    }
}

/// Maps a failed replication to the API error clients see.
fn write_error(e: WriteError) -> ApiError {
    tracing::warn!(error = %e, "replication unavailable");
    ApiError::new(ErrorCode::ServiceUnavailableTemporary)
}

/// Proposes a command on behalf of the request and returns its apply result.
async fn propose(
    api: &ApiState,
    ctx: &RequestContext,
    command: yaoshi_model::Command,
) -> Result<CommandOutput, ApiError> {
    let env = CommandEnvelope { meta: ctx.command_meta(), command };
    api.node()?.write(env).await.map_err(write_error)?
}

/// Reads local state, mapping storage failures to `InternalFailure`.
fn internal<E: std::fmt::Display>(e: E) -> ApiError {
    tracing::error!(error = %e, "state read failed");
    ApiError::new(ErrorCode::InternalFailure)
}

/// Resolves a `KeyId` parameter — a key id, a key ARN of this region, or an alias name — to a key
/// id. Ids and ARNs are parsed without reading state, so writes leave existence to apply; aliases
/// are looked up in the local replica (after a read barrier when `fresh`, as writes need).
async fn key_ref(api: &ApiState, value: &str, fresh: bool) -> Result<KeyId, ApiError> {
    if value.starts_with(Alias::PREFIX) {
        if fresh {
            api.node()?.read_barrier().await.map_err(write_error)?;
        }
        return api
            .replica
            .alias(value)
            .map_err(internal)?
            .map(|a| a.key_id)
            .ok_or_else(|| ApiError::new(ErrorCode::AliasNotFound));
    }
    let key_id = match value.strip_prefix("acs:kms:") {
        Some(rest) => {
            // acs:kms:<region>:<account>:key/<id>
            let mut parts = rest.splitn(3, ':');
            let region = parts.next().unwrap_or_default();
            let _account = parts.next();
            let resource = parts.next().unwrap_or_default();
            match (region == api.region(), resource.strip_prefix("key/")) {
                (true, Some(id)) => id,
                _ => return Err(ApiError::new(ErrorCode::KeyNotFound)),
            }
        }
        None => value,
    };
    Ok(KeyId::new(key_id))
}

/// Resolves a `KeyId` parameter to the key stored in the local replica.
async fn resolve_key(api: &ApiState, value: &str) -> Result<KeyMetadata, ApiError> {
    let key_id = key_ref(api, value, false).await?;
    api.replica
        .key(key_id.as_str())
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyNotFound))
}

/// The PageNumber/PageSize of a list action, as (offset, limit, page number, page size).
fn paging(p: &Params) -> Result<(usize, usize, i64, i64), ApiError> {
    let page_number = p.int_in("PageNumber", 1, i64::from(i32::MAX), 1)?;
    let page_size = p.int_in("PageSize", 1, 100, 10)?;
    let offset = usize::try_from((page_number - 1) * page_size).unwrap_or(usize::MAX);
    let limit = usize::try_from(page_size).unwrap_or(10);
    Ok((offset, limit, page_number, page_size))
}

/// Formats Unix milliseconds as `YYYY-MM-DDThh:mm:ssZ`.
fn format_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_time(1_459_134_788_123), "2016-03-28T03:13:08Z");
    }

    /// docs/API.md stays true to the action table: every served action has a row that is not
    /// "not yet", and every "not yet" row names an action we do not serve.
    #[test]
    fn api_doc_matches_action_table() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))
                .unwrap();
        let rows: Vec<(Vec<&str>, bool)> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split_once(" | "))
            .map(|(names, rest)| (names.split(" / ").collect(), rest.starts_with("not yet")))
            .collect();
        for (name, _) in ACTIONS {
            let row = rows.iter().find(|(names, _)| names.contains(name));
            assert!(
                matches!(row, Some((_, false))),
                "{name} is served but docs/API.md does not say so"
            );
        }
        for (names, not_yet) in &rows {
            if *not_yet {
                for n in names {
                    assert!(
                        !ACTIONS.iter().any(|(a, _)| a == n),
                        "{n} is served but documented as not yet"
                    );
                }
            }
        }
    }

    #[test]
    fn action_names_unique() {
        let mut names: Vec<_> = ACTIONS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len());
    }
}
