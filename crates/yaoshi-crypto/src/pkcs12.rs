//! PKCS#12 import and export of a certificate with its private key (ImportCertificate,
//! ExportCertificate), and export of the key alone as password-encrypted PKCS#8 PEM.
//!
//! Files are read and written with `p12-keystore`:
//!
//! - Import reads what OpenSSL 3, current JDKs and Python `cryptography` write (PBES2 with
//!   PBKDF2 and AES-CBC, HMAC-SHA-1/-2 MAC) and the legacy 3DES/RC2 schemes of RFC 7292 appendix
//!   C (`openssl pkcs12 -legacy`, old `keytool`). Iteration counts above 1,000,000 are refused by
//!   the reader, so a file cannot buy unbounded CPU.
//! - Export writes PBES2/PBKDF2-HMAC-SHA-256/AES-256-CBC with an HMAC-SHA-256 MAC,
//!   [`EXPORT_ITERATIONS`] iterations, which `openssl pkcs12` and `keytool` read.
//! - The PEM export is an `ENCRYPTED PRIVATE KEY` (PKCS#8 `EncryptedPrivateKeyInfo`, the same
//!   PBES2 scheme), never a clear key.
//!
//! The private key of a file must be RSA-2048, EC P-256 or SM2 (`id-ecPublicKey` with the curve
//! 1.2.156.10197.1.301), the key specs of certificates. It becomes key material in the encoding
//! of [`generate_key`](crate::generate_key) (RSA: PKCS#8 DER; EC: the 32-byte scalar). The
//! file's certificate and chain then pass the same checks as an upload ([`check_upload`]).

use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy, PrivateKey, PrivateKeyChain};
use pkcs8::der::pem::LineEnding;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, PrivateKeyInfoRef};
use rsa::traits::PublicKeyParts;
use x509_cert::Certificate;
use x509_cert::der::{Decode, DecodePem, Encode};

use crate::cert::{CertError, CheckedUpload, MAX_CHAIN_LEN, check_upload};
use crate::{CryptoError, KeyMaterial, KeyType, random_bytes};

/// The largest PKCS#12 file accepted, in bytes.
pub const MAX_PKCS12_BYTES: usize = 64 * 1024;
/// The shortest password an export takes, in characters.
pub const MIN_EXPORT_PASSWORD_CHARS: usize = 8;
/// The PBKDF2 iterations of an export (and of its MAC).
pub const EXPORT_ITERATIONS: u32 = 100_000;

const OID_RSA: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_SM2: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.156.10197.1.301");

/// Why a PKCS#12 file was refused. The texts hold no key material and no password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Pkcs12Error {
    /// The file is not PKCS#12, the password is wrong, or its integrity check fails (the reader
    /// cannot tell these apart, and neither do we).
    #[error("the PKCS#12 file does not open with this password")]
    Unreadable,
    /// The file holds no private key with a certificate.
    #[error("the PKCS#12 file holds no private key with its certificate")]
    NoKey,
    /// The private key is not RSA-2048, EC P-256 or SM2.
    #[error("the PKCS#12 private key is not RSA_2048, EC_P256 or EC_SM2")]
    KeySpec,
    /// The password is too short or too long for an export.
    #[error("the password must have 8 to 128 characters")]
    Password,
    /// The certificate or chain fails the upload checks.
    #[error(transparent)]
    Certificate(#[from] CertError),
}

/// What a PKCS#12 file held, checked.
#[derive(Debug)]
pub struct ImportedCertificate {
    /// The private key's type.
    pub kind: KeyType,
    /// The private key as key material.
    pub material: KeyMaterial,
    /// The certificate and chain, as an upload would store them.
    pub upload: CheckedUpload,
}

/// Opens a PKCS#12 file with `password` and checks its key and certificates at `now_ms` (module
/// documentation).
///
/// # Errors
///
/// [`Pkcs12Error`] naming what is wrong.
pub fn import_pkcs12(
    data: &[u8],
    password: &str,
    now_ms: i64,
) -> Result<ImportedCertificate, Pkcs12Error> {
    if data.len() > MAX_PKCS12_BYTES {
        return Err(Pkcs12Error::Unreadable);
    }
    let store = KeyStore::from_pkcs12(data, password, Pkcs12ImportPolicy::Strict)
        .map_err(|_| Pkcs12Error::Unreadable)?;
    let (_, chain) = store.private_key_chain().ok_or(Pkcs12Error::NoKey)?;
    let certs = chain.certs();
    let (leaf, issuers) = certs.split_first().ok_or(Pkcs12Error::NoKey)?;
    if issuers.len() > MAX_CHAIN_LEN {
        return Err(CertError::Chain.into());
    }
    let (kind, material) = key_material(chain.key().as_der())?;
    let pem = |der: &[u8]| -> Result<String, Pkcs12Error> {
        let cert = Certificate::from_der(der).map_err(|_| CertError::Certificate)?;
        Ok(x509_cert::der::EncodePem::to_pem(&cert, LineEnding::LF)
            .map_err(|_| CertError::Certificate)?)
    };
    let leaf_pem = pem(leaf.as_der())?;
    let chain_pem =
        issuers.iter().map(|c| pem(c.as_der())).collect::<Result<Vec<_>, _>>()?.concat();
    let upload = check_upload(kind, &material, &leaf_pem, Some(&chain_pem), now_ms)?;
    Ok(ImportedCertificate { kind, material, upload })
}

/// The key type and material of a PKCS#8 `PrivateKeyInfo`.
fn key_material(der: &[u8]) -> Result<(KeyType, KeyMaterial), Pkcs12Error> {
    let info = PrivateKeyInfoRef::try_from(der).map_err(|_| Pkcs12Error::KeySpec)?;
    let curve = info.algorithm.parameters_oid().ok();
    match (info.algorithm.oid, curve) {
        (OID_RSA, _) => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|_| Pkcs12Error::KeySpec)?;
            if key.size() != 256 {
                return Err(Pkcs12Error::KeySpec);
            }
            let der = key.to_pkcs8_der().map_err(|_| Pkcs12Error::KeySpec)?;
            Ok((KeyType::Rsa2048, KeyMaterial::from_bytes(der.as_bytes())))
        }
        (OID_EC, Some(OID_P256)) => {
            let key = p256::SecretKey::from_pkcs8_der(der).map_err(|_| Pkcs12Error::KeySpec)?;
            Ok((KeyType::EcP256, KeyMaterial::from_bytes(&key.to_bytes())))
        }
        (OID_EC, Some(OID_SM2)) => {
            let key = sm2::SecretKey::from_pkcs8_der(der).map_err(|_| Pkcs12Error::KeySpec)?;
            Ok((KeyType::EcSm2, KeyMaterial::from_bytes(&key.to_bytes())))
        }
        _ => Err(Pkcs12Error::KeySpec),
    }
}

/// The PKCS#8 `PrivateKeyInfo` DER of certificate key material.
fn private_key_info(
    kind: KeyType,
    material: &KeyMaterial,
) -> Result<pkcs8::SecretDocument, CryptoError> {
    let bad = |_| CryptoError::InvalidKeyMaterial;
    match kind {
        KeyType::Rsa2048 => crate::keygen::rsa_private_key(material)?.to_pkcs8_der().map_err(bad),
        KeyType::EcP256 => p256::SecretKey::from_slice(material.as_bytes())
            .map_err(|_| CryptoError::InvalidKeyMaterial)?
            .to_pkcs8_der()
            .map_err(bad),
        KeyType::EcSm2 => sm2::SecretKey::from_slice(material.as_bytes())
            .map_err(|_| CryptoError::InvalidKeyMaterial)?
            .to_pkcs8_der()
            .map_err(bad),
        _ => Err(CryptoError::NotAsymmetric),
    }
}

/// Checks an export password: [`MIN_EXPORT_PASSWORD_CHARS`] to 128 characters (the exports check
/// it too; a caller may check it before it does anything else).
///
/// # Errors
///
/// [`Pkcs12Error::Password`] otherwise.
pub fn check_password(password: &str) -> Result<(), Pkcs12Error> {
    let chars = password.chars().count();
    if (MIN_EXPORT_PASSWORD_CHARS..=128).contains(&chars) {
        Ok(())
    } else {
        Err(Pkcs12Error::Password)
    }
}

/// A PKCS#12 file of the key in `material` with its certificate and chain (PEM, issuer first),
/// encrypted and authenticated under `password` (module documentation); `alias` is the
/// friendly name of the entry.
///
/// # Errors
///
/// [`Pkcs12Error::Password`], [`Pkcs12Error::Certificate`] for a stored certificate that does
/// not parse, or [`CertError::Crypto`] for invalid material.
pub fn export_pkcs12(
    kind: KeyType,
    material: &KeyMaterial,
    certificate_pem: &str,
    chain_pem: Option<&str>,
    password: &str,
    alias: &str,
) -> Result<Vec<u8>, Pkcs12Error> {
    check_password(password)?;
    let der = |c: &Certificate| c.to_der().map_err(|_| CertError::Certificate);
    let leaf =
        Certificate::from_pem(certificate_pem.as_bytes()).map_err(|_| CertError::Certificate)?;
    let mut certs = vec![der(&leaf)?];
    if let Some(chain) = chain_pem.map(str::trim).filter(|c| !c.is_empty()) {
        for c in Certificate::load_pem_chain(chain.as_bytes()).map_err(|_| CertError::Chain)? {
            certs.push(der(&c)?);
        }
    }
    let certs = certs
        .iter()
        .map(|d| p12_keystore::Certificate::from_der(d).map_err(|_| CertError::Certificate))
        .collect::<Result<Vec<_>, _>>()?;
    let info = private_key_info(kind, material).map_err(CertError::Crypto)?;
    let key = PrivateKey::from_der(info.as_bytes())
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))?;
    let mut store = KeyStore::new();
    let local_key_id = random_bytes(20).to_vec();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, key, certs)),
    );
    store
        .writer(password)
        .encryption_iterations(EXPORT_ITERATIONS)
        .mac_iterations(EXPORT_ITERATIONS)
        .write()
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial).into())
}

/// The key in `material` as a PEM `ENCRYPTED PRIVATE KEY` under `password` (module
/// documentation).
///
/// # Errors
///
/// [`Pkcs12Error::Password`], or [`CertError::Crypto`] for invalid material.
pub fn export_private_key_pem(
    kind: KeyType,
    material: &KeyMaterial,
    password: &str,
) -> Result<String, Pkcs12Error> {
    check_password(password)?;
    let info = private_key_info(kind, material).map_err(CertError::Crypto)?;
    let info = PrivateKeyInfoRef::try_from(info.as_bytes())
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))?;
    let salt = random_bytes(16);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&random_bytes(16));
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
        EXPORT_ITERATIONS,
        &salt,
        iv,
    )
    .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))?;
    let encrypted = info
        .encrypt_with_params(params, password)
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))?;
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))?;
    Ok(pem.to_string())
}
