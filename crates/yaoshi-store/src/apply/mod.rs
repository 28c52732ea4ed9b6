//! Applying one command to the state: a deterministic function of (state, command) that fills a
//! write batch and returns the command's response.
//!
//! [`apply_command`] does what every command shares (the replay check of signed requests, see
//! `nonces.rs`) and hands the command to the module of its domain, one function per command:
//!
//! - `keys.rs`: a key's lifecycle and settings;
//! - `material.rs`: BYOK import tokens and imported material;
//! - `aliases.rs`, `tags.rs`;
//! - `schedules.rs`: the leader's scheduled commands (purge, rotation, expiries);
//! - `credentials.rs`: the bootstrap credential.
//!
//! Adding a domain (secrets, certificates, replication…) is: a new `<domain>.rs` here with one
//! `pub(super) fn` per command, its `mod` line below, and one arm per command in
//! [`apply_command`]'s match. A domain module uses only its own items and the crate's shared
//! modules — `crate::rows` (typed row reads and writes, and rules several domains share, such as
//! dropping material), `crate::layout` (storage keys), `crate::rules` (pure rules the queries
//! also need) — never this module nor a sibling, so the modules form no import cycle.
//!
//! Determinism (docs/ARCHITECTURE.md, yaoshi-store): apply reads no clock, draws no randomness
//! and does no I/O besides RocksDB reads of the committed state and the entry's write batch; the
//! time it compares against is the proposer's, carried in the command.
//!
//! State-dependent rejections are `Ok(Err(ApiError))`: they change nothing but the nonce record
//! and the audit trail. Storage read failures are the outer `Err`.

mod aliases;
mod credentials;
mod keys;
mod material;
mod nonces;
mod schedules;
mod tags;

use rocksdb::WriteBatch;
use yaoshi_model::{ApiError, Command, CommandEnvelope, CommandResponse, ErrorCode};

use crate::db::RegionDb;
use crate::layout::nonce_key;

/// The result of applying one command.
#[derive(Debug)]
pub(crate) struct Applied {
    /// What the proposer gets back.
    pub(crate) response: CommandResponse,
    /// The command repeats an already applied proposal (same principal, nonce and request id): it
    /// changed nothing and `response` is the first application's.
    pub(crate) duplicate: bool,
}

/// Applies `env` on top of the committed state in `db`, writing its effects into `batch`.
///
/// A command carrying a (principal, nonce) already applied within the replay window is not
/// applied again: when it is the same proposal (same request id: a write retried by its proposer
/// after a timeout, or appended twice around a leader change) it returns the first response and is
/// marked duplicate; otherwise it is a replayed signature (`SignatureNonceUsed`).
pub(crate) fn apply_command(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<Applied, rocksdb::Error> {
    let signed = match (&env.meta.principal, &env.meta.nonce) {
        (Some(principal), Some(nonce)) => Some(nonce_key(principal.as_str(), nonce)),
        _ => None,
    };
    if let Some(key) = &signed {
        match nonces::seen(db, key, &env.meta)? {
            nonces::Seen::New => {}
            nonces::Seen::SameRequest(response) => {
                return Ok(Applied { response, duplicate: true });
            }
            nonces::Seen::OtherRequest => {
                return Ok(Applied {
                    response: Err(ApiError::new(ErrorCode::SignatureNonceUsed)),
                    duplicate: false,
                });
            }
        }
    }
    nonces::prune(db, batch, env.meta.at_ms)?;
    let response = apply_change(db, batch, env)?;
    if let Some(key) = signed {
        nonces::remember(db, batch, key, &env.meta, &response);
    }
    Ok(Applied { response, duplicate: false })
}

/// The command's own effect, decided by its domain.
fn apply_change(
    db: &RegionDb,
    batch: &mut WriteBatch,
    env: &CommandEnvelope,
) -> Result<CommandResponse, rocksdb::Error> {
    let at_ms = env.meta.at_ms;
    match &env.command {
        Command::CreateKey { metadata, version, tags } => {
            keys::create(db, batch, metadata, version, tags)
        }
        Command::UpdateKeyDescription { key_id, description } => {
            keys::update_description(db, batch, key_id, description)
        }
        Command::SetKeyEnabled { key_id, enabled } => {
            keys::set_enabled(db, batch, key_id, *enabled)
        }
        Command::ScheduleKeyDeletion { key_id, delete_ms } => {
            keys::schedule_deletion(db, batch, key_id, *delete_ms)
        }
        Command::CancelKeyDeletion { key_id } => keys::cancel_deletion(db, batch, key_id),
        Command::CreateKeyVersion { version } => keys::create_version(db, batch, version, at_ms),
        Command::UpdateRotationPolicy { key_id, interval_s } => {
            keys::update_rotation_policy(db, batch, key_id, *interval_s)
        }
        Command::SetDeletionProtection { key_id, protection } => {
            keys::set_deletion_protection(db, batch, key_id, protection)
        }
        Command::CreateImportToken { token } => material::create_import_token(db, batch, token),
        Command::ImportKeyMaterial {
            key_id,
            token,
            wrapped_material,
            material_digest,
            expire_ms,
        } => material::import(
            db,
            batch,
            material::Import {
                key_id,
                token,
                wrapped_material,
                material_digest,
                expire_ms: *expire_ms,
            },
            at_ms,
        ),
        Command::DeleteKeyMaterial { key_id } => material::delete(db, batch, key_id),
        Command::CreateAlias { alias } => aliases::create(db, batch, alias),
        Command::UpdateAlias { name, key_id } => aliases::update(db, batch, name, key_id),
        Command::DeleteAlias { name } => aliases::delete(db, batch, name),
        Command::TagResource { resource, tags } => tags::tag(db, batch, resource, tags),
        Command::UntagResource { resource, tag_keys } => tags::untag(db, batch, resource, tag_keys),
        Command::PurgeKey { key_id, expected_delete_ms, .. } => {
            schedules::purge_key(db, batch, key_id, *expected_delete_ms, at_ms)
        }
        Command::RotateKey { key_id, expected_next_rotation_ms, version } => {
            schedules::rotate_key(db, batch, key_id, *expected_next_rotation_ms, version, at_ms)
        }
        Command::ExpireKeyMaterial { key_id, expected_expire_ms } => {
            schedules::expire_material(db, batch, key_id, *expected_expire_ms, at_ms)
        }
        Command::PurgeImportTokens { tokens } => {
            schedules::purge_import_tokens(db, batch, tokens, at_ms)
        }
        Command::BootstrapCredential { credential } => {
            credentials::bootstrap(db, batch, credential)
        }
    }
}
