//! The leader's scheduled commands: purging keys past their deletion window, automatic rotation,
//! expiry of imported material and of import tokens.
//!
//! Each applies only if its precondition still holds at the proposer's time (the scheduler may
//! have seen stale state, or a command may be proposed twice around a leader change); otherwise it
//! is a recorded no-op ([`CommandOutput::NoOp`]) that changes nothing.

use rocksdb::{Direction, IteratorMode, WriteBatch};
use yaoshi_model::{
    CommandOutput, CommandResponse, ImportToken, KeyId, KeyState, KeyVersion, ResourceRef,
};

use crate::codec::decode;
use crate::db::{
    CF_ALIASES, CF_IMPORT_TOKENS, CF_KEY_ALIASES, CF_KEY_VERSIONS, CF_KEYS, CF_TAGS, RegionDb,
};
use crate::layout::{key_alias_key, version_key};
use crate::rows::{drop_material, put_version, read_key, update_key, version_exists};
use crate::rules::rotation_slot;

/// PurgeKey: deletes a key still in PendingDeletion with exactly the DeleteDate the scheduler saw,
/// once the proposer's time `at_ms` has reached it.
pub(crate) fn purge_key(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    expected_delete_ms: i64,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(key) = read_key(db, key_id.as_str())? else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    let due = key.state == KeyState::PendingDeletion
        && key.delete_ms == Some(expected_delete_ms)
        && at_ms >= expected_delete_ms;
    if !due {
        return Ok(Ok(CommandOutput::NoOp));
    }
    delete_key_rows(db, batch, key_id)?;
    Ok(Ok(CommandOutput::None))
}

/// RotateKey: a new primary version for a key whose rotation is due (see [`rotation_slot`]);
/// LastRotationDate moves to the latest slot of the schedule. A version id that exists is never
/// overwritten.
pub(crate) fn rotate_key(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    expected_next_rotation_ms: i64,
    version: &KeyVersion,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(key) = read_key(db, key_id.as_str())? else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    let Some(last_rotation_ms) = rotation_slot(&key, expected_next_rotation_ms, at_ms) else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    if version.key_id != *key_id
        || version_exists(db, key_id.as_str(), version.version_id.as_str())?
    {
        return Ok(Ok(CommandOutput::NoOp));
    }
    put_version(db, batch, key_id.as_str(), version);
    update_key(db, batch, key_id, |k| {
        k.primary_version = version.version_id.clone();
        k.last_rotation_ms = last_rotation_ms;
        Ok(())
    })
}

/// ExpireKeyMaterial: drops the material of a key that still has exactly the MaterialExpireTime
/// the scheduler saw, once the proposer's time `at_ms` has reached it (see [`drop_material`]).
pub(crate) fn expire_material(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
    expected_expire_ms: i64,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(key) = read_key(db, key_id.as_str())? else {
        return Ok(Ok(CommandOutput::NoOp));
    };
    if key.material_expire_ms != Some(expected_expire_ms) || at_ms < expected_expire_ms {
        return Ok(Ok(CommandOutput::NoOp));
    }
    drop_material(db, batch, &key)
}

/// PurgeImportTokens: deletes each token that exists and has expired by the proposer's time
/// `at_ms`; a no-op when none did.
pub(crate) fn purge_import_tokens(
    db: &RegionDb,
    batch: &mut WriteBatch,
    tokens: &[String],
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let cf = db.cf(CF_IMPORT_TOKENS);
    let mut purged = 0;
    for token in tokens {
        let stored: Option<ImportToken> =
            db.db.get_pinned_cf(cf, token)?.and_then(|b| decode(&b).ok());
        if stored.is_some_and(|t| t.expire_ms <= at_ms) {
            batch.delete_cf(cf, token);
            purged += 1;
        }
    }
    Ok(Ok(if purged == 0 { CommandOutput::NoOp } else { CommandOutput::None }))
}

/// Deletes a key and everything hanging off it: versions, aliases (both directions) and tags.
fn delete_key_rows(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
) -> Result<(), rocksdb::Error> {
    batch.delete_cf(db.cf(CF_KEYS), key_id.as_str());
    for (cf, prefix) in [
        (CF_KEY_VERSIONS, version_key(key_id.as_str(), "")),
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
