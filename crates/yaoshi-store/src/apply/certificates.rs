//! Certificates: creation (PENDING, with the key and request the proposer made), import (ACTIVE,
//! with the key, certificate and chain of a PKCS#12 file the proposer checked), upload of the
//! CA's certificate and chain (checked against the held key by the proposer), status changes and
//! deletion.
//!
//! Status rules: UploadCertificate moves PENDING to ACTIVE and replaces the certificate of an
//! ACTIVE or INACTIVE one (keeping its status); a REVOKED certificate takes no upload.
//! UpdateCertificateStatus sets ACTIVE, INACTIVE or REVOKED on an uploaded certificate; REVOKED
//! is final. DeleteCertificate removes the certificate, its key, chain and tags at once.
//! ExportCertificate writes nothing: it only puts the export in the audit trail, when allowed.

use rocksdb::WriteBatch;
use yaoshi_model::{
    ApiError, CertificateMetadata, CertificateStatus, CommandOutput, CommandResponse, ErrorCode,
    MAX_TAGS_PER_RESOURCE, ResourceRef, Tag,
};

use crate::codec::encode;
use crate::db::{CF_CERTIFICATES, CF_TAGS, RegionDb};
use crate::rows::{put_tag, read_certificate};

fn rejected(code: ErrorCode) -> Result<CommandResponse, rocksdb::Error> {
    Ok(Err(ApiError::new(code)))
}

fn put(batch: &mut WriteBatch, db: &RegionDb, meta: CertificateMetadata) -> CommandResponse {
    batch.put_cf(db.cf(CF_CERTIFICATES), &meta.certificate_id, encode(&meta));
    Ok(CommandOutput::Certificate(Box::new(meta)))
}

/// Inserts a new certificate with `meta`'s id (`ResourceExist` when it is taken) and at most
/// [`MAX_TAGS_PER_RESOURCE`] of `tags`.
fn insert(
    db: &RegionDb,
    batch: &mut WriteBatch,
    meta: CertificateMetadata,
    tags: &[Tag],
) -> Result<CommandResponse, rocksdb::Error> {
    if read_certificate(db, &meta.certificate_id)?.is_some() {
        return rejected(ErrorCode::ResourceExist);
    }
    let prefix = ResourceRef::Certificate(meta.certificate_id.clone()).tag_prefix();
    for tag in tags.iter().take(MAX_TAGS_PER_RESOURCE) {
        put_tag(db, batch, &prefix, tag);
    }
    Ok(put(batch, db, meta))
}

/// CreateCertificate: a new id, PENDING, at most [`MAX_TAGS_PER_RESOURCE`] tags.
pub(crate) fn create(
    db: &RegionDb,
    batch: &mut WriteBatch,
    metadata: &CertificateMetadata,
    tags: &[Tag],
) -> Result<CommandResponse, rocksdb::Error> {
    let mut meta = metadata.clone();
    meta.status = CertificateStatus::Pending;
    meta.certificate_pem = None;
    meta.chain_pem = None;
    insert(db, batch, meta, tags)
}

/// ImportCertificate: a new id, ACTIVE, with its certificate; at most
/// [`MAX_TAGS_PER_RESOURCE`] tags.
pub(crate) fn import(
    db: &RegionDb,
    batch: &mut WriteBatch,
    metadata: &CertificateMetadata,
    tags: &[Tag],
) -> Result<CommandResponse, rocksdb::Error> {
    if read_certificate(db, &metadata.certificate_id)?.is_some() {
        return rejected(ErrorCode::ResourceExist);
    }
    if metadata.certificate_pem.is_none() {
        return rejected(ErrorCode::InvalidParameter);
    }
    let mut meta = metadata.clone();
    meta.status = CertificateStatus::Active;
    insert(db, batch, meta, tags)
}

/// UploadCertificate (module rules).
pub(crate) fn upload(
    db: &RegionDb,
    batch: &mut WriteBatch,
    certificate_id: &str,
    certificate_pem: &str,
    chain_pem: &str,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut meta) = read_certificate(db, certificate_id)? else {
        return rejected(ErrorCode::CertificateNotFound);
    };
    match meta.status {
        CertificateStatus::Revoked => return rejected(ErrorCode::StateModifiedFailed),
        CertificateStatus::Pending => meta.status = CertificateStatus::Active,
        CertificateStatus::Active | CertificateStatus::Inactive => {}
    }
    meta.certificate_pem = Some(certificate_pem.to_string());
    meta.chain_pem = (!chain_pem.is_empty()).then(|| chain_pem.to_string());
    meta.update_ms = at_ms;
    Ok(put(batch, db, meta))
}

/// UpdateCertificateStatus (module rules).
pub(crate) fn update_status(
    db: &RegionDb,
    batch: &mut WriteBatch,
    certificate_id: &str,
    status: CertificateStatus,
    at_ms: i64,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(mut meta) = read_certificate(db, certificate_id)? else {
        return rejected(ErrorCode::CertificateNotFound);
    };
    if status == CertificateStatus::Pending {
        return rejected(ErrorCode::InvalidParameter);
    }
    match meta.status {
        CertificateStatus::Pending | CertificateStatus::Revoked if meta.status != status => {
            return rejected(ErrorCode::StateModifiedFailed);
        }
        _ => {}
    }
    if meta.status != status {
        meta.status = status;
        meta.update_ms = at_ms;
    }
    Ok(put(batch, db, meta))
}

/// ExportCertificate: writes nothing (its audit event is the point); refused unless the
/// certificate exists, is exportable and ACTIVE. Answers the certificate as authorized.
pub(crate) fn authorize_export(
    db: &RegionDb,
    certificate_id: &str,
) -> Result<CommandResponse, rocksdb::Error> {
    let Some(meta) = read_certificate(db, certificate_id)? else {
        return rejected(ErrorCode::CertificateNotFound);
    };
    if !meta.exportable {
        return rejected(ErrorCode::PrivateKeyNotExportable);
    }
    if !meta.usable() {
        return rejected(ErrorCode::CertificateNotActive);
    }
    Ok(Ok(CommandOutput::Certificate(Box::new(meta))))
}

/// DeleteCertificate: the certificate, its wrapped key, chain and tags.
pub(crate) fn delete(
    db: &RegionDb,
    batch: &mut WriteBatch,
    certificate_id: &str,
) -> Result<CommandResponse, rocksdb::Error> {
    if read_certificate(db, certificate_id)?.is_none() {
        return rejected(ErrorCode::CertificateNotFound);
    }
    batch.delete_cf(db.cf(CF_CERTIFICATES), certificate_id);
    let prefix = ResourceRef::Certificate(certificate_id.to_string()).tag_prefix();
    for item in db.db.prefix_iterator_cf(db.cf(CF_TAGS), &prefix) {
        let (k, _) = item?;
        if !k.starts_with(&prefix) {
            break;
        }
        batch.delete_cf(db.cf(CF_TAGS), &k);
    }
    Ok(Ok(CommandOutput::None))
}
