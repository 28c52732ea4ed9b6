//! Access control: a request of a credential held to an access point is checked against that
//! access point's policies (`yaoshi_model::policy`) before its handler runs, on nodes and workers
//! alike, so a refusal changes nothing. An unscoped credential (the bootstrap one) is not checked.
//!
//! The resources of a request are read from its parameters, whatever the action: `KeyId`,
//! `DestinationKeyId` and `SourceKeyId` (a key id, a key ARN or an alias — an alias names both its
//! own ARN and its key's), the key a symmetric `CiphertextBlob` names, `AliasName`,
//! `ProtectedResourceArn`, `SecretName` and `CertificateId`. A request naming none is given the
//! account-wide resource `acs:kms:<region>:<account>:*`.
//!
//! A refusal is `Forbidden.NoPermission` (403), counted in `yaoshi_api_access_denied_total` by
//! reason and written as one `yaoshi::audit` line (request id, principal, action, reason, source).
//! It is not a Raft command: a refused caller must not be able to write to the replicated log.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use yaoshi_model::policy::{AccessRequest, Decision, DenyReason};
use yaoshi_model::{Alias, ApiError, ErrorCode};

use crate::actions::{ACTIONS, Action};
use crate::params::Params;
use crate::state::ApiState;
use crate::support::internal;

/// The action table's names, which compiled policies are indexed for.
static ACTION_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| ACTIONS.iter().map(|a| a.name).collect());

/// Parameters naming a key (id, ARN or alias).
const KEY_PARAMS: &[&str] = &["KeyId", "DestinationKeyId", "SourceKeyId"];
/// Actions whose `CiphertextBlob` is a symmetric blob naming its key.
const BLOB_ACTIONS: &[Action] = &[Action::Decrypt, Action::ReEncrypt, Action::ExportDataKey];

/// Who asks for what, from where.
#[derive(Debug)]
pub(crate) struct Subject<'a> {
    /// The request id (for the audit line).
    pub(crate) request_id: &'a str,
    /// The AccessKey id.
    pub(crate) principal: &'a str,
    /// Its account (the account of the ARNs).
    pub(crate) account_id: &'a str,
    /// The access point it is held to; `None`: unscoped, not checked.
    pub(crate) access_point: Option<&'a str>,
    /// The connection's address.
    pub(crate) source: Option<IpAddr>,
}

/// Refuses the request with `Forbidden.NoPermission` unless the subject's policies allow it.
pub(crate) fn check(
    api: &ApiState,
    who: &Subject<'_>,
    action: Action,
    params: &Params,
) -> Result<(), ApiError> {
    let Some(access_point) = who.access_point else { return Ok(()) };
    let policies = api.policies.get(api.replica.as_ref(), access_point, &ACTION_NAMES)?;
    let resources = resources_of(api, who.account_id, action, params)?;
    let req =
        AccessRequest { action: action.info().name, resources: &resources, source: who.source };
    match policies.evaluate(&req) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => {
            refused(who, action, access_point, reason);
            Err(ApiError::new(ErrorCode::NoPermission))
        }
    }
}

fn refused(who: &Subject<'_>, action: Action, access_point: &str, reason: DenyReason) {
    metrics::counter!("yaoshi_api_access_denied_total", "reason" => reason.as_str()).increment(1);
    let source = who.source.map(|ip| ip.to_string()).unwrap_or_default();
    tracing::warn!(
        target: "yaoshi::audit",
        request_id = who.request_id,
        principal = who.principal,
        action = action.info().name,
        access_point,
        reason = reason.as_str(),
        source,
        "access denied"
    );
}

/// The ARN of `kind/name` in this region and account.
fn arn(api: &ApiState, account_id: &str, kind: &str, name: &str) -> String {
    format!("acs:kms:{}:{account_id}:{kind}/{name}", api.region())
}

/// The resources a request names, each with all its names.
fn resources_of(
    api: &ApiState,
    account_id: &str,
    action: Action,
    params: &Params,
) -> Result<Vec<Vec<String>>, ApiError> {
    let mut out = Vec::new();
    for name in KEY_PARAMS {
        if let Some(value) = params.optional(name) {
            out.push(key_names(api, account_id, value)?);
        }
    }
    if BLOB_ACTIONS.contains(&action)
        && let Some(blob) = params.optional("CiphertextBlob")
        && let Ok(bytes) = B64.decode(blob)
        && let Ok(header) = yaoshi_crypto::parse_blob_header(&bytes)
    {
        out.push(vec![arn(api, account_id, "key", &header.key_id)]);
    }
    if let Some(alias) = params.optional("AliasName") {
        let name = alias.strip_prefix(Alias::PREFIX).unwrap_or(alias);
        out.push(vec![arn(api, account_id, "alias", name)]);
    }
    if let Some(value) = params.optional("ProtectedResourceArn") {
        out.push(vec![value.to_string()]);
    }
    if let Some(name) = params.optional("SecretName") {
        out.push(vec![arn(api, account_id, "secret", name)]);
    }
    if let Some(id) = params.optional("CertificateId") {
        out.push(vec![arn(api, account_id, "certificate", id)]);
    }
    if out.is_empty() {
        out.push(vec![format!("acs:kms:{}:{account_id}:*", api.region())]);
    }
    Ok(out)
}

/// The names of a key reference: a key's ARN; an alias's own ARN and its key's ARN; an ARN as
/// given.
fn key_names(api: &ApiState, account_id: &str, value: &str) -> Result<Vec<String>, ApiError> {
    if let Some(name) = value.strip_prefix(Alias::PREFIX) {
        let mut names = vec![arn(api, account_id, "alias", name)];
        if let Some(alias) = api.replica.alias(value).map_err(internal)? {
            names.push(arn(api, account_id, "key", alias.key_id.as_str()));
        }
        return Ok(names);
    }
    if value.starts_with("acs:") {
        return Ok(vec![value.to_string()]);
    }
    Ok(vec![arn(api, account_id, "key", value)])
}
