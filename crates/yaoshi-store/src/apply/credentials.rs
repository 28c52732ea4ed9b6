//! Credentials and access points: the bootstrap credential, and the operator's changes (create,
//! rotate, revoke, scope) of AccessKeys and of access points with their policies.

use rocksdb::{IteratorMode, WriteBatch};
use yaoshi_model::{
    AccessKeyId, AccessPoint, ApiError, CommandOutput, CommandResponse, Credential, CredentialV1,
    ErrorCode, RetiringSecret,
};

use crate::codec::encode;
use crate::db::{CF_ACCESS_POINTS, CF_CREDENTIALS, CF_SM_META, RegionDb};
use crate::layout::META_CREDENTIALS_STARTED;
use crate::rows::{read_access_point, read_credential};

/// The longest grace period of a rotation: 30 days.
pub(crate) const MAX_GRACE_MS: i64 = 30 * 86_400_000;

fn not_found(what: &str) -> CommandResponse {
    Err(ApiError::with_subject(ErrorCode::ResourceNotFound, what))
}

/// Whether `access_point`, when one is named, is missing (a credential may only be held to an
/// existing one).
fn names_missing(db: &RegionDb, access_point: Option<&str>) -> Result<bool, rocksdb::Error> {
    match access_point {
        Some(name) => Ok(read_access_point(db, name)?.is_none()),
        None => Ok(false),
    }
}

fn started(db: &RegionDb, batch: &mut WriteBatch) {
    batch.put_cf(db.cf(CF_SM_META), META_CREDENTIALS_STARTED, [1u8]);
}

/// BootstrapCredential: stores the credential only while the region never had one (a recorded
/// no-op otherwise: every initial member proposes one, the first wins; and once credentials are
/// managed, revoking all of them does not let a restart bring the bootstrap secret back).
pub(crate) fn bootstrap(
    db: &RegionDb,
    batch: &mut WriteBatch,
    credential: &CredentialV1,
) -> Result<CommandResponse, rocksdb::Error> {
    let cf = db.cf(CF_CREDENTIALS);
    let mut any = db.db.iterator_cf(cf, IteratorMode::Start);
    if any.next().transpose()?.is_some()
        || db.db.get_pinned_cf(db.cf(CF_SM_META), META_CREDENTIALS_STARTED)?.is_some()
    {
        return Ok(Ok(CommandOutput::NoOp));
    }
    let credential = credential.clone().upgrade();
    batch.put_cf(cf, credential.access_key_id.as_str(), encode(&credential));
    started(db, batch);
    Ok(Ok(CommandOutput::None))
}

/// CreateCredential: a new AccessKey id; a named access point must exist.
pub(crate) fn create(
    db: &RegionDb,
    batch: &mut WriteBatch,
    credential: &Credential,
) -> Result<CommandResponse, rocksdb::Error> {
    if read_credential(db, credential.access_key_id.as_str())?.is_some() {
        return Ok(Err(ApiError::new(ErrorCode::ResourceExist)));
    }
    if names_missing(db, credential.access_point.as_deref())? {
        return Ok(not_found("AccessPoint"));
    }
    batch.put_cf(db.cf(CF_CREDENTIALS), credential.access_key_id.as_str(), encode(credential));
    started(db, batch);
    Ok(Ok(CommandOutput::None))
}

/// RotateCredential: the new secret is current, the old one retires at `at_ms + grace_ms`.
pub(crate) fn rotate(
    db: &RegionDb,
    batch: &mut WriteBatch,
    access_key_id: &AccessKeyId,
    wrapped_secret: &[u8],
    grace_ms: i64,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    if !(0..=MAX_GRACE_MS).contains(&grace_ms) {
        return Ok(Err(ApiError::invalid("GracePeriod")));
    }
    let Some(mut credential) = read_credential(db, access_key_id.as_str())? else {
        return Ok(not_found("AccessKeyId"));
    };
    let old = std::mem::replace(&mut credential.wrapped_secret, wrapped_secret.to_vec());
    credential.retiring = (grace_ms > 0)
        .then(|| RetiringSecret { wrapped_secret: old, until_ms: at_ms.saturating_add(grace_ms) });
    batch.put_cf(db.cf(CF_CREDENTIALS), access_key_id.as_str(), encode(&credential));
    Ok(Ok(CommandOutput::None))
}

/// RevokeCredential: the credential and its secrets are deleted.
pub(crate) fn revoke(
    db: &RegionDb,
    batch: &mut WriteBatch,
    access_key_id: &AccessKeyId,
) -> Result<CommandResponse, rocksdb::Error> {
    if read_credential(db, access_key_id.as_str())?.is_none() {
        return Ok(not_found("AccessKeyId"));
    }
    batch.delete_cf(db.cf(CF_CREDENTIALS), access_key_id.as_str());
    started(db, batch);
    Ok(Ok(CommandOutput::None))
}

/// SetCredentialAccessPoint: the access point, when named, must exist.
pub(crate) fn set_access_point(
    db: &RegionDb,
    batch: &mut WriteBatch,
    access_key_id: &AccessKeyId,
    access_point: Option<&str>,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut credential) = read_credential(db, access_key_id.as_str())? else {
        return Ok(not_found("AccessKeyId"));
    };
    if names_missing(db, access_point)? {
        return Ok(not_found("AccessPoint"));
    }
    credential.access_point = access_point.map(str::to_string);
    batch.put_cf(db.cf(CF_CREDENTIALS), access_key_id.as_str(), encode(&credential));
    Ok(Ok(CommandOutput::None))
}

/// PutAccessPoint: creates or replaces it (the proposer validated its policies).
pub(crate) fn put_access_point(
    db: &RegionDb,
    batch: &mut WriteBatch,
    access_point: &AccessPoint,
) -> Result<CommandResponse, rocksdb::Error> {
    if !yaoshi_model::policy::valid_name(&access_point.name)
        || access_point.policies.iter().any(|p| p.validate().is_err())
        || access_point.policies.len() > yaoshi_model::policy::MAX_POLICIES
    {
        return Ok(Err(ApiError::invalid("Policies")));
    }
    batch.put_cf(db.cf(CF_ACCESS_POINTS), access_point.name.as_str(), encode(access_point));
    Ok(Ok(CommandOutput::None))
}

/// DeleteAccessPoint: refused while a credential is held to it.
pub(crate) fn delete_access_point(
    db: &RegionDb,
    batch: &mut WriteBatch,
    name: &str,
) -> Result<CommandResponse, rocksdb::Error> {
    if read_access_point(db, name)?.is_none() {
        return Ok(not_found("AccessPoint"));
    }
    for item in db.db.iterator_cf(db.cf(CF_CREDENTIALS), IteratorMode::Start) {
        let (_, value) = item?;
        if crate::rows::decode_credential(&value)
            .is_ok_and(|c| c.access_point.as_deref() == Some(name))
        {
            return Ok(Err(ApiError::with_subject(
                ErrorCode::InvalidParameter,
                "AccessPoint (credentials are still held to it)",
            )));
        }
    }
    batch.delete_cf(db.cf(CF_ACCESS_POINTS), name);
    Ok(Ok(CommandOutput::None))
}
