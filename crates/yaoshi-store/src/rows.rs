//! Typed reads and writes of state rows, shared by the domain modules of apply (and, for tags, by
//! the queries): one place per row kind that knows its column family, key layout and encoding.
//!
//! Reads here are apply's: a row that does not decode reads as absent (apply must not fail on a
//! value it cannot use; queries that must report corruption decode for themselves). Writes go to
//! the entry's write batch, never to the database directly.

use rocksdb::WriteBatch;
use yaoshi_model::{
    Alias, ApiError, CommandOutput, CommandResponse, ErrorCode, KeyId, KeyMetadata, KeyState,
    KeyVersion, Tag,
};

use crate::codec::{decode, encode};
use crate::db::{CF_ALIASES, CF_KEY_ALIASES, CF_KEY_VERSIONS, CF_KEYS, CF_TAGS, RegionDb};
use crate::layout::{key_alias_key, tag_key, version_key};

/// The key with this id.
pub(crate) fn read_key(db: &RegionDb, key_id: &str) -> Result<Option<KeyMetadata>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(CF_KEYS), key_id)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// Applies `change` to a stored key, or rejects with its error code (nothing written then).
pub(crate) fn update_key(
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

/// The primary version of a key.
pub(crate) fn read_version(
    db: &RegionDb,
    key: &KeyMetadata,
) -> Result<Option<KeyVersion>, rocksdb::Error> {
    let storage_key = version_key(key.key_id.as_str(), key.primary_version.as_str());
    let raw = db.db.get_pinned_cf(db.cf(CF_KEY_VERSIONS), storage_key)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// Whether a row exists (decodable or not) at this version's storage key.
pub(crate) fn version_exists(
    db: &RegionDb,
    key_id: &str,
    version_id: &str,
) -> Result<bool, rocksdb::Error> {
    let storage_key = version_key(key_id, version_id);
    Ok(db.db.get_pinned_cf(db.cf(CF_KEY_VERSIONS), storage_key)?.is_some())
}

/// Writes `version` as version `version.version_id` of key `key_id`.
pub(crate) fn put_version(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key_id: &str,
    version: &KeyVersion,
) {
    batch.put_cf(
        db.cf(CF_KEY_VERSIONS),
        version_key(key_id, version.version_id.as_str()),
        encode(version),
    );
}

/// Drops a key's material, the one rule behind DeleteKeyMaterial and ExpireKeyMaterial: the
/// primary version's wrapped material is cleared (its digest is kept, so a re-import must bring
/// the same material), the key waits for an import (a key in PendingDeletion stays there) and
/// has no material expiry any more.
pub(crate) fn drop_material(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key: &KeyMetadata,
) -> Result<CommandResponse, rocksdb::Error> {
    if let Some(mut version) = read_version(db, key)? {
        version.wrapped_material.clear();
        put_version(db, batch, key.key_id.as_str(), &version);
    }
    update_key(db, batch, &key.key_id, |k| {
        if k.state != KeyState::PendingDeletion {
            k.state = KeyState::PendingImport;
        }
        k.material_expire_ms = None;
        Ok(())
    })
}

/// The alias with this name.
pub(crate) fn read_alias(db: &RegionDb, name: &str) -> Result<Option<Alias>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(CF_ALIASES), name)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// Writes an alias and its entry in the key → alias index.
pub(crate) fn put_alias(db: &RegionDb, batch: &mut WriteBatch, alias: &Alias) {
    batch.put_cf(db.cf(CF_ALIASES), &alias.name, encode(alias));
    batch.put_cf(
        db.cf(CF_KEY_ALIASES),
        key_alias_key(alias.key_id.as_str(), &alias.name),
        encode(&alias.name),
    );
}

/// The tags stored under a resource prefix, in key order (a value that does not decode reads as
/// empty).
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

/// Writes (adds or overwrites) one tag of the resource whose tag prefix is `prefix`.
pub(crate) fn put_tag(db: &RegionDb, batch: &mut WriteBatch, prefix: &[u8], tag: &Tag) {
    batch.put_cf(db.cf(CF_TAGS), tag_key(prefix, &tag.key), encode(&tag.value));
}

/// A credential row: the current form, or one written before rotation and access points (a
/// [`yaoshi_model::CredentialV1`], read as an unscoped credential).
///
/// # Errors
///
/// Fails when the row is neither.
pub(crate) fn decode_credential(
    bytes: &[u8],
) -> Result<yaoshi_model::Credential, crate::codec::DecodeError> {
    match decode::<yaoshi_model::Credential>(bytes) {
        Ok(c) => Ok(c),
        Err(e) => decode::<yaoshi_model::CredentialV1>(bytes).map(|v1| v1.upgrade()).map_err(|_| e),
    }
}

/// The credential of this AccessKey id.
pub(crate) fn read_credential(
    db: &RegionDb,
    access_key_id: &str,
) -> Result<Option<yaoshi_model::Credential>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(crate::db::CF_CREDENTIALS), access_key_id)?;
    Ok(raw.and_then(|b| decode_credential(&b).ok()))
}

/// The access point with this name.
pub(crate) fn read_access_point(
    db: &RegionDb,
    name: &str,
) -> Result<Option<yaoshi_model::AccessPoint>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(crate::db::CF_ACCESS_POINTS), name)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// The certificate with this id.
pub(crate) fn read_certificate(
    db: &RegionDb,
    certificate_id: &str,
) -> Result<Option<yaoshi_model::CertificateMetadata>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(crate::db::CF_CERTIFICATES), certificate_id)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}

/// The secret with this name.
pub(crate) fn read_secret(
    db: &RegionDb,
    name: &str,
) -> Result<Option<yaoshi_model::SecretMetadata>, rocksdb::Error> {
    let raw = db.db.get_pinned_cf(db.cf(crate::db::CF_SECRETS), name)?;
    Ok(raw.and_then(|b| decode(&b).ok()))
}
