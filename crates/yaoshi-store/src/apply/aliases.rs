//! Aliases: user-chosen names of keys, unique per region, with a key → alias index.

use rocksdb::WriteBatch;
use yaoshi_model::{Alias, ApiError, CommandOutput, CommandResponse, ErrorCode, KeyId, KeyState};

use crate::db::{CF_ALIASES, CF_KEY_ALIASES, RegionDb};
use crate::layout::key_alias_key;
use crate::rows::{put_alias, read_alias, read_key};

/// CreateAlias: a new name for an existing key outside its deletion window.
pub(crate) fn create(
    db: &RegionDb,
    batch: &mut WriteBatch,
    alias: &Alias,
) -> Result<CommandResponse, rocksdb::Error> {
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

/// UpdateAlias: points an existing alias at another key outside its deletion window.
pub(crate) fn update(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
    key_id: &KeyId,
) -> Result<CommandResponse, rocksdb::Error> {
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

/// DeleteAlias: the alias and its index entry.
pub(crate) fn delete(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(alias) = read_alias(db, name)? else {
        return Ok(Err(ApiError::new(ErrorCode::AliasNotFound)));
    };
    batch.delete_cf(db.cf(CF_ALIASES), name);
    batch.delete_cf(db.cf(CF_KEY_ALIASES), key_alias_key(alias.key_id.as_str(), name));
    Ok(Ok(CommandOutput::None))
}
