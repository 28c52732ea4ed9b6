//! The per-process cache of SignatureNonces seen within the replay window (salted fingerprints).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use yaoshi_model::REPLAY_WINDOW_MS;
use zeroize::Zeroizing;

/// SignatureNonces seen by this process within the replay window.
///
/// Control-plane writes are also checked cluster-wide in apply; this cache covers reads and the
/// data plane, which change no state (docs/SECURITY.md).
///
/// Each entry is a 128-bit fingerprint of (AccessKey id, nonce): the first 16 bytes of
/// SHA-256(process salt ‖ length of the id ‖ id ‖ nonce), with a random salt drawn when the cache
/// is made. A replayed pair always has the same fingerprint, so every replay within the window is
/// refused exactly as before; two different pairs are only confused (a fresh request refused as
/// `SignatureNonceUsed`) with probability about n / 2^128 for n cached entries, and the salt keeps
/// anyone from searching for such pairs in advance. Fixed-size entries keep the cache small (one
/// request per entry for 15 minutes) and cheap to grow: the strings themselves are never stored.
#[derive(Debug)]
pub(crate) struct NonceCache {
    salt: Zeroizing<Vec<u8>>,
    inner: Mutex<NonceCacheInner>,
}

#[derive(Debug, Default)]
struct NonceCacheInner {
    seen: HashMap<u128, i64>,
    order: VecDeque<(i64, u128)>,
}

impl Default for NonceCache {
    fn default() -> NonceCache {
        NonceCache { salt: yaoshi_crypto::random_bytes(32), inner: Mutex::default() }
    }
}

impl NonceCache {
    fn fingerprint(&self, access_key_id: &str, nonce: &str) -> u128 {
        let mut input = Vec::with_capacity(self.salt.len() + 8 + access_key_id.len() + nonce.len());
        input.extend_from_slice(&self.salt);
        input.extend_from_slice(&(access_key_id.len() as u64).to_le_bytes());
        input.extend_from_slice(access_key_id.as_bytes());
        input.extend_from_slice(nonce.as_bytes());
        let digest = yaoshi_crypto::sha256(&input);
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        u128::from_le_bytes(first)
    }

    /// Records the nonce; false when it was already seen within the window.
    pub(crate) fn check_and_insert(&self, access_key_id: &str, nonce: &str, now_ms: i64) -> bool {
        let key = self.fingerprint(access_key_id, nonce);
        let mut inner = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        while let Some(&(at, old)) = inner.order.front() {
            if now_ms - at <= REPLAY_WINDOW_MS {
                break;
            }
            inner.order.pop_front();
            if inner.seen.get(&old) == Some(&at) {
                inner.seen.remove(&old);
            }
        }
        if inner.seen.contains_key(&key) {
            return false;
        }
        inner.seen.insert(key, now_ms);
        inner.order.push_back((now_ms, key));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        assert_eq!(inner.seen.len(), inner.order.len());
        inner.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_cache_rejects_replays_within_window_only() {
        let c = NonceCache::default();
        assert!(c.check_and_insert("ak", "n1", 1000));
        assert!(!c.check_and_insert("ak", "n1", 2000));
        assert!(c.check_and_insert("other", "n1", 2000));
        assert!(c.check_and_insert("ak", "n1", 1000 + REPLAY_WINDOW_MS + 1));
    }

    #[test]
    fn nonce_cache_keeps_id_and_nonce_apart_and_expires_entries() {
        let c = NonceCache::default();
        assert!(c.check_and_insert("a", "bc", 0));
        assert!(c.check_and_insert("ab", "c", 0));
        assert!(c.check_and_insert("", "abc", 0));
        assert!(!c.check_and_insert("ab", "c", 1));
        for i in 0..1000 {
            assert!(c.check_and_insert("ak", &format!("n{i}"), 10 + i));
        }
        assert!(!c.check_and_insert("ak", "n999", REPLAY_WINDOW_MS));
        assert_eq!(c.len(), 1003);
        // Entries older than the window are dropped as time passes, so the cache holds only one
        // window's worth of requests.
        assert!(c.check_and_insert("ak", "later", 10 + 500 + REPLAY_WINDOW_MS));
        assert_eq!(c.len(), 500 + 1);
        assert!(c.check_and_insert("ak", "n0", 10 + 500 + REPLAY_WINDOW_MS));
        // Another cache (another process) has its own salt, and its own memory.
        assert!(NonceCache::default().check_and_insert("ak", "n999", 2000));
    }
}
