//! Read-only queries of the local replica's state (used by the API after a linearizable read
//! barrier, and directly by the data plane).

use rocksdb::{IteratorMode, ReadOptions};
use sha2::{Digest, Sha256};
use yaoshi_model::{
    AccessPoint, Alias, AuditEvent, Credential, ImportToken, KeyId, KeyMetadata, KeyState,
    KeyVersion, KeyVersionId, ResourceRef, STAGE_PENDING, SecretMetadata, SecretRecord,
    SecretVersion, Tag,
};

use crate::codec::{DecodeError, decode};
use crate::db::{
    CF_ALIASES, CF_AUDIT, CF_CERTIFICATES, CF_CREDENTIALS, CF_IMPORT_TOKENS, CF_KEY_ALIASES,
    CF_KEY_VERSIONS, CF_KEYS, CF_SECRET_VERSIONS, CF_SECRETS, CF_SM_META, RegionDb, STATE_CFS,
};
use crate::layout::{META_SECRETS_KEY, key_alias_key, secret_version_key, version_key};
use crate::rows::read_tags;
use crate::rules::rotation_slot;

/// A failed query of the local state.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// RocksDB read error.
    #[error("state read failed")]
    Rocks(#[from] rocksdb::Error),
    /// A stored value does not decode.
    #[error("stored value is corrupt")]
    Corrupt(#[from] DecodeError),
}

/// One page (`offset` items skipped, at most `limit` kept) of `items`, and how many there are.
fn paginate<T>(
    items: impl Iterator<Item = Result<T, QueryError>>,
    offset: usize,
    limit: usize,
) -> Result<(Vec<T>, usize), QueryError> {
    let mut page = Vec::new();
    let mut total = 0usize;
    for item in items {
        let item = item?;
        if total >= offset && page.len() < limit {
            page.push(item);
        }
        total += 1;
    }
    Ok((page, total))
}

/// Scheduled work that is due, found from state by [`StateReader::due_work`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueWork {
    /// Keys in PendingDeletion whose DeleteDate has passed: id, DeleteDate (ms), aliases.
    pub purges: Vec<(KeyId, i64, Vec<String>)>,
    /// Keys whose automatic rotation is due: the key and its NextRotationDate (ms).
    pub rotations: Vec<(KeyMetadata, i64)>,
    /// Keys whose imported material has expired: id and MaterialExpireTime (ms).
    pub expiries: Vec<(KeyId, i64)>,
    /// Import tokens past their expiry.
    pub expired_tokens: Vec<String>,
    /// Secrets whose recovery window has ended: name and PlannedDeleteTime (ms).
    pub secret_purges: Vec<(String, i64)>,
    /// Secrets whose automatic rotation is due (none pending): the secret and its
    /// NextRotationDate (ms).
    pub secret_rotations: Vec<(SecretMetadata, i64)>,
    /// Managed secrets with a pending rotation to finish: the secret and the pending version.
    pub pending_rotations: Vec<(SecretMetadata, String)>,
}

/// A piece of scheduled work, due now or later (DescribeScheduledActions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    /// The command the scheduler will propose (`PurgeKey`, `RotateKey`, `ExpireKeyMaterial`,
    /// `PurgeSecret`, `AutoRotateSecret`, `FinishSecretRotation`).
    pub action: &'static str,
    /// `key` or `secret`.
    pub resource_type: &'static str,
    /// The key id or secret name.
    pub resource: String,
    /// When it is due, Unix ms.
    pub due_ms: i64,
}

impl DueWork {
    /// Whether nothing is due.
    pub fn is_empty(&self) -> bool {
        self.purges.is_empty()
            && self.rotations.is_empty()
            && self.expiries.is_empty()
            && self.expired_tokens.is_empty()
            && self.secret_purges.is_empty()
            && self.secret_rotations.is_empty()
            && self.pending_rotations.is_empty()
    }
}

/// A cheap, clonable reader of one region's state.
#[derive(Debug, Clone)]
pub struct StateReader {
    db: RegionDb,
}

impl StateReader {
    /// A reader on `db`.
    pub fn new(db: RegionDb) -> StateReader {
        StateReader { db }
    }

    /// Every piece of scheduled work due at `now_ms` (at most `limit` of each kind), by a scan of
    /// the keys and import tokens. Only the leader's scheduler calls it, once per tick.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn due_work(&self, now_ms: i64, limit: usize) -> Result<DueWork, QueryError> {
        let mut due = DueWork::default();
        for item in self.db.db.iterator_cf(self.db.cf(CF_KEYS), IteratorMode::Start) {
            let key: KeyMetadata = decode(&item?.1)?;
            if let (KeyState::PendingDeletion, Some(at)) = (key.state, key.delete_ms)
                && at <= now_ms
                && due.purges.len() < limit
            {
                let aliases = self.key_aliases(&key.key_id)?;
                due.purges.push((key.key_id.clone(), at, aliases));
            }
            if let Some(next) = key.next_rotation_ms()
                && rotation_slot(&key, next, now_ms).is_some()
                && due.rotations.len() < limit
            {
                due.rotations.push((key.clone(), next));
            }
            if let Some(at) = key.material_expire_ms
                && at <= now_ms
                && due.expiries.len() < limit
            {
                due.expiries.push((key.key_id.clone(), at));
            }
        }
        for item in self.db.db.iterator_cf(self.db.cf(CF_IMPORT_TOKENS), IteratorMode::Start) {
            let token: ImportToken = decode(&item?.1)?;
            let purge_at = token.expire_ms.saturating_add(ImportToken::KEPT_AFTER_EXPIRY_MS);
            if purge_at <= now_ms && due.expired_tokens.len() < limit {
                due.expired_tokens.push(token.token);
            }
        }
        for item in self.db.db.iterator_cf(self.db.cf(CF_SECRETS), IteratorMode::Start) {
            let secret: SecretMetadata = decode(&item?.1)?;
            if let Some(at) = secret.planned_delete_ms {
                if at <= now_ms && due.secret_purges.len() < limit {
                    due.secret_purges.push((secret.name.clone(), at));
                }
                continue;
            }
            if let Some(pending) = secret.version_at(STAGE_PENDING) {
                if due.pending_rotations.len() < limit {
                    let pending = pending.to_string();
                    due.pending_rotations.push((secret, pending));
                }
                continue;
            }
            if let Some(next) = secret.next_rotation_ms
                && secret.rotates()
                && next <= now_ms
                && due.secret_rotations.len() < limit
            {
                due.secret_rotations.push((secret, next));
            }
        }
        Ok(due)
    }

    /// Every piece of scheduled work, due or not, in due order: key deletions, rotations and
    /// material expiries, secret purges, rotations and pending rotations.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn scheduled_actions(&self) -> Result<Vec<ScheduledAction>, QueryError> {
        let mut out = Vec::new();
        let mut push = |action, resource_type, resource: &str, due_ms| {
            out.push(ScheduledAction {
                action,
                resource_type,
                resource: resource.to_string(),
                due_ms,
            });
        };
        for item in self.db.db.iterator_cf(self.db.cf(CF_KEYS), IteratorMode::Start) {
            let key: KeyMetadata = decode(&item?.1)?;
            let id = key.key_id.as_str();
            if let (KeyState::PendingDeletion, Some(at)) = (key.state, key.delete_ms) {
                push("PurgeKey", "key", id, at);
            }
            if let Some(next) = key.next_rotation_ms() {
                push("RotateKey", "key", id, next);
            }
            if let Some(at) = key.material_expire_ms {
                push("ExpireKeyMaterial", "key", id, at);
            }
        }
        for item in self.db.db.iterator_cf(self.db.cf(CF_SECRETS), IteratorMode::Start) {
            let secret: SecretMetadata = decode(&item?.1)?;
            if let Some(at) = secret.planned_delete_ms {
                push("PurgeSecret", "secret", &secret.name, at);
            } else if secret.version_at(STAGE_PENDING).is_some() {
                push("FinishSecretRotation", "secret", &secret.name, secret.update_ms);
            } else if let (true, Some(next)) = (secret.rotates(), secret.next_rotation_ms) {
                push("AutoRotateSecret", "secret", &secret.name, next);
            }
        }
        out.sort_by(|a, b| (a.due_ms, &a.resource).cmp(&(b.due_ms, &b.resource)));
        Ok(out)
    }

    /// The certificate with this id.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn certificate(
        &self,
        certificate_id: &str,
    ) -> Result<Option<yaoshi_model::CertificateMetadata>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_CERTIFICATES), certificate_id)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// Every certificate, by id (for filling a worker's cache).
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn certificates(&self) -> Result<Vec<yaoshi_model::CertificateMetadata>, QueryError> {
        let mut out = Vec::new();
        for item in self.db.db.iterator_cf(self.db.cf(CF_CERTIFICATES), IteratorMode::Start) {
            out.push(decode(&item?.1)?);
        }
        Ok(out)
    }

    /// The secret with this name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secret(&self, name: &str) -> Result<Option<SecretMetadata>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_SECRETS), name)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// A version of a secret.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secret_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<SecretVersion>, QueryError> {
        let k = secret_version_key(name, version_id);
        match self.db.db.get_pinned_cf(self.db.cf(CF_SECRET_VERSIONS), k)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// Every version of a secret, in version-id order.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secret_versions(&self, name: &str) -> Result<Vec<SecretVersion>, QueryError> {
        let prefix = secret_version_key(name, "");
        self.prefix_values(CF_SECRET_VERSIONS, &prefix).map(|v| Ok(decode(&v?)?)).collect()
    }

    /// A secret with all its versions.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secret_record(&self, name: &str) -> Result<Option<SecretRecord>, QueryError> {
        match self.secret(name)? {
            None => Ok(None),
            Some(meta) => {
                let versions = self.secret_versions(name)?;
                Ok(Some((meta, versions)))
            }
        }
    }

    /// Every secret with its versions, by name (for filling a worker's cache).
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secrets_with_versions(&self) -> Result<Vec<SecretRecord>, QueryError> {
        let (secrets, _) = self.list_secrets(0, usize::MAX, |_| true)?;
        let mut out = Vec::with_capacity(secrets.len());
        for meta in secrets {
            let versions = self.secret_versions(&meta.name)?;
            out.push((meta, versions));
        }
        Ok(out)
    }

    /// One page of the secrets matching `filter` in name order, and the number of matches.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn list_secrets(
        &self,
        offset: usize,
        limit: usize,
        filter: impl Fn(&SecretMetadata) -> bool,
    ) -> Result<(Vec<SecretMetadata>, usize), QueryError> {
        let rows = self.db.db.iterator_cf(self.db.cf(CF_SECRETS), IteratorMode::Start);
        let secrets =
            rows.map(|row| -> Result<SecretMetadata, QueryError> { Ok(decode(&row?.1)?) });
        paginate(secrets.filter(|s| s.as_ref().map_or(true, &filter)), offset, limit)
    }

    /// The region's default master key of the secrets manager, once created.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn secrets_key(&self) -> Result<Option<KeyId>, QueryError> {
        Ok(self
            .db
            .db
            .get_pinned_cf(self.db.cf(CF_SM_META), META_SECRETS_KEY)?
            .map(|raw| KeyId::new(String::from_utf8_lossy(&raw).into_owned())))
    }

    /// The names of a key's aliases.
    fn key_aliases(&self, key_id: &KeyId) -> Result<Vec<String>, QueryError> {
        let prefix = key_alias_key(key_id.as_str(), "");
        let mut out = Vec::new();
        for item in self.db.db.prefix_iterator_cf(self.db.cf(CF_KEY_ALIASES), &prefix) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    /// The key with this id.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn key(&self, key_id: &str) -> Result<Option<KeyMetadata>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_KEYS), key_id)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// A version of a key.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn key_version(
        &self,
        key_id: &KeyId,
        version_id: &KeyVersionId,
    ) -> Result<Option<KeyVersion>, QueryError> {
        let k = version_key(key_id.as_str(), version_id.as_str());
        match self.db.db.get_pinned_cf(self.db.cf(CF_KEY_VERSIONS), k)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// Subscribes to the announcements of applied entries (see [`crate::feed`]).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::feed::Applied> {
        self.db.feed.subscribe()
    }

    /// Every key with all its versions, in key-id order (for filling a worker's cache).
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn keys_with_versions(&self) -> Result<Vec<(KeyMetadata, Vec<KeyVersion>)>, QueryError> {
        let (keys, _) = self.list_keys(0, usize::MAX, |_| true)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let (versions, _) = self.list_key_versions(&key.key_id, 0, usize::MAX)?;
            out.push((key, versions));
        }
        Ok(out)
    }

    /// A BYOK import token.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn import_token(&self, token: &str) -> Result<Option<ImportToken>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_IMPORT_TOKENS), token)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// One page of a key's versions in version-id order (creation order, as version ids are
    /// UUIDv7), and their total.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn list_key_versions(
        &self,
        key_id: &KeyId,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<KeyVersion>, usize), QueryError> {
        let prefix = version_key(key_id.as_str(), "");
        let rows = self.prefix_values(CF_KEY_VERSIONS, &prefix);
        paginate(rows.map(|v| Ok(decode(&v?)?)), offset, limit)
    }

    /// One page of the keys matching `filter` in key-id order (`offset` matches skipped), and the
    /// total number of matches.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn list_keys(
        &self,
        offset: usize,
        limit: usize,
        filter: impl Fn(&KeyMetadata) -> bool,
    ) -> Result<(Vec<KeyMetadata>, usize), QueryError> {
        let mut opts = ReadOptions::default();
        opts.fill_cache(false);
        let rows = self.db.db.iterator_cf_opt(self.db.cf(CF_KEYS), opts, IteratorMode::Start);
        let keys = rows.map(|row| -> Result<KeyMetadata, QueryError> { Ok(decode(&row?.1)?) });
        paginate(keys.filter(|k| k.as_ref().map_or(true, &filter)), offset, limit)
    }

    /// The alias with this name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn alias(&self, name: &str) -> Result<Option<Alias>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_ALIASES), name)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// One page of aliases in name order, all of them or only those of `key_id`, and the total.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn list_aliases(
        &self,
        key_id: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Alias>, usize), QueryError> {
        match key_id {
            None => {
                let rows = self.db.db.iterator_cf(self.db.cf(CF_ALIASES), IteratorMode::Start);
                paginate(rows.map(|row| Ok(decode(&row?.1)?)), offset, limit)
            }
            Some(key_id) => {
                // The index holds names; only the page's aliases are read.
                let prefix = key_alias_key(key_id, "");
                let rows = self.prefix_values(CF_KEY_ALIASES, &prefix);
                let (names, total) = paginate(
                    rows.map(|v| -> Result<String, QueryError> { Ok(decode(&v?)?) }),
                    offset,
                    limit,
                )?;
                let mut page = Vec::with_capacity(names.len());
                for name in names {
                    page.extend(self.alias(&name)?);
                }
                Ok((page, total))
            }
        }
    }

    /// The values of the rows of `cf` whose keys start with `prefix`, in key order.
    fn prefix_values<'a>(
        &'a self,
        cf: &str,
        prefix: &'a [u8],
    ) -> impl Iterator<Item = Result<Box<[u8]>, rocksdb::Error>> + 'a {
        self.db
            .db
            .prefix_iterator_cf(self.db.cf(cf), prefix)
            .take_while(move |row| row.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .map(|row| row.map(|(_, v)| v))
    }

    /// The tags of a resource, in key order.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn tags(&self, resource: &ResourceRef) -> Result<Vec<Tag>, QueryError> {
        Ok(read_tags(&self.db, &resource.tag_prefix())?)
    }

    /// The credential of an AccessKey id.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(CF_CREDENTIALS), access_key_id)? {
            None => Ok(None),
            Some(b) => Ok(Some(crate::rows::decode_credential(&b)?)),
        }
    }

    /// The access point with this name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn access_point(&self, name: &str) -> Result<Option<AccessPoint>, QueryError> {
        match self.db.db.get_pinned_cf(self.db.cf(crate::db::CF_ACCESS_POINTS), name)? {
            None => Ok(None),
            Some(b) => Ok(Some(decode(&b)?)),
        }
    }

    /// Every access point, by name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn access_points(&self) -> Result<Vec<AccessPoint>, QueryError> {
        let mut out = Vec::new();
        let cf = self.db.cf(crate::db::CF_ACCESS_POINTS);
        for item in self.db.db.iterator_cf(cf, IteratorMode::Start) {
            out.push(decode(&item?.1)?);
        }
        Ok(out)
    }

    /// Moves whenever an access point changes or the state is replaced: compiled policies read
    /// at one value stay right until it moves.
    pub fn access_generation(&self) -> u64 {
        self.db.access_generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Every credential.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn credentials(&self) -> Result<Vec<Credential>, QueryError> {
        let mut out = Vec::new();
        for item in self.db.db.iterator_cf(self.db.cf(CF_CREDENTIALS), IteratorMode::Start) {
            out.push(crate::rows::decode_credential(&item?.1)?);
        }
        Ok(out)
    }

    /// The audit trail in log order.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>, QueryError> {
        let mut out = Vec::new();
        for item in self.db.db.iterator_cf(self.db.cf(CF_AUDIT), IteratorMode::Start) {
            out.push(decode(&item?.1)?);
        }
        Ok(out)
    }

    /// A SHA-256 digest of every state column family (name, then each row length-prefixed), read
    /// from one consistent RocksDB snapshot. Equal digests mean byte-identical state.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    pub fn digest(&self) -> Result<Vec<(String, String)>, QueryError> {
        let snap = self.db.snapshot_at_entry_boundary();
        let mut out = Vec::new();
        for name in STATE_CFS {
            let mut h = Sha256::new();
            for item in snap.iterator_cf(self.db.cf(name), IteratorMode::Start) {
                let (k, v) = item?;
                h.update((k.len() as u64).to_be_bytes());
                h.update(&k);
                h.update((v.len() as u64).to_be_bytes());
                h.update(&v);
            }
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            out.push((name.to_string(), hex));
        }
        Ok(out)
    }
}
