//! Envelope encryption of secret values: each value is sealed with a fresh random 256-bit data
//! key (AES-256-GCM), and the data key is sealed as a symmetric blob ([`crate::blob`]) under the
//! secret's customer master key. Both layers bind the caller's `aad` (the secret name and version
//! id), so a sealed value moved to another secret or version does not open.

use yaoshi_model::{KeyMetadata, KeyVersion, SecretDataType, SecretMetadata, SecretVersion};
use zeroize::Zeroizing;

use crate::blob::{BlobHeader, open_blob_for, seal_blob_for};
use crate::gcm::{NONCE_LEN, TAG_LEN, open_in_place, seal_in_place};
use crate::{CryptoError, DomainKey, KeyMaterial, KeyType, random_bytes};

/// Length of a secret's data key (AES-256).
const DATA_KEY_LEN: usize = 32;

/// A secret value sealed under a data key, and the data key sealed under a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The data key as a blob under the master key version its header names.
    pub data_key_blob: Vec<u8>,
    /// `nonce ‖ AES-256-GCM(value) ‖ tag` under the data key.
    pub ciphertext: Vec<u8>,
}

/// Seals `value` under a fresh data key, itself sealed under the master key version `header`
/// names (`kind`, `material`), both bound to `aad`.
///
/// # Errors
///
/// As [`seal_blob_for`]: a master key that is not a symmetric cipher, or material of the wrong
/// length.
///
/// # Panics
///
/// Panics if the operating system cannot provide randomness.
pub fn seal_secret(
    kind: KeyType,
    material: &KeyMaterial,
    header: &BlobHeader,
    aad: &[u8],
    value: &[u8],
) -> Result<SealedSecret, CryptoError> {
    let data_key = random_bytes(DATA_KEY_LEN);
    let data_key_blob = seal_blob_for(kind, material, header, &data_key, aad)?;
    let nonce_bytes = random_bytes(NONCE_LEN);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&nonce_bytes);
    let mut buf = Zeroizing::new(value.to_vec());
    let tag = seal_in_place(&data_key, &nonce, aad, &mut buf)?;
    let mut ciphertext = Vec::with_capacity(NONCE_LEN + value.len() + TAG_LEN);
    ciphertext.extend_from_slice(&nonce);
    ciphertext.extend_from_slice(&buf);
    ciphertext.extend_from_slice(&tag);
    Ok(SealedSecret { data_key_blob, ciphertext })
}

/// Opens a value sealed by [`seal_secret`], given the master key version its data key blob names
/// and the same `aad`.
///
/// # Errors
///
/// [`CryptoError::AuthenticationFailed`] when the material, the `aad` or any byte is wrong;
/// [`CryptoError::MalformedBlob`] when the ciphertext is too short; as [`open_blob_for`] for the
/// data key blob.
pub fn open_secret(
    kind: KeyType,
    material: &KeyMaterial,
    sealed: &SealedSecret,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let data_key = open_blob_for(kind, material, &sealed.data_key_blob, aad)?;
    if data_key.len() != DATA_KEY_LEN || sealed.ciphertext.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::MalformedBlob);
    }
    let (nonce, rest) = sealed.ciphertext.split_at(NONCE_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut nonce_arr = [0u8; NONCE_LEN];
    nonce_arr.copy_from_slice(nonce);
    let mut tag_arr = [0u8; TAG_LEN];
    tag_arr.copy_from_slice(tag);
    let mut buf = Zeroizing::new(body.to_vec());
    open_in_place(&data_key, &nonce_arr, aad, &mut buf, &tag_arr)?;
    Ok(buf)
}

/// A new version `version_id` of secret `name` holding `value`: sealed under the primary version
/// (`key_version`, unwrapped `material`) of master key `key`, with its keyed digest under
/// `domain_key` (so apply can compare values without seeing them).
///
/// # Errors
///
/// As [`seal_secret`].
#[allow(clippy::too_many_arguments)]
pub fn seal_secret_version(
    domain_key: &DomainKey,
    key: &KeyMetadata,
    key_version: &KeyVersion,
    material: &KeyMaterial,
    name: &str,
    version_id: &str,
    data_type: SecretDataType,
    value: &[u8],
    now_ms: i64,
) -> Result<SecretVersion, CryptoError> {
    let aad = SecretMetadata::value_aad(name, version_id);
    let header = BlobHeader {
        key_id: key.key_id.to_string(),
        key_version_id: key_version.version_id.to_string(),
    };
    let sealed = seal_secret(KeyType::from(key.spec), material, &header, &aad, value)?;
    let digest = domain_key.material_digest(&aad, &KeyMaterial::from_bytes(value));
    Ok(SecretVersion {
        version_id: version_id.to_string(),
        creation_ms: now_ms,
        data_type,
        data_key_blob: sealed.data_key_blob,
        ciphertext: sealed.ciphertext,
        data_digest: digest,
    })
}

/// Opens the value of `version` of secret `name` with the material of the master key version its
/// data key blob names (`kind`, `material`).
///
/// # Errors
///
/// As [`open_secret`].
pub fn open_secret_version(
    kind: KeyType,
    material: &KeyMaterial,
    name: &str,
    version: &SecretVersion,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let sealed = SealedSecret {
        data_key_blob: version.data_key_blob.clone(),
        ciphertext: version.ciphertext.clone(),
    };
    open_secret(kind, material, &sealed, &SecretMetadata::value_aad(name, &version.version_id))
}

/// Length of the random passwords that rotation puts into secrets.
pub const ROTATED_PASSWORD_LEN: usize = 32;

/// The value a rotation gives a secret of `secret_type` whose current value is `current`: a
/// Generic secret becomes a fresh random password (every character class); a managed database
/// secret (`{"AccountName","AccountPassword"}`) keeps its account with a fresh password. `None`
/// when a managed value does not parse.
pub fn rotated_value(
    secret_type: yaoshi_model::SecretType,
    current: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let classes: Vec<Vec<u8>> =
        crate::PASSWORD_CLASSES.iter().map(|(_, c)| c.as_bytes().to_vec()).collect();
    let password = crate::random_password(&classes, ROTATED_PASSWORD_LEN, true);
    match secret_type {
        yaoshi_model::SecretType::Generic => Some(password),
        yaoshi_model::SecretType::Rds => {
            let value: serde_json::Value = serde_json::from_slice(current).ok()?;
            let account = value.get("AccountName")?.as_str()?;
            let password = String::from_utf8(password.to_vec()).ok()?;
            let next = serde_json::json!({"AccountName": account, "AccountPassword": password});
            Some(Zeroizing::new(next.to_string().into_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate_key;

    fn header() -> BlobHeader {
        BlobHeader { key_id: "k1".into(), key_version_id: "v1".into() }
    }

    #[test]
    fn a_value_opens_with_its_key_and_aad_only() {
        for kind in [KeyType::Aes256, KeyType::Sm4] {
            let material = generate_key(kind).unwrap();
            let sealed = seal_secret(kind, &material, &header(), b"s\0v1", b"pa55word").unwrap();
            assert!(!sealed.ciphertext.windows(8).any(|w| w == b"pa55word"));
            let opened = open_secret(kind, &material, &sealed, b"s\0v1").unwrap();
            assert_eq!(&opened[..], b"pa55word");
            assert!(open_secret(kind, &material, &sealed, b"s\0v2").is_err());
            let other = generate_key(kind).unwrap();
            assert!(open_secret(kind, &other, &sealed, b"s\0v1").is_err());
            let mut flipped = sealed.clone();
            let last = flipped.ciphertext.len() - 1;
            flipped.ciphertext[last] ^= 1;
            assert!(open_secret(kind, &material, &flipped, b"s\0v1").is_err());
            let mut short = sealed.clone();
            short.ciphertext.truncate(5);
            assert!(open_secret(kind, &material, &short, b"s\0v1").is_err());
        }
    }

    #[test]
    fn every_value_gets_its_own_data_key() {
        let material = generate_key(KeyType::Aes256).unwrap();
        let a = seal_secret(KeyType::Aes256, &material, &header(), b"a", b"same").unwrap();
        let b = seal_secret(KeyType::Aes256, &material, &header(), b"a", b"same").unwrap();
        assert_ne!(a.data_key_blob, b.data_key_blob);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
