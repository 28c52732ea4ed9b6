//! How rows are keyed inside the state column families of `db.rs`: the row keys of `sm_meta` and
//! the composite keys of versions, tags, the alias index, nonces and audit events.
//!
//! Pure byte layout (no RocksDB access), shared by apply, the state machine, snapshots and queries.
//! Persisted: changing a layout changes every replica's state, so it needs a migration.

/// `sm_meta`: the last applied log id.
pub(crate) const META_LAST_APPLIED: &[u8] = b"last_applied";
/// `sm_meta`: the last applied membership.
pub(crate) const META_MEMBERSHIP: &[u8] = b"membership";
/// `sm_meta`: `((log index, position), hash)` of the newest audit event.
pub(crate) const META_AUDIT_HEAD: &[u8] = b"audit_head";
/// `sm_meta`: present once the region has had a credential; the bootstrap credential is taken only
/// before that, so revoking every credential never re-opens the bootstrap.
pub(crate) const META_CREDENTIALS_STARTED: &[u8] = b"credentials_started";
/// `sm_meta`: `(log index, commands of that entry applied)` while an entry's proposal is being
/// applied.
pub(crate) const META_APPLYING: &[u8] = b"applying";
/// `sm_meta`: the id of the region's default master key of the secrets manager.
pub(crate) const META_SECRETS_KEY: &[u8] = b"secrets_key";
/// `sm_meta`: the greatest nonce horizon pruning has used (big-endian i64 ms): records of signed
/// commands proposed before it may be forgotten.
pub(crate) const META_NONCES_FORGOTTEN_BEFORE: &[u8] = b"nonces_forgotten_before";

/// The storage key of a key version (`key_id/version_id`); with an empty `version_id`, the prefix
/// of all the key's versions.
pub(crate) fn version_key(key_id: &str, version_id: &str) -> Vec<u8> {
    format!("{key_id}/{version_id}").into_bytes()
}

/// The storage key of one tag of a resource: the resource's tag prefix
/// ([`yaoshi_model::ResourceRef::tag_prefix`]), then the tag key.
pub(crate) fn tag_key(prefix: &[u8], key: &str) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(key.as_bytes());
    k
}

/// The storage key of the key → alias index (`key_id \0 alias_name`); with an empty
/// `alias_name`, the prefix of all the key's aliases.
pub(crate) fn key_alias_key(key_id: &str, alias_name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key_id.len() + 1 + alias_name.len());
    k.extend_from_slice(key_id.as_bytes());
    k.push(0);
    k.extend_from_slice(alias_name.as_bytes());
    k
}

/// The storage key of a secret version (`name \0 version_id`); with an empty `version_id`, the
/// prefix of all the secret's versions.
pub(crate) fn secret_version_key(name: &str, version_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1 + version_id.len());
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k.extend_from_slice(version_id.as_bytes());
    k
}

/// The storage key of a seen signature nonce (`access_key_id \0 nonce`).
pub(crate) fn nonce_key(principal: &str, nonce: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(principal.len() + 1 + nonce.len());
    k.extend_from_slice(principal.as_bytes());
    k.push(0);
    k.extend_from_slice(nonce.as_bytes());
    k
}

/// The storage key of the nonce expiry index: the time the nonce was seen (big-endian, so the
/// index iterates oldest first), then the nonce's key.
pub(crate) fn nonce_expiry_key(at_ms: i64, nonce_key: &[u8]) -> Vec<u8> {
    let mut k = at_ms.to_be_bytes().to_vec();
    k.extend_from_slice(nonce_key);
    k
}

/// Splits a nonce expiry key into its time and nonce key (`None` when shorter than the time).
pub(crate) fn split_nonce_expiry_key(key: &[u8]) -> Option<(i64, &[u8])> {
    let (ts, nonce_key) = key.split_at_checked(8)?;
    Some((i64::from_be_bytes(ts.try_into().unwrap_or([0xff; 8])), nonce_key))
}

/// The storage key of an audit event: big-endian (log index, position in the entry's proposal).
pub(crate) fn audit_key(log_index: u64, position: u32) -> Vec<u8> {
    let mut k = log_index.to_be_bytes().to_vec();
    k.extend_from_slice(&position.to_be_bytes());
    k
}
