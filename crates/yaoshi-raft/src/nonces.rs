//! The per-process cache of SignatureNonces: salted 64-bit fingerprints, each kept until its
//! request's timestamp leaves the replay window, in a bounded amount of memory.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::sync::Mutex;

use zeroize::Zeroizing;

/// The width of one expiry bucket (milliseconds). Every entry of a bucket expires within it, so a
/// bucket is dropped whole once its end has passed; lookups visit every live bucket (at most
/// `NONCE_RETENTION_MS / BUCKET_MS + 1` = 21).
const BUCKET_MS: i64 = 60_000;

/// Bytes of the per-cache salt.
const SALT_LEN: usize = 32;
/// First bytes of a saved cache (format version 1).
const FILE_MAGIC: &[u8] = b"yaoshi-nonces-v1\n";

/// The default bound on cached nonces: about 95 MB at the measured ~12 bytes per entry
/// (docs/SECURITY.md), enough for ~6,600 signed requests/s sustained on one process.
pub const DEFAULT_NONCE_CACHE_ENTRIES: usize = 8_000_000;

/// What [`NonceCache::check_and_insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NonceCheck {
    /// Not seen before: now remembered.
    Fresh,
    /// Seen before and not yet expired: a replay.
    Replayed,
    /// Not seen, but the cache is full: the request must be refused (load shedding), because
    /// forgetting a live nonce would let its replay through.
    Full,
}

/// SignatureNonces seen by this process whose requests could still pass the timestamp check.
///
/// Control-plane writes are also checked cluster-wide in apply (docs/SECURITY.md).
///
/// Each entry is a 64-bit fingerprint of (AccessKey id, nonce): the first 8 bytes of
/// SHA-256(process salt ‖ length of the id ‖ id ‖ nonce), with a random salt drawn when the cache
/// is made. A replayed pair always has the same fingerprint, so every replay is refused; two
/// different pairs are confused (a fresh request refused as `SignatureNonceUsed`) with probability
/// about n / 2^64 for n cached entries (4 × 10⁻¹³ at the default bound), and the salt keeps anyone
/// from searching for such pairs in advance. The strings themselves are never stored.
///
/// An entry is kept until its request's timestamp plus the replay window, the last moment a replay
/// could pass the timestamp check; entries live in one set per minute of expiry, dropped whole.
/// At `capacity` entries the cache refuses new nonces ([`NonceCheck::Full`]) instead of
/// forgetting live ones.
#[derive(Debug)]
pub struct NonceCache {
    salt: Zeroizing<Vec<u8>>,
    capacity: usize,
    inner: Mutex<Buckets>,
}

/// The fingerprints, by expiry minute.
#[derive(Debug, Default)]
struct Buckets {
    by_minute: BTreeMap<i64, HashSet<u64, BuildHasherDefault<Identity>>>,
    len: usize,
}

/// The fingerprints are already uniform hash values: a set of them needs no further hashing.
#[derive(Debug, Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl NonceCache {
    /// An empty cache holding at most `capacity` nonces, with a fresh random salt.
    pub fn new(capacity: usize) -> NonceCache {
        NonceCache {
            salt: yaoshi_crypto::random_bytes(SALT_LEN),
            capacity,
            inner: Mutex::default(),
        }
    }

    /// Writes the cache to `path` (mode 0600, through a temporary file renamed into place): the
    /// salt and every fingerprint with its expiry minute, so a node restarted cleanly remembers
    /// the nonces it had seen ([`NonceCache::load`]). Fingerprints are not secrets; the salt is
    /// kept private so nobody can search for colliding pairs.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be written.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::with_capacity(FILE_MAGIC.len() + self.salt.len() + 8 + inner.len * 8);
        out.extend_from_slice(FILE_MAGIC);
        out.extend_from_slice(&self.salt);
        for (minute, set) in &inner.by_minute {
            out.extend_from_slice(&minute.to_le_bytes());
            out.extend_from_slice(&(set.len() as u64).to_le_bytes());
            for key in set {
                out.extend_from_slice(&key.to_le_bytes());
            }
        }
        drop(inner);
        let tmp = path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        std::io::Write::write_all(&mut f, &out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// The cache a clean shutdown saved at `path` (then removed, so a later crash cannot bring
    /// back an old copy), without what expired by `now_ms`; a fresh empty cache when there is
    /// no file or it is unreadable.
    pub fn load(path: &Path, capacity: usize, now_ms: i64) -> NonceCache {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "nonce file unreadable; starting empty");
                }
                return NonceCache::new(capacity);
            }
        };
        let _ = std::fs::remove_file(path);
        match NonceCache::decode(&bytes, capacity, now_ms) {
            Some(cache) => {
                tracing::info!(
                    nonces = cache.entries(),
                    "nonce cache restored from the last clean shutdown"
                );
                cache
            }
            None => {
                tracing::warn!(path = %path.display(), "nonce file malformed; starting empty");
                NonceCache::new(capacity)
            }
        }
    }

    fn decode(bytes: &[u8], capacity: usize, now_ms: i64) -> Option<NonceCache> {
        let rest = bytes.strip_prefix(FILE_MAGIC)?;
        let (salt, mut rest) = rest.split_at_checked(SALT_LEN)?;
        let live_from = now_ms.div_euclid(BUCKET_MS);
        let mut buckets = Buckets::default();
        let take = |rest: &mut &[u8]| -> Option<u64> {
            let (word, tail) = rest.split_at_checked(8)?;
            *rest = tail;
            Some(u64::from_le_bytes(word.try_into().ok()?))
        };
        while !rest.is_empty() {
            let minute = take(&mut rest)? as i64;
            let count = usize::try_from(take(&mut rest)?).ok()?;
            if count > rest.len() / 8 {
                return None;
            }
            let mut set = HashSet::with_capacity_and_hasher(
                if minute >= live_from { count } else { 0 },
                BuildHasherDefault::default(),
            );
            for _ in 0..count {
                let key = take(&mut rest)?;
                if minute >= live_from && buckets.len + set.len() < capacity {
                    set.insert(key);
                }
            }
            if !set.is_empty() {
                buckets.len += set.len();
                buckets.by_minute.insert(minute, set);
            }
        }
        Some(NonceCache {
            salt: Zeroizing::new(salt.to_vec()),
            capacity,
            inner: Mutex::new(buckets),
        })
    }

    /// The number of cached nonces.
    pub fn entries(&self) -> usize {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len
    }

    fn fingerprint(&self, access_key_id: &str, nonce: &str) -> u64 {
        let mut input = Vec::with_capacity(self.salt.len() + 8 + access_key_id.len() + nonce.len());
        input.extend_from_slice(&self.salt);
        input.extend_from_slice(&(access_key_id.len() as u64).to_le_bytes());
        input.extend_from_slice(access_key_id.as_bytes());
        input.extend_from_slice(nonce.as_bytes());
        let digest = yaoshi_crypto::sha256(&input);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    /// Records the nonce of a request that stays replayable until `expires_ms`; `now_ms` drops
    /// what has expired.
    pub fn check_and_insert(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> NonceCheck {
        let key = self.fingerprint(access_key_id, nonce);
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A bucket ends at (minute + 1) × BUCKET_MS; once that has passed, all of it expired.
        let live_from = now_ms.div_euclid(BUCKET_MS);
        while let Some(entry) = inner.by_minute.first_entry() {
            if *entry.key() >= live_from {
                break;
            }
            let dropped = entry.remove().len();
            inner.len -= dropped;
        }
        if inner.by_minute.values().any(|set| set.contains(&key)) {
            return NonceCheck::Replayed;
        }
        if inner.len >= self.capacity {
            return NonceCheck::Full;
        }
        inner.by_minute.entry(expires_ms.div_euclid(BUCKET_MS)).or_default().insert(key);
        inner.len += 1;
        NonceCheck::Fresh
    }

    /// The number of cached nonces.
    #[cfg(test)]
    fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        assert_eq!(inner.len, inner.by_minute.values().map(HashSet::len).sum::<usize>());
        inner.len
    }

    /// Bytes held by the sets' tables (8-byte slot plus 1 control byte per bucket slot).
    #[cfg(test)]
    fn table_bytes(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.by_minute.values().map(|s| s.capacity() * 9 * 8 / 7).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_model::REPLAY_WINDOW_MS;

    const W: i64 = REPLAY_WINDOW_MS;

    #[test]
    fn replays_are_refused_until_the_timestamp_leaves_the_window() {
        let c = NonceCache::new(100);
        let t0 = 1_000_000_000;
        assert_eq!(c.check_and_insert("ak", "n1", t0 + W, t0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("ak", "n1", t0 + W, t0 + 1), NonceCheck::Replayed);
        assert_eq!(c.check_and_insert("other", "n1", t0 + W, t0), NonceCheck::Fresh);
        // Still refused right before expiry, even though it arrived long ago.
        assert_eq!(c.check_and_insert("ak", "n1", t0 + W, t0 + W - 1), NonceCheck::Replayed);
        // A timestamp 5 minutes ahead keeps its nonce 20 minutes after arrival.
        let ahead = t0 + 5 * 60_000;
        assert_eq!(c.check_and_insert("ak", "future", ahead + W, t0), NonceCheck::Fresh);
        assert_eq!(
            c.check_and_insert("ak", "future", ahead + W, ahead + W - 1),
            NonceCheck::Replayed
        );
        // Past expiry (and past its bucket), the pair is new again.
        assert_eq!(
            c.check_and_insert("ak", "n1", t0 + 3 * W, t0 + W + BUCKET_MS),
            NonceCheck::Fresh
        );
    }

    #[test]
    fn keeps_id_and_nonce_apart_and_drops_expired_buckets() {
        let c = NonceCache::new(10_000);
        assert_eq!(c.check_and_insert("a", "bc", W, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("ab", "c", W, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("", "abc", W, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("ab", "c", W, 1), NonceCheck::Replayed);
        for i in 0..1000 {
            assert_eq!(
                c.check_and_insert("ak", &format!("n{i}"), W + 10 * i, 10),
                NonceCheck::Fresh
            );
        }
        assert_eq!(c.len(), 1003);
        // Entries whose bucket has ended are dropped as time passes.
        let later = W + BUCKET_MS;
        assert_eq!(c.check_and_insert("ak", "later", later + W, later), NonceCheck::Fresh);
        let live = 1
            + (0..1000).filter(|i| (W + 10 * i).div_euclid(BUCKET_MS) >= later / BUCKET_MS).count();
        assert_eq!(c.len(), live);
        // Another cache (another process) has its own salt, and its own memory.
        assert_eq!(NonceCache::new(1).check_and_insert("ak", "n999", W, 0), NonceCheck::Fresh);
    }

    #[test]
    fn a_full_cache_sheds_instead_of_forgetting() {
        let c = NonceCache::new(3);
        for n in ["a", "b", "c"] {
            assert_eq!(c.check_and_insert("ak", n, W, 0), NonceCheck::Fresh);
        }
        assert_eq!(c.check_and_insert("ak", "d", W, 1), NonceCheck::Full);
        // Replays are still recognized while full.
        assert_eq!(c.check_and_insert("ak", "a", W, 1), NonceCheck::Replayed);
        // Once the entries expire there is room again, and the refused nonce was not remembered.
        assert_eq!(
            c.check_and_insert("ak", "d", 2 * W + BUCKET_MS, W + BUCKET_MS),
            NonceCheck::Fresh
        );
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn a_saved_cache_is_restored_once_without_what_expired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonces");
        let c = NonceCache::new(100);
        assert_eq!(c.check_and_insert("ak", "early", W, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("ak", "late", 3 * W, 0), NonceCheck::Fresh);
        c.save(&path).unwrap();
        // Restored after `early` expired: `late` is still a replay, `early` is new again.
        let now = W + BUCKET_MS;
        let r = NonceCache::load(&path, 100, now);
        assert_eq!(r.entries(), 1);
        assert_eq!(r.check_and_insert("ak", "late", 3 * W, now), NonceCheck::Replayed);
        assert_eq!(r.check_and_insert("ak", "early", 3 * W, now), NonceCheck::Fresh);
        // The file is consumed: a second start (after a crash) begins empty.
        assert!(!path.exists());
        assert_eq!(NonceCache::load(&path, 100, now).entries(), 0);
        // A damaged file is not trusted.
        c.save(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(NonceCache::load(&path, 100, 0).entries(), 0);
    }

    /// The memory figure of docs/SECURITY.md: table bytes per cached nonce at a realistic fill
    /// (one million requests spread over 20 expiry minutes).
    #[test]
    fn memory_per_entry_is_bounded() {
        let c = NonceCache::new(usize::MAX);
        let n: i64 = 1_000_000;
        for i in 0..n {
            let expires = W + (i * 20 * BUCKET_MS) / n;
            assert_eq!(c.check_and_insert("ak", &i.to_string(), expires, 0), NonceCheck::Fresh);
        }
        let per_entry = c.table_bytes() as f64 / n as f64;
        eprintln!("nonce cache: {per_entry:.1} table bytes per entry at {n} entries");
        assert!(per_entry <= 24.0, "{per_entry}");
    }
}
