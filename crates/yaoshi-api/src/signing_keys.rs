//! Parsed signing keys of the data plane, by wrapped material: parsing a private key costs as much
//! as a signature for EC keys (the public point; for SM2 also Z_A), so AsymmetricSign keeps the
//! parsed key of each version it has signed with. The entry is found by the version's wrapped
//! material itself, so it can never outlive or mismatch the material it came from (a key version's
//! material never changes; any change would be another entry). Key state and usage are checked on
//! every request before the cache is consulted. Bounded: when full, it is emptied and refilled by
//! the hot keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use yaoshi_crypto::SigningKey;

/// Entries kept at most.
const CAPACITY: usize = 4096;

/// Parsed signing keys by wrapped material.
#[derive(Debug, Default)]
pub(crate) struct SigningKeys {
    keys: Mutex<HashMap<Vec<u8>, Arc<SigningKey>>>,
}

impl SigningKeys {
    /// The parsed key of `wrapped`, parsing it with `parse` on a miss.
    pub(crate) fn get_or_parse<E>(
        &self,
        wrapped: &[u8],
        parse: impl FnOnce() -> Result<SigningKey, E>,
    ) -> Result<Arc<SigningKey>, E> {
        if let Some(k) = self.lock().get(wrapped) {
            return Ok(k.clone());
        }
        let key = Arc::new(parse()?);
        let mut keys = self.lock();
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(wrapped.to_vec(), key.clone());
        Ok(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Arc<SigningKey>>> {
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yaoshi_crypto::{KeyType, generate_key};

    #[test]
    fn parses_once_per_material_and_stays_bounded() {
        let cache = SigningKeys::default();
        let material = generate_key(KeyType::EcP256).unwrap();
        let mut parses = 0;
        for _ in 0..3 {
            let k = cache
                .get_or_parse(b"wrapped-1", || {
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
                .get_or_parse(b"bad", || SigningKey::from_material(KeyType::Aes256, &aes))
                .is_err()
        );
        assert_eq!(cache.len(), 1);
        for i in 0..CAPACITY + 1 {
            let w = format!("w{i}");
            cache
                .get_or_parse(w.as_bytes(), || {
                    SigningKey::from_material(KeyType::EcP256, &material)
                })
                .unwrap();
        }
        assert!(cache.len() <= CAPACITY);
    }
}
