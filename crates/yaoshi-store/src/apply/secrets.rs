//! Secrets: creation, versions and their stage labels, metadata, deletion with a recovery window,
//! restore, the rotation policy, rotations (manual, scheduled, and the end of a managed
//! secret's pending rotation) and the purge at the end of the recovery window.
//!
//! Values arrive sealed by the proposer (envelope under the secret's master key) with a keyed
//! digest; apply compares digests, never values. Stage rules: at most one version per stage
//! (the metadata maps stage → version); making a version ACSCurrent moves the old current to
//! ACSPrevious; at most [`MAX_DEPRECATED_VERSIONS`] versions without a stage are kept.

use rocksdb::WriteBatch;
use yaoshi_model::{
    ApiError, CommandOutput, CommandResponse, ErrorCode, KeyMetadata, KeyState, KeyVersion,
    MAX_DEPRECATED_VERSIONS, MAX_RECOVERY_DAYS, MAX_TAGS_PER_RESOURCE, MIN_RECOVERY_DAYS,
    ResourceRef, STAGE_CURRENT, STAGE_PENDING, STAGE_PREVIOUS, SecretMetadata, SecretType,
    SecretVersion, Tag,
};

use crate::codec::{decode, encode};
use crate::db::{CF_KEYS, CF_SECRET_VERSIONS, CF_SECRETS, CF_SM_META, CF_TAGS, RegionDb};
use crate::layout::{META_SECRETS_KEY, secret_version_key};
use crate::rows::{put_tag, put_version, read_key, read_secret};

const DAY_MS: i64 = 86_400_000;

fn rejected(code: ErrorCode) -> Result<CommandResponse, rocksdb::Error> {
    Ok(Err(ApiError::new(code)))
}

/// The master key a secret value may be sealed under now: it exists and is Enabled.
fn key_usable(db: &RegionDb, key_id: &str) -> Result<Option<ErrorCode>, rocksdb::Error> {
    Ok(match read_key(db, key_id)? {
        None => Some(ErrorCode::KeyNotFound),
        Some(k) => match k.state {
            KeyState::Enabled => None,
            KeyState::Disabled => Some(ErrorCode::RejectedDisabled),
            KeyState::PendingDeletion => Some(ErrorCode::RejectedPendingDeletion),
            KeyState::PendingImport => Some(ErrorCode::RejectedPendingImport),
        },
    })
}

fn read_version(
    db: &RegionDb,
    name: &str,
    version_id: &str,
) -> Result<Option<SecretVersion>, rocksdb::Error> {
    let raw =
        db.db.get_pinned_cf(db.cf(CF_SECRET_VERSIONS), secret_version_key(name, version_id))?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

fn put_secret_version(db: &RegionDb, batch: &mut WriteBatch, name: &str, v: &SecretVersion) {
    batch.put_cf(db.cf(CF_SECRET_VERSIONS), secret_version_key(name, &v.version_id), encode(v));
}

/// Writes the metadata, deleting the oldest versions without a stage beyond the limit.
fn put_secret(
    db: &RegionDb,
    batch: &mut WriteBatch,
    meta: &SecretMetadata,
    added: Option<&SecretVersion>,
) -> Result<CommandResponse, rocksdb::Error> {
    let mut deprecated: Vec<(i64, String)> = Vec::new();
    let prefix = secret_version_key(&meta.name, "");
    for item in db.db.prefix_iterator_cf(db.cf(CF_SECRET_VERSIONS), &prefix) {
        let (k, v) = item?;
        if !k.starts_with(&prefix) {
            break;
        }
        if let Ok(v) = decode::<SecretVersion>(&v)
            && meta.stages_of(&v.version_id).is_empty()
        {
            deprecated.push((v.creation_ms, v.version_id));
        }
    }
    if let Some(v) = added
        && meta.stages_of(&v.version_id).is_empty()
    {
        deprecated.push((v.creation_ms, v.version_id.clone()));
    }
    if deprecated.len() > MAX_DEPRECATED_VERSIONS {
        deprecated.sort();
        let excess = deprecated.len() - MAX_DEPRECATED_VERSIONS;
        for (_, id) in deprecated.into_iter().take(excess) {
            batch.delete_cf(db.cf(CF_SECRET_VERSIONS), secret_version_key(&meta.name, &id));
        }
    }
    batch.put_cf(db.cf(CF_SECRETS), &meta.name, encode(meta));
    Ok(Ok(CommandOutput::Secret(Box::new(meta.clone()))))
}

/// Makes `version_id` ACSCurrent: the old current (if another version) becomes ACSPrevious, and
/// the version loses ACSPending.
fn promote(meta: &mut SecretMetadata, version_id: &str) {
    if let Some(old) = meta.stages.get(STAGE_CURRENT).cloned()
        && old != version_id
    {
        meta.stages.insert(STAGE_PREVIOUS.to_string(), old);
    }
    meta.stages.insert(STAGE_CURRENT.to_string(), version_id.to_string());
    if meta.version_at(STAGE_PENDING) == Some(version_id) {
        meta.stages.remove(STAGE_PENDING);
    }
}

/// A live secret (exists, not in its recovery window) or the rejection.
fn live_secret(
    db: &RegionDb,
    name: &str,
) -> Result<Result<SecretMetadata, ErrorCode>, rocksdb::Error> {
    Ok(match read_secret(db, name)? {
        None => Err(ErrorCode::ResourceNotFound),
        Some(m) if m.planned_delete_ms.is_some() => Err(ErrorCode::ResourceInDeleteWindow),
        Some(m) => Ok(m),
    })
}

/// CreateSecret: a new name (not in a recovery window), its master key usable (or created with
/// it as `new_key`), the first version ACSCurrent, at most [`MAX_TAGS_PER_RESOURCE`] tags.
pub(crate) fn create(
    db: &RegionDb,
    batch: &mut WriteBatch,
    metadata: &SecretMetadata,
    version: &SecretVersion,
    tags: &[Tag],
    new_key: Option<&(KeyMetadata, KeyVersion)>,
) -> Result<CommandResponse, rocksdb::Error> {
    if let Some(existing) = read_secret(db, &metadata.name)? {
        if existing.planned_delete_ms.is_some() {
            return rejected(ErrorCode::ResourceInDeleteWindow);
        }
        return rejected(ErrorCode::ResourceExist);
    }
    match new_key {
        Some((key, key_version)) if key.key_id == metadata.encryption_key_id => {
            if db.db.get_pinned_cf(db.cf(CF_KEYS), key.key_id.as_str())?.is_some() {
                return rejected(ErrorCode::ResourceExist);
            }
            batch.put_cf(db.cf(CF_KEYS), key.key_id.as_str(), encode(key));
            put_version(db, batch, key.key_id.as_str(), key_version);
            if db.db.get_pinned_cf(db.cf(CF_SM_META), META_SECRETS_KEY)?.is_none() {
                batch.put_cf(db.cf(CF_SM_META), META_SECRETS_KEY, key.key_id.as_str());
            }
        }
        Some(_) => return rejected(ErrorCode::InvalidParameter),
        None => {
            if let Some(code) = key_usable(db, metadata.encryption_key_id.as_str())? {
                return rejected(code);
            }
        }
    }
    let mut meta = metadata.clone();
    meta.stages.clear();
    meta.stages.insert(STAGE_CURRENT.to_string(), version.version_id.clone());
    meta.planned_delete_ms = None;
    put_secret_version(db, batch, &meta.name, version);
    let prefix = ResourceRef::Secret(meta.name.clone()).tag_prefix();
    for tag in tags.iter().take(MAX_TAGS_PER_RESOURCE) {
        put_tag(db, batch, &prefix, tag);
    }
    put_secret(db, batch, &meta, None)
}

/// PutSecretValue (Generic secrets): a new version with `stages`; the same version id again is
/// accepted unchanged when its data digest and type match, refused otherwise.
pub(crate) fn put_value(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    version: &SecretVersion,
    stages: &[String],
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let mut meta = match live_secret(db, name)? {
        Ok(m) => m,
        Err(code) => return rejected(code),
    };
    if meta.secret_type != SecretType::Generic {
        return rejected(ErrorCode::UnsupportedOperation);
    }
    if let Some(existing) = read_version(db, name, &version.version_id)? {
        return Ok(
            if existing.data_digest == version.data_digest
                && existing.data_type == version.data_type
            {
                Ok(CommandOutput::Secret(Box::new(meta)))
            } else {
                Err(ApiError::new(ErrorCode::ResourceExist))
            },
        );
    }
    if let Some(code) = key_usable(db, meta.encryption_key_id.as_str())? {
        return rejected(code);
    }
    if stages.is_empty() || stages.iter().any(|s| s == STAGE_PENDING || s.is_empty()) {
        return rejected(ErrorCode::InvalidParameter);
    }
    for stage in stages {
        if stage == STAGE_CURRENT {
            promote(&mut meta, &version.version_id);
        } else {
            meta.stages.insert(stage.clone(), version.version_id.clone());
        }
    }
    meta.update_ms = at_ms;
    put_secret_version(db, batch, name, version);
    put_secret(db, batch, &meta, Some(version))
}

/// UpdateSecret: description and ExtendedConfig (managed secrets only), not in the window.
pub(crate) fn update(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    description: Option<&String>,
    extended_config: Option<&String>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let mut meta = match live_secret(db, name)? {
        Ok(m) => m,
        Err(code) => return rejected(code),
    };
    if extended_config.is_some() && meta.secret_type == SecretType::Generic {
        return rejected(ErrorCode::UnsupportedOperation);
    }
    if let Some(d) = description {
        meta.description.clone_from(d);
    }
    if let Some(c) = extended_config {
        meta.extended_config = Some(c.clone());
    }
    meta.update_ms = at_ms;
    put_secret(db, batch, &meta, None)
}

/// UpdateSecretVersionStage (Generic secrets): `remove_from` must carry the stage now;
/// `move_to` must exist; ACSCurrent and ACSPrevious can only be moved, never just removed.
pub(crate) fn update_stage(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    stage: &str,
    remove_from: Option<&String>,
    move_to: Option<&String>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let mut meta = match live_secret(db, name)? {
        Ok(m) => m,
        Err(code) => return rejected(code),
    };
    if meta.secret_type != SecretType::Generic {
        return rejected(ErrorCode::UnsupportedOperation);
    }
    let fixed = stage == STAGE_CURRENT || stage == STAGE_PREVIOUS;
    if stage.is_empty()
        || stage == STAGE_PENDING
        || (remove_from.is_none() && move_to.is_none())
        || (fixed && move_to.is_none())
    {
        return rejected(ErrorCode::InvalidParameter);
    }
    if let Some(from) = remove_from
        && meta.version_at(stage) != Some(from.as_str())
    {
        return rejected(ErrorCode::InvalidParameter);
    }
    match move_to {
        Some(to) => {
            if read_version(db, name, to)?.is_none() {
                return rejected(ErrorCode::ResourceNotFound);
            }
            if stage == STAGE_CURRENT {
                promote(&mut meta, to);
            } else {
                meta.stages.insert(stage.to_string(), to.clone());
            }
        }
        None => {
            meta.stages.remove(stage);
        }
    }
    meta.update_ms = at_ms;
    put_secret(db, batch, &meta, None)
}

/// DeleteSecret: with a window of 7–30 days the secret is purged at the command's time plus the
/// window; without one it is deleted now with its versions and tags.
pub(crate) fn delete(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    recovery_window_days: Option<u32>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut meta) = read_secret(db, name)? else {
        return rejected(ErrorCode::ResourceNotFound);
    };
    match recovery_window_days {
        None => {
            delete_rows(db, batch, name)?;
            meta.planned_delete_ms = Some(at_ms);
            Ok(Ok(CommandOutput::Secret(Box::new(meta))))
        }
        Some(days) if (MIN_RECOVERY_DAYS..=MAX_RECOVERY_DAYS).contains(&days) => {
            if meta.planned_delete_ms.is_some() {
                return rejected(ErrorCode::ResourceInDeleteWindow);
            }
            meta.planned_delete_ms = Some(at_ms.saturating_add(i64::from(days) * DAY_MS));
            meta.update_ms = at_ms;
            put_secret(db, batch, &meta, None)
        }
        Some(_) => rejected(ErrorCode::InvalidParameter),
    }
}

/// RestoreSecret: only a secret in its recovery window.
pub(crate) fn restore(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut meta) = read_secret(db, name)? else {
        return rejected(ErrorCode::ResourceNotFound);
    };
    if meta.planned_delete_ms.is_none() {
        return rejected(ErrorCode::StateModifiedFailed);
    }
    meta.planned_delete_ms = None;
    meta.update_ms = at_ms;
    put_secret(db, batch, &meta, None)
}

/// UpdateSecretRotationPolicy: on (next rotation one period from the last rotation, or from now
/// when that is already past) or off.
pub(crate) fn update_rotation_policy(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    interval_s: Option<u64>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let mut meta = match live_secret(db, name)? {
        Ok(m) => m,
        Err(code) => return rejected(code),
    };
    meta.rotation_interval_s = interval_s;
    meta.next_rotation_ms = interval_s.map(|s| {
        let period = i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000);
        let from_last = meta.last_rotation_ms.map(|l| l.saturating_add(period));
        from_last.filter(|t| *t > at_ms).unwrap_or(at_ms.saturating_add(period))
    });
    meta.update_ms = at_ms;
    put_secret(db, batch, &meta, None)
}

/// RotateSecret and AutoRotateSecret: a new version with a generated value; Generic secrets make
/// it ACSCurrent at once, managed secrets mark it ACSPending for the rotation backend. The next
/// rotation moves one period on. `expected`: the scheduler's precondition (NextRotationDate);
/// unmet, or a version id that exists, is a no-op (manual: success without change).
pub(crate) fn rotate(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    version: &SecretVersion,
    expected: Option<i64>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let meta = match (live_secret(db, name)?, expected) {
        (Ok(m), _) => m,
        (Err(_), Some(_)) => return Ok(Ok(CommandOutput::NoOp)),
        (Err(code), None) => return rejected(code),
    };
    if let Some(expected) = expected
        && !(meta.rotates() && meta.next_rotation_ms == Some(expected) && at_ms >= expected)
    {
        return Ok(Ok(CommandOutput::NoOp));
    }
    if read_version(db, name, &version.version_id)?.is_some() {
        return Ok(Ok(if expected.is_some() {
            CommandOutput::NoOp
        } else {
            CommandOutput::Secret(Box::new(meta))
        }));
    }
    if meta.version_at(STAGE_PENDING).is_some() {
        return Ok(if expected.is_some() {
            Ok(CommandOutput::NoOp)
        } else {
            Err(ApiError::new(ErrorCode::StateModifiedFailed))
        });
    }
    if let Some(code) = key_usable(db, meta.encryption_key_id.as_str())? {
        return if expected.is_some() { Ok(Ok(CommandOutput::NoOp)) } else { rejected(code) };
    }
    let mut meta = meta;
    match meta.secret_type {
        SecretType::Generic => {
            promote(&mut meta, &version.version_id);
            meta.last_rotation_ms = Some(at_ms);
        }
        SecretType::Rds => {
            meta.stages.insert(STAGE_PENDING.to_string(), version.version_id.clone());
        }
    }
    if let Some(s) = meta.rotation_interval_s {
        let period = i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000);
        meta.next_rotation_ms = Some(at_ms.saturating_add(period));
    }
    meta.update_ms = at_ms;
    put_secret_version(db, batch, name, version);
    put_secret(db, batch, &meta, Some(version))
}

/// FinishSecretRotation: while `version_id` is the pending version, it becomes ACSCurrent
/// (`succeeded`) or just loses ACSPending.
pub(crate) fn finish_rotation(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    version_id: &str,
    succeeded: bool,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut meta) = read_secret(db, name)? else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    if meta.version_at(STAGE_PENDING) != Some(version_id) {
        return Ok(Ok(CommandOutput::NoOp));
    }
    if succeeded {
        promote(&mut meta, version_id);
        meta.last_rotation_ms = Some(at_ms);
    } else {
        meta.stages.remove(STAGE_PENDING);
    }
    meta.update_ms = at_ms;
    put_secret(db, batch, &meta, None)
}

/// PurgeSecret: deletes a secret whose PlannedDeleteTime is exactly the scheduler's and has been
/// reached by the proposer's time.
pub(crate) fn purge(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    expected_delete_ms: i64,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(meta) = read_secret(db, name)? else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    if meta.planned_delete_ms != Some(expected_delete_ms) || at_ms < expected_delete_ms {
        return Ok(Ok(CommandOutput::NoOp));
    }
    delete_rows(db, batch, name)?;
    Ok(Ok(CommandOutput::None))
}

/// Deletes a secret's metadata, versions and tags.
fn delete_rows(db: &RegionDb, batch: &mut WriteBatch, name: &str) -> Result<(), rocksdb::Error> {
    batch.delete_cf(db.cf(CF_SECRETS), name);
    for (cf, prefix) in [
        (CF_SECRET_VERSIONS, secret_version_key(name, "")),
        (CF_TAGS, ResourceRef::Secret(name.to_string()).tag_prefix()),
    ] {
        for item in db.db.prefix_iterator_cf(db.cf(cf), &prefix) {
            let (k, _) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            batch.delete_cf(db.cf(cf), &k);
        }
    }
    Ok(())
}
