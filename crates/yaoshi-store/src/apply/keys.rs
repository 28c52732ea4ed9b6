//! Keys: creation, lifecycle (enable, disable, deletion window), settings (description, rotation
//! policy, deletion protection) and new versions.

use rocksdb::WriteBatch;
use yaoshi_model::{
    ApiError, CommandOutput, CommandResponse, ErrorCode, KeyId, KeyMetadata, KeyOrigin, KeyState,
    KeyVersion, MAX_PENDING_WINDOW_DAYS, MAX_TAGS_PER_RESOURCE, MIN_KEY_VERSION_INTERVAL_MS,
    MIN_PENDING_WINDOW_DAYS, ResourceRef, Tag,
};

use crate::codec::{decode, encode};
use crate::db::{CF_KEYS, RegionDb};
use crate::rows::{put_tag, put_version, read_key, read_version, update_key, version_exists};

/// CreateKey: stores the key, its first version and its tags (at most
/// [`MAX_TAGS_PER_RESOURCE`]). Ids are fresh UUIDs chosen by the proposer, so a second command
/// for the same id is a duplicate and must not overwrite the first: it answers the stored key
/// when identical, `ResourceExist` otherwise.
pub(crate) fn create(
    db: &RegionDb,
    batch: &mut WriteBatch,
    metadata: &KeyMetadata,
    version: &KeyVersion,
    tags: &[Tag],
) -> Result<CommandResponse, rocksdb::Error> {
    let keys = db.cf(CF_KEYS);
    if let Some(raw) = db.db.get_pinned_cf(keys, metadata.key_id.as_str())? {
        return Ok(match decode::<KeyMetadata>(&raw) {
            Ok(k) if k == *metadata => Ok(CommandOutput::Key(k)),
            _ => Err(ApiError::new(ErrorCode::ResourceExist)),
        });
    }
    batch.put_cf(keys, metadata.key_id.as_str(), encode(metadata));
    put_version(db, batch, version.key_id.as_str(), version);
    let prefix = ResourceRef::Key(metadata.key_id.clone()).tag_prefix();
    for tag in tags.iter().take(MAX_TAGS_PER_RESOURCE) {
        put_tag(db, batch, &prefix, tag);
    }
    Ok(Ok(CommandOutput::Key(metadata.clone())))
}

/// UpdateKeyDescription: not in PendingDeletion.
pub(crate) fn update_description(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    description: &str,
) -> Result<CommandResponse, rocksdb::Error> {
    update_key(db, batch, key_id, |k| match k.state {
        KeyState::PendingDeletion => Err(ErrorCode::RejectedPendingDeletion),
        _ => {
            description.clone_into(&mut k.description);
            Ok(())
        }
    })
}

/// EnableKey / DisableKey: only between Enabled and Disabled.
pub(crate) fn set_enabled(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    enabled: bool,
) -> Result<CommandResponse, rocksdb::Error> {
    update_key(db, batch, key_id, |k| match k.state {
        KeyState::Enabled | KeyState::Disabled => {
            k.state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
            Ok(())
        }
        KeyState::PendingDeletion | KeyState::PendingImport => Err(ErrorCode::StateModifiedFailed),
    })
}

/// ScheduleKeyDeletion: → PendingDeletion, purged `days` after the command's time, unless already
/// there or protected. A window outside 7–30 days is refused whoever proposed it.
pub(crate) fn schedule_deletion(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    days: u32,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    if !(MIN_PENDING_WINDOW_DAYS..=MAX_PENDING_WINDOW_DAYS).contains(&days) {
        return Ok(Err(ApiError::invalid("PendingWindowInDays")));
    }
    let delete_ms = at_ms.saturating_add(i64::from(days) * 24 * 60 * 60 * 1000);
    update_key(db, batch, key_id, |k| match k.state {
        KeyState::PendingDeletion => Err(ErrorCode::StateModifiedFailed),
        _ if k.deletion_protection.is_some() => Err(ErrorCode::StateModifiedFailed),
        _ => {
            k.state = KeyState::PendingDeletion;
            k.delete_ms = Some(delete_ms);
            Ok(())
        }
    })
}

/// CancelKeyDeletion: PendingDeletion → Enabled, or back to PendingImport for a key whose
/// material was never imported (or was deleted).
pub(crate) fn cancel_deletion(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
) -> Result<CommandResponse, rocksdb::Error> {
    let has_material = match read_key(db, key_id.as_str())? {
        Some(k) => read_version(db, &k)?.is_some_and(|v| !v.wrapped_material.is_empty()),
        None => false,
    };
    update_key(db, batch, key_id, |k| match k.state {
        KeyState::PendingDeletion => {
            k.state = if has_material { KeyState::Enabled } else { KeyState::PendingImport };
            k.delete_ms = None;
            Ok(())
        }
        _ => Err(ErrorCode::StateModifiedFailed),
    })
}

/// CreateKeyVersion: a new primary version of an Enabled asymmetric key (symmetric and HMAC keys
/// rotate automatically instead), at least [`MIN_KEY_VERSION_INTERVAL_MS`] after the previous one
/// by the proposer's clock `at_ms`; an existing version id is never overwritten.
pub(crate) fn create_version(
    db: &RegionDb,
    batch: &mut WriteBatch,
    version: &KeyVersion,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    if version_exists(db, version.key_id.as_str(), version.version_id.as_str())? {
        return Ok(Err(ApiError::new(ErrorCode::ResourceExist)));
    }
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
        put_version(db, batch, version.key_id.as_str(), version);
    }
    Ok(response)
}

/// UpdateRotationPolicy: only for Enabled keys; only KMS-generated symmetric keys (HMAC keys
/// included) rotate automatically, turning it off is always allowed.
pub(crate) fn update_rotation_policy(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    interval_s: Option<u64>,
) -> Result<CommandResponse, rocksdb::Error> {
    update_key(db, batch, key_id, |k| {
        require_enabled(k.state)?;
        if interval_s.is_some() && (!k.spec.is_symmetric() || k.origin != KeyOrigin::AliyunKms) {
            return Err(ErrorCode::UnsupportedOperation);
        }
        k.rotation_interval_s = interval_s;
        Ok(())
    })
}

/// SetDeletionProtection: on (with its description) or off, in any state.
pub(crate) fn set_deletion_protection(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    protection: &Option<String>,
) -> Result<CommandResponse, rocksdb::Error> {
    update_key(db, batch, key_id, |k| {
        k.deletion_protection.clone_from(protection);
        Ok(())
    })
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
