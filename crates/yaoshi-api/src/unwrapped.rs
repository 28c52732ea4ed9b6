//! What the data plane derives from wrapped secrets, kept by the wrapped bytes: credential secrets
//! and key material unwrapped under the domain key (an AES-GCM open per request otherwise), and
//! parsed signing keys (parsing an EC private key computes the public point, and for SM2 also
//! Z_A, which costs about as much as the signature itself).
//!
//! An entry is found by the wrapped bytes themselves and checked against the wrapping AAD (which
//! names the credential, or the key and version), so it can never outlive or mismatch what it came
//! from: the value is a pure function of the domain key, the AAD and the wrapped bytes, and any
//! change to the record (a new version, a new secret) is another entry. Nothing here decides
//! whether the record may be used: credential lookup, key state and usage are read and checked on
//! every request before the cache is consulted. Values are wiped when dropped (`KeyMaterial`,
//! `Zeroizing`, the signing keys' own zeroization). Bounded: when full, it is emptied and refilled
//! by the hot entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Entries kept at most, per cache.
const CAPACITY: usize = 4096;

/// Wrapped bytes → (the AAD they were wrapped under, the value).
type Entries<V> = HashMap<Vec<u8>, (Vec<u8>, Arc<V>)>;

/// Values derived from wrapped bytes, by the wrapped bytes (with the AAD they were wrapped under).
#[derive(Debug)]
pub(crate) struct Unwrapped<V> {
    entries: Mutex<Entries<V>>,
}

impl<V> Default for Unwrapped<V> {
    fn default() -> Self {
        Unwrapped { entries: Mutex::default() }
    }
}

impl<V> Unwrapped<V> {
    /// The value of `wrapped` (wrapped under `aad`), made by `make` on a miss. A failure is not
    /// kept, so it is returned again on the next call.
    pub(crate) fn get_or_make<E>(
        &self,
        aad: &[u8],
        wrapped: &[u8],
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some((entry_aad, value)) = self.lock().get(wrapped)
            && entry_aad == aad
        {
            return Ok(value.clone());
        }
        let value = Arc::new(make()?);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(wrapped.to_vec(), (aad.to_vec(), value.clone()));
        Ok(value)
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_crypto::{KeyType, SigningKey, generate_key};

    #[test]
    fn makes_once_per_wrapped_bytes_and_stays_bounded() {
        let cache = Unwrapped::<SigningKey>::default();
        let material = generate_key(KeyType::EcP256).unwrap();
        let mut parses = 0;
        for _ in 0..3 {
            let k = cache
                .get_or_make(b"aad", b"wrapped-1", || {
                    parses += 1;
                    SigningKey::from_material(KeyType::EcP256, &material)
                })
                .unwrap();
            assert_eq!(k.kind(), KeyType::EcP256);
        }
        assert_eq!(parses, 1);
        // A failed parse is not cached.
        let aes = generate_key(KeyType::Aes256).unwrap();
        assert!(
            cache
                .get_or_make(b"aad", b"bad", || SigningKey::from_material(KeyType::Aes256, &aes))
                .is_err()
        );
        assert_eq!(cache.len(), 1);
        for i in 0..CAPACITY + 1 {
            let w = format!("w{i}");
            cache
                .get_or_make(b"aad", w.as_bytes(), || {
                    SigningKey::from_material(KeyType::EcP256, &material)
                })
                .unwrap();
        }
        assert!(cache.len() <= CAPACITY);
    }

    #[test]
    fn the_same_bytes_under_another_aad_are_made_again() {
        let cache = Unwrapped::<u32>::default();
        let ok = |v: u32| move || Ok::<u32, ()>(v);
        assert_eq!(*cache.get_or_make(b"key-a/v1", b"wrapped", ok(1)).unwrap(), 1);
        // Bytes presented under another AAD (another key or credential) never get the first
        // entry's value: they are unwrapped again, which fails under the real domain key.
        assert!(cache.get_or_make(b"key-b/v1", b"wrapped", || Err::<u32, ()>(())).is_err());
        assert_eq!(*cache.get_or_make(b"key-b/v1", b"wrapped", ok(2)).unwrap(), 2);
        assert_eq!(*cache.get_or_make(b"key-b/v1", b"wrapped", ok(3)).unwrap(), 2);
        assert_eq!(*cache.get_or_make(b"key-b/v1", b"other", ok(4)).unwrap(), 4);
    }
}
