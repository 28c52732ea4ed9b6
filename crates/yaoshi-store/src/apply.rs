//! Applying one command to the state: a deterministic function of (state, command) that fills a
//! write batch and returns the command's response.

use rocksdb::{Direction, IteratorMode, WriteBatch};
use yaoshi_model::{
    Alias, ApiError, Command, CommandEnvelope, CommandOutput, CommandResponse, ErrorCode,
    ImportToken, KeyId, KeyMetadata, KeyOrigin, KeyState, KeyVersion, MAX_TAGS_PER_RESOURCE,
    MIN_KEY_VERSION_INTERVAL_MS, REPLAY_WINDOW_MS, ResourceRef, Tag,
};

use crate::codec::{decode, encode};
use crate::db::{
    CF_ALIASES, CF_CREDENTIALS, CF_IMPORT_TOKENS, CF_KEY_ALIASES, CF_KEY_VERSIONS, CF_KEYS,
    CF_NONCE_EXPIRY, CF_NONCES, CF_TAGS, RegionDb,
};

/// At most this many expired nonces are pruned per applied command, bounding apply time.
const NONCE_PRUNE_BATCH: usize = 256;

/// The storage key of a key version.
pub(crate) fn version_key(key_id: &str, version_id: &str) -> Vec<u8> {
    format!("{key_id}/{version_id}").into_bytes()
}

fn nonce_key(principal: &str, nonce: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(principal.len() + 1 + nonce.len());
    k.extend_from_slice(principal.as_bytes());
    k.push(0);
    k.extend_from_slice(nonce.as_bytes());
    k
}

/// The result of applying one command.
#[derive(Debug)]
pub(crate) struct Applied {
    /// What the proposer gets back.
    pub(crate) response: CommandResponse,
    /// The command repeats an already applied proposal (same principal, nonce and request id): it
    /// changed nothing and `response` is the first application's.
    pub(crate) duplicate: bool,
}

/// What is remembered of a signed request within the replay window: when it was applied, the id of
/// the proposal, and its response, so a retried proposal gets the first answer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SeenRequest {
    at_ms: i64,
    request_id: String,
    response: CommandResponse,
}

/// Applies `env` on top of the committed state in `db`, writing its effects into `batch`.
///
/// A command carrying a (principal, nonce) already applied within the replay window is not
/// applied again: when it is the same proposal (same request id: a write retried by its proposer
/// after a timeout, or appended twice around a leader change) it returns the first response and is
/// marked duplicate; otherwise it is a replayed signature (`SignatureNonceUsed`).
///
/// State-dependent rejections are returned as `Err(ApiError)`; they change nothing but the nonce
/// record and the audit trail. Storage read failures are returned as `Err` of the outer result.
pub(crate) fn apply_command(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<Applied, rocksdb::Error> {
    let signed = match (&env.meta.principal, &env.meta.nonce) {
        (Some(principal), Some(nonce)) => Some(nonce_key(principal.as_str(), nonce)),
        _ => None,
    };
    if let Some(key) = &signed
        && let Some(raw) = db.db.get_pinned_cf(db.cf(CF_NONCES), key)?
        && let Ok(seen) = decode::<SeenRequest>(&raw)
        && env.meta.at_ms.saturating_sub(seen.at_ms) < REPLAY_WINDOW_MS
    {
        if seen.request_id == env.meta.request_id {
            return Ok(Applied { response: seen.response, duplicate: true });
        }
        return Ok(Applied {
            response: Err(ApiError::new(ErrorCode::SignatureNonceUsed)),
            duplicate: false,
        });
    }
    prune_nonces(db, batch, env.meta.at_ms)?;
    let response = apply_change(db, batch, env)?;
    if let Some(key) = signed {
        let seen = SeenRequest {
            at_ms: env.meta.at_ms,
            request_id: env.meta.request_id.clone(),
            response: response.clone(),
        };
        batch.put_cf(db.cf(CF_NONCES), &key, encode(&seen));
        let mut expiry = env.meta.at_ms.to_be_bytes().to_vec();
        expiry.extend_from_slice(&key);
        batch.put_cf(db.cf(CF_NONCE_EXPIRY), expiry, []);
    }
    Ok(Applied { response, duplicate: false })
}

/// The command's own effect.
fn apply_change(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<CommandResponse, rocksdb::Error> {
    match &env.command {
        Command::CreateKey { metadata, version, tags } => {
            let keys = db.cf(CF_KEYS);
            if let Some(raw) = db.db.get_pinned_cf(keys, metadata.key_id.as_str())? {
                // Ids are fresh UUIDs chosen by the proposer; a second command for the same id is a
                // duplicate and must not overwrite the first.
                return Ok(match decode::<KeyMetadata>(&raw) {
                    Ok(k) if k == *metadata => Ok(CommandOutput::Key(k)),
                    _ => Err(ApiError::new(ErrorCode::ResourceExist)),
                });
            }
            batch.put_cf(keys, metadata.key_id.as_str(), encode(metadata));
            batch.put_cf(
                db.cf(CF_KEY_VERSIONS),
                version_key(version.key_id.as_str(), version.version_id.as_str()),
                encode(version),
            );
            let prefix = ResourceRef::Key(metadata.key_id.clone()).tag_prefix();
            for tag in tags.iter().take(MAX_TAGS_PER_RESOURCE) {
                batch.put_cf(db.cf(CF_TAGS), tag_key(&prefix, &tag.key), encode(&tag.value));
            }
            Ok(Ok(CommandOutput::Key(metadata.clone())))
        }
        Command::BootstrapCredential { credential } => {
            let cf = db.cf(CF_CREDENTIALS);
            let mut any = db.db.iterator_cf(cf, IteratorMode::Start);
            if any.next().transpose()?.is_some() {
                return Ok(Ok(CommandOutput::NoOp));
            }
            batch.put_cf(cf, credential.access_key_id.as_str(), encode(credential));
            Ok(Ok(CommandOutput::None))
        }
        Command::UpdateKeyDescription { key_id, description } => {
            update_key(db, batch, key_id, |k| match k.state {
                KeyState::PendingDeletion => Err(ErrorCode::RejectedPendingDeletion),
                _ => {
                    k.description.clone_from(description);
                    Ok(())
                }
            })
        }
        Command::SetKeyEnabled { key_id, enabled } => {
            update_key(db, batch, key_id, |k| match k.state {
                KeyState::Enabled | KeyState::Disabled => {
                    k.state = if *enabled { KeyState::Enabled } else { KeyState::Disabled };
                    Ok(())
                }
                KeyState::PendingDeletion | KeyState::PendingImport => {
                    Err(ErrorCode::StateModifiedFailed)
                }
            })
        }
        Command::ScheduleKeyDeletion { key_id, delete_ms } => {
            update_key(db, batch, key_id, |k| match k.state {
                KeyState::PendingDeletion => Err(ErrorCode::StateModifiedFailed),
                _ if k.deletion_protection.is_some() => Err(ErrorCode::StateModifiedFailed),
                _ => {
                    k.state = KeyState::PendingDeletion;
                    k.delete_ms = Some(*delete_ms);
                    Ok(())
                }
            })
        }
        Command::CancelKeyDeletion { key_id } => {
            // A key whose material was never imported (or was deleted) goes back to waiting for it.
            let has_material = match read_key(db, key_id.as_str())? {
                Some(k) => read_version(db, &k)?.is_some_and(|v| !v.wrapped_material.is_empty()),
                None => false,
            };
            update_key(db, batch, key_id, |k| match k.state {
                KeyState::PendingDeletion => {
                    k.state =
                        if has_material { KeyState::Enabled } else { KeyState::PendingImport };
                    k.delete_ms = None;
                    Ok(())
                }
                _ => Err(ErrorCode::StateModifiedFailed),
            })
        }
        Command::CreateImportToken { token } => {
            let Some(key) = read_key(db, token.key_id.as_str())? else {
                return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
            };
            if key.origin != KeyOrigin::External {
                return Ok(Err(ApiError::new(ErrorCode::UnsupportedOrigin)));
            }
            let cf = db.cf(CF_IMPORT_TOKENS);
            if db.db.get_pinned_cf(cf, &token.token)?.is_some() {
                return Ok(Err(ApiError::new(ErrorCode::ResourceExist)));
            }
            batch.put_cf(cf, &token.token, encode(token));
            Ok(Ok(CommandOutput::None))
        }
        Command::ImportKeyMaterial {
            key_id,
            token,
            wrapped_material,
            material_digest,
            expire_ms,
        } => {
            let Some(key) = read_key(db, key_id.as_str())? else {
                return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
            };
            if key.origin != KeyOrigin::External {
                return Ok(Err(ApiError::new(ErrorCode::UnsupportedOrigin)));
            }
            if key.state == KeyState::PendingDeletion {
                return Ok(Err(ApiError::new(ErrorCode::StateModifiedFailed)));
            }
            let stored: Option<ImportToken> =
                db.db.get_pinned_cf(db.cf(CF_IMPORT_TOKENS), token)?.and_then(|b| decode(&b).ok());
            match stored {
                Some(t) if t.key_id == *key_id => {
                    if env.meta.at_ms >= t.expire_ms {
                        return Ok(Err(ApiError::new(ErrorCode::ExpiredImportToken)));
                    }
                }
                _ => return Ok(Err(ApiError::new(ErrorCode::InvalidImportToken))),
            }
            let Some(mut version) = read_version(db, &key)? else {
                return Ok(Err(ApiError::new(ErrorCode::InternalFailure)));
            };
            // Once a key has had material, only the same material may come back.
            if !version.material_digest.is_empty() && version.material_digest != *material_digest {
                return Ok(Err(ApiError::new(ErrorCode::InvalidKeyMaterial)));
            }
            version.wrapped_material.clone_from(wrapped_material);
            version.material_digest.clone_from(material_digest);
            batch.put_cf(
                db.cf(CF_KEY_VERSIONS),
                version_key(key_id.as_str(), version.version_id.as_str()),
                encode(&version),
            );
            update_key(db, batch, key_id, |k| {
                if k.state == KeyState::PendingImport {
                    k.state = KeyState::Enabled;
                }
                k.material_expire_ms = *expire_ms;
                Ok(())
            })
        }
        Command::DeleteKeyMaterial { key_id } => {
            let Some(key) = read_key(db, key_id.as_str())? else {
                return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
            };
            if key.origin != KeyOrigin::External {
                return Ok(Err(ApiError::new(ErrorCode::UnsupportedOrigin)));
            }
            if let Some(mut version) = read_version(db, &key)? {
                version.wrapped_material.clear();
                batch.put_cf(
                    db.cf(CF_KEY_VERSIONS),
                    version_key(key_id.as_str(), version.version_id.as_str()),
                    encode(&version),
                );
            }
            update_key(db, batch, key_id, |k| {
                if k.state != KeyState::PendingDeletion {
                    k.state = KeyState::PendingImport;
                }
                k.material_expire_ms = None;
                Ok(())
            })
        }
        Command::CreateKeyVersion { version } => {
            let versions = db.cf(CF_KEY_VERSIONS);
            let storage_key = version_key(version.key_id.as_str(), version.version_id.as_str());
            if db.db.get_pinned_cf(versions, &storage_key)?.is_some() {
                return Ok(Err(ApiError::new(ErrorCode::ResourceExist)));
            }
            let at_ms = env.meta.at_ms;
            let response = update_key(db, batch, &version.key_id, |k| {
                if k.spec.is_symmetric() {
                    return Err(ErrorCode::UnsupportedOperation);
                }
                require_enabled(k.state)?;
                if at_ms.saturating_sub(k.last_rotation_ms) < MIN_KEY_VERSION_INTERVAL_MS {
                    return Err(ErrorCode::LimitExceeded);
                }
                k.primary_version = version.version_id.clone();
                k.last_rotation_ms = at_ms;
                Ok(())
            })?;
            if response.is_ok() {
                batch.put_cf(versions, storage_key, encode(version));
            }
            Ok(response)
        }
        Command::UpdateRotationPolicy { key_id, interval_s } => {
            update_key(db, batch, key_id, |k| {
                require_enabled(k.state)?;
                // Only KMS-generated symmetric keys rotate automatically; turning it off is always
                // allowed.
                if interval_s.is_some()
                    && (!k.spec.is_symmetric() || k.origin != KeyOrigin::AliyunKms)
                {
                    return Err(ErrorCode::UnsupportedOperation);
                }
                k.rotation_interval_s = *interval_s;
                Ok(())
            })
        }
        Command::SetDeletionProtection { key_id, protection } => {
            update_key(db, batch, key_id, |k| {
                k.deletion_protection.clone_from(protection);
                Ok(())
            })
        }
        Command::CreateAlias { alias } => {
            let Some(key) = read_key(db, alias.key_id.as_str())? else {
                return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
            };
            if key.state == KeyState::PendingDeletion {
                return Ok(Err(ApiError::new(ErrorCode::StateModifiedFailed)));
            }
            if read_alias(db, &alias.name)?.is_some() {
                return Ok(Err(ApiError::new(ErrorCode::AliasAlreadyExists)));
            }
            put_alias(db, batch, alias);
            Ok(Ok(CommandOutput::None))
        }
        Command::UpdateAlias { name, key_id } => {
            let Some(mut alias) = read_alias(db, name)? else {
                return Ok(Err(ApiError::new(ErrorCode::AliasNotFound)));
            };
            match read_key(db, key_id.as_str())? {
                None => return Ok(Err(ApiError::new(ErrorCode::KeyNotFound))),
                Some(k) if k.state == KeyState::PendingDeletion => {
                    return Ok(Err(ApiError::new(ErrorCode::RejectedPendingDeletion)));
                }
                Some(_) => {}
            }
            batch.delete_cf(db.cf(CF_KEY_ALIASES), key_alias_key(alias.key_id.as_str(), name));
            alias.key_id = key_id.clone();
            put_alias(db, batch, &alias);
            Ok(Ok(CommandOutput::None))
        }
        Command::TagResource { resource, tags } => {
            if let Some(rejection) = check_taggable(db, resource)? {
                return Ok(Err(rejection));
            }
            let prefix = resource.tag_prefix();
            let existing = read_tags(db, &prefix)?;
            let mut keys: std::collections::BTreeSet<&str> =
                existing.iter().map(|t| t.key.as_str()).collect();
            keys.extend(tags.iter().map(|t| t.key.as_str()));
            if keys.len() > MAX_TAGS_PER_RESOURCE {
                return Ok(Err(ApiError::new(ErrorCode::LimitExceeded)));
            }
            for tag in tags {
                batch.put_cf(db.cf(CF_TAGS), tag_key(&prefix, &tag.key), encode(&tag.value));
            }
            Ok(Ok(CommandOutput::None))
        }
        Command::UntagResource { resource, tag_keys } => {
            if let Some(rejection) = check_taggable(db, resource)? {
                return Ok(Err(rejection));
            }
            let prefix = resource.tag_prefix();
            for key in tag_keys {
                batch.delete_cf(db.cf(CF_TAGS), tag_key(&prefix, key));
            }
            Ok(Ok(CommandOutput::None))
        }
        Command::PurgeKey { key_id, expected_delete_ms, .. } => {
            let Some(key) = read_key(db, key_id.as_str())? else {
                return Ok(Ok(CommandOutput::NoOp));
            };
            let due = key.state == KeyState::PendingDeletion
                && key.delete_ms == Some(*expected_delete_ms)
                && env.meta.at_ms >= *expected_delete_ms;
            if !due {
                return Ok(Ok(CommandOutput::NoOp));
            }
            purge_key(db, batch, key_id)?;
            Ok(Ok(CommandOutput::None))
        }
        Command::RotateKey { key_id, expected_next_rotation_ms, version } => {
            let Some(key) = read_key(db, key_id.as_str())? else {
                return Ok(Ok(CommandOutput::NoOp));
            };
            let versions = db.cf(CF_KEY_VERSIONS);
            let storage_key = version_key(key_id.as_str(), version.version_id.as_str());
            let Some(last_rotation_ms) =
                rotation_slot(&key, *expected_next_rotation_ms, env.meta.at_ms)
            else {
                return Ok(Ok(CommandOutput::NoOp));
            };
            if version.key_id != *key_id || db.db.get_pinned_cf(versions, &storage_key)?.is_some() {
                return Ok(Ok(CommandOutput::NoOp));
            }
            batch.put_cf(versions, storage_key, encode(version));
            update_key(db, batch, key_id, |k| {
                k.primary_version = version.version_id.clone();
                k.last_rotation_ms = last_rotation_ms;
                Ok(())
            })
        }
        Command::ExpireKeyMaterial { key_id, expected_expire_ms } => {
            let Some(key) = read_key(db, key_id.as_str())? else {
                return Ok(Ok(CommandOutput::NoOp));
            };
            if key.material_expire_ms != Some(*expected_expire_ms)
                || env.meta.at_ms < *expected_expire_ms
            {
                return Ok(Ok(CommandOutput::NoOp));
            }
            if let Some(mut version) = read_version(db, &key)? {
                version.wrapped_material.clear();
                batch.put_cf(
                    db.cf(CF_KEY_VERSIONS),
                    version_key(key_id.as_str(), version.version_id.as_str()),
                    encode(&version),
                );
            }
            update_key(db, batch, key_id, |k| {
                if k.state != KeyState::PendingDeletion {
                    k.state = KeyState::PendingImport;
                }
                k.material_expire_ms = None;
                Ok(())
            })
        }
        Command::PurgeImportTokens { tokens } => {
            let cf = db.cf(CF_IMPORT_TOKENS);
            let mut purged = 0;
            for token in tokens {
                let stored: Option<ImportToken> =
                    db.db.get_pinned_cf(cf, token)?.and_then(|b| decode(&b).ok());
                if stored.is_some_and(|t| t.expire_ms <= env.meta.at_ms) {
                    batch.delete_cf(cf, token);
                    purged += 1;
                }
            }
            Ok(Ok(if purged == 0 { CommandOutput::NoOp } else { CommandOutput::None }))
        }
        Command::DeleteAlias { name } => {
            let Some(alias) = read_alias(db, name)? else {
                return Ok(Err(ApiError::new(ErrorCode::AliasNotFound)));
            };
            batch.delete_cf(db.cf(CF_ALIASES), name);
            batch.delete_cf(db.cf(CF_KEY_ALIASES), key_alias_key(alias.key_id.as_str(), name));
            Ok(Ok(CommandOutput::None))
        }
    }
}

/// The LastRotationDate a rotation scheduled for `expected_ms` gives `key` when applied at
/// `at_ms`: the latest slot `expected + k × interval` not after `at_ms` (so a late rotation stays
/// on the schedule and a long outage does not produce a burst of versions). `None` when the
/// rotation is not due: the key is not Enabled, does not rotate, or its NextRotationDate is not
/// `expected_ms` (already rotated, policy changed), or `at_ms` is before it.
pub(crate) fn rotation_slot(key: &KeyMetadata, expected_ms: i64, at_ms: i64) -> Option<i64> {
    let interval_ms = i64::try_from(key.rotation_interval_s?).ok()?.checked_mul(1000)?;
    if key.state != KeyState::Enabled
        || key.origin != KeyOrigin::AliyunKms
        || !key.spec.is_symmetric()
        || interval_ms <= 0
        || key.next_rotation_ms() != Some(expected_ms)
        || at_ms < expected_ms
    {
        return None;
    }
    let missed = (at_ms - expected_ms) / interval_ms;
    Some(expected_ms + missed * interval_ms)
}

/// Deletes a key and everything hanging off it: versions, aliases (both directions) and tags.
fn purge_key(db: &RegionDb, batch: &mut WriteBatch, key_id: &KeyId) -> Result<(), rocksdb::Error> {
    batch.delete_cf(db.cf(CF_KEYS), key_id.as_str());
    for (cf, prefix) in [
        (CF_KEY_VERSIONS, format!("{key_id}/").into_bytes()),
        (CF_KEY_ALIASES, key_alias_key(key_id.as_str(), "")),
        (CF_TAGS, ResourceRef::Key(key_id.clone()).tag_prefix()),
    ] {
        let handle = db.cf(cf);
        let iter = db.db.iterator_cf(handle, IteratorMode::From(&prefix, Direction::Forward));
        for item in iter {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            if cf == CF_KEY_ALIASES
                && let Ok(alias_name) = decode::<String>(&v)
            {
                batch.delete_cf(db.cf(CF_ALIASES), alias_name);
            }
            batch.delete_cf(handle, k);
        }
    }
    Ok(())
}

/// The storage key of one tag of a resource.
pub(crate) fn tag_key(prefix: &[u8], key: &str) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(key.as_bytes());
    k
}

/// The tags stored under a resource prefix, in key order.
pub(crate) fn read_tags(db: &RegionDb, prefix: &[u8]) -> Result<Vec<Tag>, rocksdb::Error> {
    let mut out = Vec::new();
    for item in db.db.prefix_iterator_cf(db.cf(CF_TAGS), prefix) {
        let (k, v) = item?;
        let Some(key) = k.strip_prefix(prefix) else { break };
        out.push(Tag {
            key: String::from_utf8_lossy(key).into_owned(),
            value: decode(&v).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Tags change only on existing resources outside their deletion window.
fn check_taggable(
    db: &RegionDb,
    resource: &ResourceRef,
) -> Result<Option<ApiError>, rocksdb::Error> {
    match resource {
        ResourceRef::Key(key_id) => Ok(match read_key(db, key_id.as_str())? {
            None => Some(ApiError::new(ErrorCode::KeyNotFound)),
            Some(k) if k.state == KeyState::PendingDeletion => {
                Some(ApiError::new(ErrorCode::RejectedPendingDeletion))
            }
            Some(_) => None,
        }),
    }
}

/// The storage key of the key → alias index.
pub(crate) fn key_alias_key(key_id: &str, alias_name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(key_id.len() + 1 + alias_name.len());
    k.extend_from_slice(key_id.as_bytes());
    k.push(0);
    k.extend_from_slice(alias_name.as_bytes());
    k
}

fn read_alias(db: &RegionDb, name: &str) -> Result<Option<Alias>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(CF_ALIASES), name)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

fn put_alias(db: &RegionDb, batch: &mut WriteBatch, alias: &Alias) {
    batch.put_cf(db.cf(CF_ALIASES), &alias.name, encode(alias));
    batch.put_cf(
        db.cf(CF_KEY_ALIASES),
        key_alias_key(alias.key_id.as_str(), &alias.name),
        encode(&alias.name),
    );
}

/// Applies `change` to a stored key, or rejects with its error code (nothing written then).
fn update_key(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    change: impl FnOnce(&mut KeyMetadata) -> Result<(), ErrorCode>,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut key) = read_key(db, key_id.as_str())? else {
        return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
    };
    if let Err(code) = change(&mut key) {
        return Ok(Err(ApiError::new(code)));
    }
    batch.put_cf(db.cf(CF_KEYS), key_id.as_str(), encode(&key));
    Ok(Ok(CommandOutput::Key(key)))
}

/// Operations that need an Enabled key reject the other states with their own code.
fn require_enabled(state: KeyState) -> Result<(), ErrorCode> {
    match state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(ErrorCode::RejectedDisabled),
        KeyState::PendingDeletion => Err(ErrorCode::RejectedPendingDeletion),
        KeyState::PendingImport => Err(ErrorCode::RejectedPendingImport),
    }
}

/// The primary version of a key.
fn read_version(db: &RegionDb, key: &KeyMetadata) -> Result<Option<KeyVersion>, rocksdb::Error> {
    let storage_key = version_key(key.key_id.as_str(), key.primary_version.as_str());
    let raw = db.db.get_pinned_cf(db.cf(CF_KEY_VERSIONS), storage_key)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

fn read_key(db: &RegionDb, key_id: &str) -> Result<Option<KeyMetadata>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(CF_KEYS), key_id)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// Forgets nonces older than the replay window, measured on the proposer's clock carried in the
/// command (never the local clock), so every replica prunes the same entries.
fn prune_nonces(db: &RegionDb, batch: &mut WriteBatch, at_ms: i64) -> Result<(), rocksdb::Error> {
    let horizon = at_ms.saturating_sub(REPLAY_WINDOW_MS);
    let expiry_cf = db.cf(CF_NONCE_EXPIRY);
    let iter = db.db.iterator_cf(expiry_cf, IteratorMode::From(&[], Direction::Forward));
    for item in iter.take(NONCE_PRUNE_BATCH) {
        let (key, _) = item?;
        let Some((ts, nonce_key)) = key.split_at_checked(8) else { continue };
        let ts = i64::from_be_bytes(ts.try_into().unwrap_or([0xff; 8]));
        if ts >= horizon || ts < 0 {
            break;
        }
        batch.delete_cf(expiry_cf, &key);
        // Only forget the nonce if it was not seen again since (a later sighting has its own row).
        if let Some(raw) = db.db.get_pinned_cf(db.cf(CF_NONCES), nonce_key)?
            && decode::<SeenRequest>(&raw).map(|seen| seen.at_ms == ts).unwrap_or(true)
        {
            batch.delete_cf(db.cf(CF_NONCES), nonce_key);
        }
    }
    Ok(())
}
