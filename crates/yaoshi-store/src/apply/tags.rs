//! Tags on resources: added, overwritten or removed by key, at most
//! [`MAX_TAGS_PER_RESOURCE`] per resource.

use rocksdb::WriteBatch;
use yaoshi_model::{
    ApiError, CommandOutput, CommandResponse, ErrorCode, KeyState, MAX_TAGS_PER_RESOURCE,
    ResourceRef, Tag,
};

use crate::db::{CF_TAGS, RegionDb};
use crate::layout::tag_key;
use crate::rows::{put_tag, read_certificate, read_key, read_secret, read_tags};

/// TagResource: adds or overwrites tags, refused when the resource would have more than
/// [`MAX_TAGS_PER_RESOURCE`] afterwards.
pub(crate) fn tag(
    db: &RegionDb,
    batch: &mut WriteBatch,
    resource: &ResourceRef,
    tags: &[Tag],
) -> Result<CommandResponse, rocksdb::Error> {
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
        put_tag(db, batch, &prefix, tag);
    }
    Ok(Ok(CommandOutput::None))
}

/// UntagResource: removes tags by key (absent keys are ignored).
pub(crate) fn untag(
    db: &RegionDb,
    batch: &mut WriteBatch,
    resource: &ResourceRef,
    tag_keys: &[String],
) -> Result<CommandResponse, rocksdb::Error> {
    if let Some(rejection) = check_taggable(db, resource)? {
        return Ok(Err(rejection));
    }
    let prefix = resource.tag_prefix();
    for key in tag_keys {
        batch.delete_cf(db.cf(CF_TAGS), tag_key(&prefix, key));
    }
    Ok(Ok(CommandOutput::None))
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
        ResourceRef::Secret(name) => Ok(match read_secret(db, name)? {
            None => Some(ApiError::new(ErrorCode::ResourceNotFound)),
            Some(s) if s.planned_delete_ms.is_some() => {
                Some(ApiError::new(ErrorCode::ResourceInDeleteWindow))
            }
            Some(_) => None,
        }),
        ResourceRef::Certificate(id) => Ok(match read_certificate(db, id)? {
            None => Some(ApiError::new(ErrorCode::CertificateNotFound)),
            Some(_) => None,
        }),
    }
}
