//! What action handlers share: response fields, error mapping, proposing a command, resolving a
//! `KeyId` parameter, fresh reads of state, paging and date formatting.

use serde_json::{Map, Value};
use yaoshi_model::{Alias, ApiError, Command, CommandEnvelope, CommandOutput, ErrorCode};
use yaoshi_model::{KeyId, KeyMetadata};
use yaoshi_raft::WriteError;
use yaoshi_store::StateReader;

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;

/// The fields of a success response (`RequestId` is added when it is rendered).
pub(crate) type Fields = Map<String, Value>;

/// Response fields from `(name, value)` pairs.
pub(crate) fn fields(pairs: Vec<(&str, Value)>) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Maps a failed replication to the API error clients see.
pub(crate) fn write_error(e: WriteError) -> ApiError {
    tracing::warn!(error = %e, "replication unavailable");
    ApiError::new(ErrorCode::ServiceUnavailableTemporary)
}

/// Maps a failure that is not the request's fault (a storage read, a task join) to
/// `InternalFailure`, logging it without request data.
pub(crate) fn internal<E: std::fmt::Display>(e: E) -> ApiError {
    tracing::error!(error = %e, "internal failure");
    ApiError::new(ErrorCode::InternalFailure)
}

/// Proposes a command on behalf of the request and returns its apply result: the command's
/// output, or the API error apply decided against the committed state.
///
/// The command must be the one the action's table row names as its audit name, so the audit trail
/// and the action table cannot drift apart.
pub(crate) async fn propose(
    api: &ApiState,
    ctx: &RequestContext,
    command: Command,
) -> Result<CommandOutput, ApiError> {
    if ctx.audit_name != Some(command.name()) {
        tracing::error!(
            command = command.name(),
            row = ?ctx.audit_name,
            "a handler proposed a command its action-table row does not name"
        );
        return Err(ApiError::new(ErrorCode::InternalFailure));
    }
    let env = CommandEnvelope { meta: ctx.command_meta(), command };
    api.node()?.write(env).await.map_err(write_error)?
}

/// Proposes a command whose success answers with just the `RequestId`.
pub(crate) async fn propose_unit(
    api: &ApiState,
    ctx: &RequestContext,
    command: Command,
) -> Result<Fields, ApiError> {
    propose(api, ctx, command).await?;
    Ok(Fields::new())
}

/// The node's state for control-plane queries (lists, tags, import tokens); callers of the Read
/// plane have passed the read barrier in dispatch.
pub(crate) fn state(api: &ApiState) -> Result<&StateReader, ApiError> {
    Ok(&api.node()?.state)
}

/// Resolves a `KeyId` parameter — a key id, a key ARN of this region, or an alias name — to a key
/// id. Ids and ARNs are parsed without reading state, so writes leave existence to apply; aliases
/// are looked up in the local replica.
pub(crate) fn key_ref(api: &ApiState, value: &str) -> Result<KeyId, ApiError> {
    if value.starts_with(Alias::PREFIX) {
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

/// [`key_ref`] for a write: an alias is resolved after a read barrier, so a write never acts on
/// the key an alias pointed at before a change the client has already seen acknowledged.
pub(crate) async fn fresh_key_ref(api: &ApiState, value: &str) -> Result<KeyId, ApiError> {
    if value.starts_with(Alias::PREFIX) {
        api.node()?.read_barrier().await.map_err(write_error)?;
    }
    key_ref(api, value)
}

/// Resolves a `KeyId` parameter to the key in the local replica (`Forbidden.KeyNotFound` when it
/// does not exist): what the data plane and the Read plane (after its barrier) read.
pub(crate) fn resolve_key(api: &ApiState, value: &str) -> Result<KeyMetadata, ApiError> {
    let key_id = key_ref(api, value)?;
    api.replica
        .key(key_id.as_str())
        .map_err(internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::KeyNotFound))
}

/// The key a write handler needs to read before it proposes: a read barrier (so the replica holds
/// every write acknowledged before this request), then [`resolve_key`].
pub(crate) async fn fresh_key(api: &ApiState, value: &str) -> Result<KeyMetadata, ApiError> {
    api.node()?.read_barrier().await.map_err(write_error)?;
    resolve_key(api, value)
}

/// The PageNumber/PageSize of a list action.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// Items to skip.
    pub(crate) offset: usize,
    /// Items to return at most.
    pub(crate) limit: usize,
    /// `PageNumber` as given (1 by default).
    pub(crate) number: i64,
    /// `PageSize` as given (10 by default).
    pub(crate) size: i64,
}

impl Page {
    /// Parses `PageNumber` (≥ 1) and `PageSize` (1–100).
    pub(crate) fn parse(p: &Params) -> Result<Page, ApiError> {
        let number = p.int_in("PageNumber", 1, i64::from(i32::MAX), 1)?;
        let size = p.int_in("PageSize", 1, 100, 10)?;
        let offset = usize::try_from((number - 1) * size).unwrap_or(usize::MAX);
        let limit = usize::try_from(size).unwrap_or(10);
        Ok(Page { offset, limit, number, size })
    }

    /// The response fields of one page: `<list>: {<item>: [...]}`, TotalCount, PageNumber and
    /// PageSize.
    pub(crate) fn fields(self, list: &str, item: &str, items: Vec<Value>, total: usize) -> Fields {
        let mut inner = Map::new();
        inner.insert(item.to_string(), Value::Array(items));
        fields(vec![
            (list, Value::Object(inner)),
            ("TotalCount", Value::from(total)),
            ("PageNumber", Value::from(self.number)),
            ("PageSize", Value::from(self.size)),
        ])
    }
}

/// Formats Unix milliseconds as `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn format_time(ms: i64) -> String {
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

    #[test]
    fn paging_defaults_and_bounds() {
        let page = Page::parse(&Params::parse(Some("PageNumber=3&PageSize=20"), None)).unwrap();
        assert_eq!((page.offset, page.limit, page.number, page.size), (40, 20, 3, 20));
        let default = Page::parse(&Params::parse(None, None)).unwrap();
        assert_eq!((default.offset, default.limit), (0, 10));
        for bad in ["PageSize=0", "PageSize=101", "PageNumber=0", "PageNumber=x"] {
            assert!(Page::parse(&Params::parse(Some(bad), None)).is_err(), "{bad}");
        }
    }
}
