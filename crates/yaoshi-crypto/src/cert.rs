//! X.509 for the certificate actions: the PKCS#10 request (CSR) of a key held here
//! (CreateCertificate), and the checks and fields of an uploaded certificate and its chain
//! (UploadCertificate, DescribeCertificate).
//!
//! Requests and certificates are built and parsed with `x509-cert` types; the request is signed
//! with this crate's own signing ([`sign_digest`](crate::sign_digest)):
//!
//! | key | request signature | OID |
//! |---|---|---|
//! | RSA_2048 | sha256WithRSAEncryption (PKCS#1 v1.5) | 1.2.840.113549.1.1.11, NULL parameters |
//! | EC_P256 | ecdsa-with-SHA256 | 1.2.840.10045.4.3.2 |
//! | EC_SM2 | SM2-with-SM3, e = SM3(Z_A ‖ TBS), user id `1234567812345678` (GB/T 32918) | 1.2.156.10197.1.501 |
//!
//! A subject is an RFC 4514 DN (`CN=…,OU=…,O=…,C=CN`) with CN, C, O and OU required and ST, L
//! allowed; C is a two-letter ISO 3166 code (PrintableString), the other values are UTF8String
//! (non-ASCII allowed), 1–64 characters each. Subject alternative names are DNS names (at most
//! [`MAX_SANS`]), carried in the request's extensionRequest attribute.

use std::str::FromStr;

use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::der::asn1::{BitString, Ia5String, OctetString, SetOfVec};
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem, pem::LineEnding};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{SubjectAltName, SubjectKeyIdentifier};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::{CryptoError, KeyMaterial, KeyType, SignAlgorithm, sign_digest, sm2_digest};

/// The most subject alternative names a request may carry.
pub const MAX_SANS: usize = 10;
/// The longest value of one DN attribute, in characters (RFC 5280 ub-common-name).
pub const MAX_DN_VALUE_CHARS: usize = 64;
/// The largest certificate or chain accepted, in bytes of PEM.
pub const MAX_PEM_BYTES: usize = 64 * 1024;
/// The most certificates a chain may hold.
pub const MAX_CHAIN_LEN: usize = 10;

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_C: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
const OID_L: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.7");
const OID_ST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_OU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_SM2_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");

/// Why a subject, request or certificate was refused. The texts hold no key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// The Subject DN does not parse or breaks a rule (the text says which).
    #[error("Subject: {0}")]
    Subject(&'static str),
    /// A subject alternative name is not a DNS name, or there are too many.
    #[error("SubjectAlternativeNames: {0}")]
    SubjectAlternativeNames(&'static str),
    /// The certificate is not one PEM X.509 certificate.
    #[error("Certificate does not parse as one PEM X.509 certificate")]
    Certificate,
    /// The chain is not a sequence of PEM X.509 certificates.
    #[error("CertificateChain does not parse as PEM X.509 certificates")]
    Chain,
    /// The certificate's public key is not the held key's.
    #[error("the certificate's public key does not match the certificate's key")]
    KeyMismatch,
    /// The chain is not in order: each certificate must be the issuer of the one before it.
    #[error("CertificateChain is not in order: certificate {0} did not issue the one before it")]
    ChainOrder(usize),
    /// The certificate's validity has ended.
    #[error("the certificate expired")]
    Expired,
    /// A cryptographic failure with the held key.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Parses and checks a Subject DN (module documentation) and returns it in its canonical RFC
/// 4514 form.
///
/// # Errors
///
/// [`CertError::Subject`] naming the broken rule.
pub fn parse_subject(dn: &str) -> Result<Name, CertError> {
    if dn.trim().is_empty() {
        return Err(CertError::Subject("empty"));
    }
    let name = Name::from_str(dn).map_err(|_| CertError::Subject("not an RFC 4514 DN"))?;
    let mut seen = Vec::new();
    for atv in name.iter() {
        let allowed = [OID_CN, OID_C, OID_O, OID_OU, OID_ST, OID_L];
        if !allowed.contains(&atv.oid) {
            return Err(CertError::Subject("only CN, C, O, OU, ST and L are allowed"));
        }
        if seen.contains(&atv.oid) {
            return Err(CertError::Subject("an attribute appears twice"));
        }
        seen.push(atv.oid);
        let value = std::str::from_utf8(atv.value.value())
            .map_err(|_| CertError::Subject("a value is not UTF-8"))?;
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_DN_VALUE_CHARS {
            return Err(CertError::Subject("a value is empty or longer than 64 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(CertError::Subject("a value holds a control character"));
        }
        if atv.oid == OID_C && !(value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(CertError::Subject("C must be a two-letter ISO 3166 code such as CN"));
        }
    }
    for (oid, what) in [
        (OID_CN, "CN is required"),
        (OID_C, "C is required"),
        (OID_O, "O is required"),
        (OID_OU, "OU is required"),
    ] {
        if !seen.contains(&oid) {
            return Err(CertError::Subject(what));
        }
    }
    Ok(name)
}

/// Checks subject alternative names: at most [`MAX_SANS`] DNS names (labels of letters, digits
/// and hyphens, a leading `*.` wildcard allowed, 253 characters at most), no duplicates.
///
/// # Errors
///
/// [`CertError::SubjectAlternativeNames`].
pub fn check_sans(sans: &[String]) -> Result<(), CertError> {
    if sans.len() > MAX_SANS {
        return Err(CertError::SubjectAlternativeNames("at most 10 names"));
    }
    for (i, san) in sans.iter().enumerate() {
        if !is_dns_name(san) {
            return Err(CertError::SubjectAlternativeNames("not a DNS name"));
        }
        if sans[..i].iter().any(|s| s.eq_ignore_ascii_case(san)) {
            return Err(CertError::SubjectAlternativeNames("a name appears twice"));
        }
    }
    Ok(())
}

fn is_dns_name(name: &str) -> bool {
    let host = name.strip_prefix("*.").unwrap_or(name);
    !host.is_empty()
        && name.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The signature algorithm a certificate's key signs its request with.
fn request_algorithm(
    kind: KeyType,
) -> Result<(AlgorithmIdentifierOwned, SignAlgorithm), CertError> {
    let (oid, alg) = match kind {
        KeyType::Rsa2048 | KeyType::Rsa3072 => (OID_SHA256_RSA, SignAlgorithm::RsaPkcs1Sha256),
        KeyType::EcP256 => (OID_ECDSA_SHA256, SignAlgorithm::EcdsaSha256),
        KeyType::EcSm2 => (OID_SM2_SM3, SignAlgorithm::Sm2Dsa),
        _ => return Err(CryptoError::UnsupportedAlgorithm.into()),
    };
    // RSA signature algorithms carry explicit NULL parameters (RFC 4055), ECDSA and SM2 none.
    let parameters = match alg {
        SignAlgorithm::RsaPkcs1Sha256 => Some(x509_cert::der::asn1::Null.into()),
        _ => None,
    };
    Ok((AlgorithmIdentifierOwned { oid, parameters }, alg))
}

/// The DER SubjectPublicKeyInfo of the held key.
fn public_key_info(
    kind: KeyType,
    material: &KeyMaterial,
) -> Result<SubjectPublicKeyInfoOwned, CertError> {
    let pem = crate::public_key_pem(kind, material)?;
    SubjectPublicKeyInfoOwned::from_pem(pem.as_bytes())
        .map_err(|_| CertError::Crypto(CryptoError::InvalidKeyMaterial))
}

/// A PEM PKCS#10 request for the key in `material`, with `subject` (checked by
/// [`parse_subject`]) and `sans` (checked by [`check_sans`]), signed as the module documentation
/// says.
///
/// # Errors
///
/// [`CertError::Subject`], [`CertError::SubjectAlternativeNames`], or [`CertError::Crypto`] for
/// a key type without certificates or invalid material.
pub fn build_csr_pem(
    kind: KeyType,
    material: &KeyMaterial,
    subject: &str,
    sans: &[String],
) -> Result<String, CertError> {
    let subject = parse_subject(subject)?;
    check_sans(sans)?;
    let (algorithm, sign_alg) = request_algorithm(kind)?;
    let mut attributes = SetOfVec::new();
    if !sans.is_empty() {
        let names = sans
            .iter()
            .map(|s| Ia5String::new(s).map(GeneralName::DnsName))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| CertError::SubjectAlternativeNames("not a DNS name"))?;
        let san = SubjectAltName(names).to_der().map_err(|_| internal())?;
        let extension = Extension {
            extn_id: <SubjectAltName as x509_cert::der::oid::AssociatedOid>::OID,
            critical: false,
            extn_value: OctetString::new(san).map_err(|_| internal())?,
        };
        let attribute =
            Attribute::try_from(ExtensionReq(vec![extension])).map_err(|_| internal())?;
        attributes.insert(attribute).map_err(|_| internal())?;
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key: public_key_info(kind, material)?,
        attributes,
    };
    let tbs = info.to_der().map_err(|_| internal())?;
    let digest = match sign_alg {
        SignAlgorithm::Sm2Dsa => sm2_digest(material, &tbs)?,
        _ => crate::sha256(&tbs),
    };
    let signature = sign_digest(kind, sign_alg, material, &digest)?;
    let request = CertReq {
        info,
        algorithm,
        signature: BitString::from_bytes(&signature).map_err(|_| internal())?,
    };
    request.to_pem(LineEnding::LF).map_err(|_| internal())
}

fn internal() -> CertError {
    CertError::Crypto(CryptoError::OperationFailed)
}

/// What DescribeCertificate shows of an uploaded certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFields {
    /// Issuer DN (RFC 4514).
    pub issuer: String,
    /// Subject DN (RFC 4514).
    pub subject: String,
    /// Serial number, lowercase hex without leading zero bytes.
    pub serial: String,
    /// Start of validity, Unix milliseconds.
    pub not_before_ms: i64,
    /// End of validity, Unix milliseconds.
    pub not_after_ms: i64,
    /// `RSA2048-SHA256`, `ECDSA-SHA256`, `SM2-SM3`, or the OID of another algorithm.
    pub signature_algorithm: String,
    /// DNS names (and other names as text) of the subjectAltName extension.
    pub sans: Vec<String>,
    /// The subjectKeyIdentifier extension, or SHA-1 of the public key bits (RFC 5280 method 1):
    /// uppercase hex bytes separated by spaces, as the reference shows it.
    pub subject_key_identifier: String,
}

/// An uploaded certificate and chain that passed [`check_upload`], normalized to PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    /// The certificate, re-encoded as PEM.
    pub certificate_pem: String,
    /// The chain, re-encoded as PEM blocks in order (empty when none was given).
    pub chain_pem: String,
    /// Its fields.
    pub fields: CertificateFields,
}

fn one_certificate(pem: &str) -> Result<Certificate, CertError> {
    if pem.len() > MAX_PEM_BYTES {
        return Err(CertError::Certificate);
    }
    let all =
        Certificate::load_pem_chain(pem.trim().as_bytes()).map_err(|_| CertError::Certificate)?;
    match <[Certificate; 1]>::try_from(all) {
        Ok([cert]) => Ok(cert),
        Err(_) => Err(CertError::Certificate),
    }
}

fn time_ms(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_millis()).unwrap_or(i64::MAX)
}

/// The fields of `cert`.
pub fn certificate_fields(cert: &Certificate) -> CertificateFields {
    let tbs = cert.tbs_certificate();
    let signature_algorithm = match cert.signature_algorithm().oid {
        OID_SHA256_RSA => "RSA2048-SHA256".to_string(),
        OID_ECDSA_SHA256 => "ECDSA-SHA256".to_string(),
        OID_SM2_SM3 => "SM2-SM3".to_string(),
        other => other.to_string(),
    };
    let sans = match tbs.get_extension::<SubjectAltName>() {
        Ok(Some((_, san))) => san
            .0
            .iter()
            .map(|n| match n {
                GeneralName::DnsName(s) => s.to_string(),
                GeneralName::Rfc822Name(s) | GeneralName::UniformResourceIdentifier(s) => {
                    s.to_string()
                }
                GeneralName::IpAddress(ip) => ip_text(ip.as_bytes()),
                other => format!("{other:?}"),
            })
            .collect(),
        _ => Vec::new(),
    };
    let key_bits = tbs.subject_public_key_info().subject_public_key.raw_bytes();
    let ski = match tbs.get_extension::<SubjectKeyIdentifier>() {
        Ok(Some((_, ski))) => ski.0.as_bytes().to_vec(),
        _ => {
            use sha1::Digest;
            sha1::Sha1::digest(key_bits).to_vec()
        }
    };
    let serial = tbs.serial_number().as_bytes();
    let serial = serial.iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>();
    CertificateFields {
        issuer: tbs.issuer().to_string(),
        subject: tbs.subject().to_string(),
        serial: if serial.is_empty() { "0".to_string() } else { hex::encode(serial) },
        not_before_ms: time_ms(&tbs.validity().not_before),
        not_after_ms: time_ms(&tbs.validity().not_after),
        signature_algorithm,
        sans,
        subject_key_identifier: ski
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap_or_default()).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).unwrap_or_default()).to_string(),
        _ => hex::encode(bytes),
    }
}

/// Checks an upload for the key in `material` at `now_ms`: `certificate_pem` must be one PEM
/// certificate whose public key is the held key's and whose validity has not ended;
/// `chain_pem`, when given, PEM certificates in order (each the issuer of the one before it, by
/// name, starting with the certificate's issuer).
///
/// # Errors
///
/// [`CertError::Certificate`], [`CertError::Chain`], [`CertError::KeyMismatch`],
/// [`CertError::ChainOrder`], [`CertError::Expired`], or [`CertError::Crypto`] for invalid held
/// material.
pub fn check_upload(
    kind: KeyType,
    material: &KeyMaterial,
    certificate_pem: &str,
    chain_pem: Option<&str>,
    now_ms: i64,
) -> Result<CheckedUpload, CertError> {
    let cert = one_certificate(certificate_pem)?;
    let held = public_key_info(kind, material)?;
    let theirs = &cert.tbs_certificate().subject_public_key_info();
    if theirs.subject_public_key != held.subject_public_key {
        return Err(CertError::KeyMismatch);
    }
    let fields = certificate_fields(&cert);
    if fields.not_after_ms < now_ms {
        return Err(CertError::Expired);
    }
    let chain = match chain_pem.map(str::trim).filter(|c| !c.is_empty()) {
        None => Vec::new(),
        Some(c) if c.len() > MAX_PEM_BYTES => return Err(CertError::Chain),
        Some(c) => Certificate::load_pem_chain(c.as_bytes()).map_err(|_| CertError::Chain)?,
    };
    if chain.len() > MAX_CHAIN_LEN {
        return Err(CertError::Chain);
    }
    let mut child = &cert;
    for (i, issuer) in chain.iter().enumerate() {
        if issuer.tbs_certificate().subject() != child.tbs_certificate().issuer() {
            return Err(CertError::ChainOrder(i + 1));
        }
        child = issuer;
    }
    let pem = |c: &Certificate| c.to_pem(LineEnding::LF).map_err(|_| internal());
    let chain_pem = chain.iter().map(pem).collect::<Result<Vec<_>, _>>()?.concat();
    Ok(CheckedUpload { certificate_pem: pem(&cert)?, chain_pem, fields })
}

/// The fields of a stored (already checked) certificate PEM, `None` if it does not parse.
pub fn stored_certificate_fields(certificate_pem: &str) -> Option<CertificateFields> {
    one_certificate(certificate_pem).ok().map(|c| certificate_fields(&c))
}

/// Parses a PEM request (for tests and checks of this crate's own output).
///
/// # Errors
///
/// [`CertError::Certificate`] if it does not parse.
pub fn parse_csr(pem: &str) -> Result<CertReq, CertError> {
    CertReq::from_pem(pem.as_bytes()).map_err(|_| CertError::Certificate)
}

/// DER of a parsed request's info (what its signature covers).
pub fn csr_signed_bytes(csr: &CertReq) -> Vec<u8> {
    csr.info.to_der().unwrap_or_default()
}

/// Decodes DER of one certificate (the fuzz target's entry point).
///
/// # Errors
///
/// [`CertError::Certificate`].
pub fn parse_certificate_der(der: &[u8]) -> Result<CertificateFields, CertError> {
    Certificate::from_der(der).map(|c| certificate_fields(&c)).map_err(|_| CertError::Certificate)
}
