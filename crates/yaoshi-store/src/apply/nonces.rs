//! The replay check of signed requests: a (principal, nonce) is remembered with the proposal's id
//! and response for the replay window, measured on the proposer's clock carried in the command.

use rocksdb::{Direction, IteratorMode, WriteBatch};
use yaoshi_model::{CommandMeta, CommandResponse, NONCE_RETENTION_MS};

use crate::codec::{decode, encode};
use crate::db::{CF_NONCE_EXPIRY, CF_NONCES, CF_SM_META, RegionDb};
use crate::layout::{META_NONCES_FORGOTTEN_BEFORE, nonce_expiry_key, split_nonce_expiry_key};

/// At most this many expired nonces are pruned per applied command, bounding apply time.
const NONCE_PRUNE_BATCH: usize = 256;

/// What is remembered of a signed request within the replay window: when it was applied, the id of
/// the proposal, and its response, so a retried proposal gets the first answer.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SeenRequest {
    at_ms: i64,
    request_id: String,
    response: CommandResponse,
}

/// What the nonce record says of a signed command.
pub(crate) enum Seen {
    /// Not seen within the replay window: apply it.
    New,
    /// The same proposal again (same request id): answer its first response.
    SameRequest(CommandResponse),
    /// Another request with the same nonce: a replayed signature.
    OtherRequest,
    /// Proposed before the horizon pruning has reached: had it been applied already, its record
    /// may be gone, so whether this is a repetition cannot be known.
    Forgotten,
}

/// Looks up the nonce whose storage key is `key` for a command with request context `meta`.
///
/// A command proposed before `forgotten_before`, the pruning horizon ([`prune`] keeps the
/// greatest it used, [`forgotten_before`] reads it), is
/// [`Seen::Forgotten`]: a proposal retried after a later command (on a faster clock, or after a
/// long stall) pruned its record must not take effect a second time.
pub(crate) fn seen(
    db: &RegionDb,
    key: &[u8],
    meta: &CommandMeta,
    forgotten_before: i64,
) -> Result<Seen, rocksdb::Error> {
    if meta.at_ms < forgotten_before {
        return Ok(Seen::Forgotten);
    }
    if let Some(raw) = db.db.get_pinned_cf(db.cf(CF_NONCES), key)?
        && let Ok(seen) = decode::<SeenRequest>(&raw)
        && meta.at_ms.saturating_sub(seen.at_ms) < NONCE_RETENTION_MS
    {
        if seen.request_id == meta.request_id {
            return Ok(Seen::SameRequest(seen.response));
        }
        return Ok(Seen::OtherRequest);
    }
    Ok(Seen::New)
}

/// Remembers the nonce whose storage key is `key` with the command's response, and indexes it by
/// time for [`prune`].
pub(crate) fn remember(
    db: &RegionDb,
    batch: &mut WriteBatch,
    key: Vec<u8>,
    meta: &CommandMeta,
    response: &CommandResponse,
) {
    let seen = SeenRequest {
        at_ms: meta.at_ms,
        request_id: meta.request_id.clone(),
        response: response.clone(),
    };
    batch.put_cf(db.cf(CF_NONCES), &key, encode(&seen));
    batch.put_cf(db.cf(CF_NONCE_EXPIRY), nonce_expiry_key(meta.at_ms, &key), []);
}

/// Forgets nonces older than the replay window, measured on the proposer's clock carried in the
/// command (never the local clock), so every replica prunes the same entries.
pub(crate) fn prune(
    db: &RegionDb,
    batch: &mut WriteBatch,
    at_ms: i64,
    forgotten_before: i64,
) -> Result<(), rocksdb::Error> {
    let horizon = at_ms.saturating_sub(NONCE_RETENTION_MS);
    if horizon > forgotten_before {
        batch.put_cf(db.cf(CF_SM_META), META_NONCES_FORGOTTEN_BEFORE, horizon.to_be_bytes());
    }
    let expiry_cf = db.cf(CF_NONCE_EXPIRY);
    let iter = db.db.iterator_cf(expiry_cf, IteratorMode::From(&[], Direction::Forward));
    for item in iter.take(NONCE_PRUNE_BATCH) {
        let (key, _) = item?;
        let Some((ts, nonce_key)) = split_nonce_expiry_key(&key) else { continue };
        if ts >= horizon || ts < 0 {
            break;
        }
        batch.delete_cf(expiry_cf, &key);
        // Only forget the nonce if it was not seen again since (a later sighting has its own row).
        if let Some(raw) = db.db.get_pinned_cf(db.cf(CF_NONCES), nonce_key)?
            && decode::<SeenRequest>(&raw).map(|seen| seen.at_ms == ts).unwrap_or(true)
        {
            batch.delete_cf(db.cf(CF_NONCES), nonce_key);
        }
    }
    Ok(())
}

/// The greatest horizon [`prune`] has used (`i64::MIN` before any).
pub(crate) fn forgotten_before(db: &RegionDb) -> Result<i64, rocksdb::Error> {
    Ok(db
        .db
        .get_pinned_cf(db.cf(CF_SM_META), META_NONCES_FORGOTTEN_BEFORE)?
        .and_then(|raw| <[u8; 8]>::try_from(&raw[..]).ok())
        .map_or(i64::MIN, i64::from_be_bytes))
}
