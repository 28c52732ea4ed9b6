//! Material of EXTERNAL keys (BYOK): import tokens, importing material and deleting it.

use rocksdb::WriteBatch;
use yaoshi_model::{
    ApiError, CommandOutput, CommandResponse, ErrorCode, ImportToken, KeyId, KeyOrigin, KeyState,
};

use crate::codec::{decode, encode};
use crate::db::{CF_IMPORT_TOKENS, RegionDb};
use crate::rows::{drop_material, put_version, read_key, read_version, update_key};

/// The fields of an ImportKeyMaterial command.
pub(crate) struct Import<'a> {
    /// The key.
    pub(crate) key_id: &'a KeyId,
    /// The import token used.
    pub(crate) token: &'a str,
    /// The material wrapped under the domain key for the primary version.
    pub(crate) wrapped_material: &'a [u8],
    /// The material's keyed digest.
    pub(crate) material_digest: &'a [u8],
    /// When the material expires, Unix ms (`None`: never).
    pub(crate) expire_ms: Option<i64>,
}

/// GetParametersForImport: stores a fresh import token for an EXTERNAL key (any state).
pub(crate) fn create_import_token(
    db: &RegionDb,
    batch: &mut WriteBatch,
    token: &ImportToken,
) -> Result<CommandResponse, rocksdb::Error> {
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

/// ImportKeyMaterial: into an EXTERNAL key's primary version (not in PendingDeletion), with a
/// token of this key unexpired at the proposer's time `at_ms`; a key that ever had material only
/// takes the same material again (same digest). PendingImport → Enabled.
pub(crate) fn import(
    db: &RegionDb,
    batch: &mut WriteBatch,
    import: Import<'_>,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Import { key_id, token, wrapped_material, material_digest, expire_ms } = import;
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
            if at_ms >= t.expire_ms {
                return Ok(Err(ApiError::new(ErrorCode::ExpiredImportToken)));
            }
        }
        _ => return Ok(Err(ApiError::new(ErrorCode::InvalidImportToken))),
    }
    let Some(mut version) = read_version(db, &key)? else {
        return Ok(Err(ApiError::new(ErrorCode::InternalFailure)));
    };
    if !version.material_digest.is_empty() && version.material_digest != material_digest {
        return Ok(Err(ApiError::new(ErrorCode::InvalidKeyMaterial)));
    }
    wrapped_material.clone_into(&mut version.wrapped_material);
    material_digest.clone_into(&mut version.material_digest);
    put_version(db, batch, key_id.as_str(), &version);
    update_key(db, batch, key_id, |k| {
        if k.state == KeyState::PendingImport {
            k.state = KeyState::Enabled;
        }
        k.material_expire_ms = expire_ms;
        Ok(())
    })
}

/// DeleteKeyMaterial: drops an EXTERNAL key's material (see [`drop_material`]).
pub(crate) fn delete(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &KeyId,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(key) = read_key(db, key_id.as_str())? else {
        return Ok(Err(ApiError::new(ErrorCode::KeyNotFound)));
    };
    if key.origin != KeyOrigin::External {
        return Ok(Err(ApiError::new(ErrorCode::UnsupportedOrigin)));
    }
    drop_material(db, batch, &key)
}
