//! Certificates (the certificate actions, docs/API.md "Certificates"): a private key held by
//! the region, its PKCS#10 request, and, once uploaded, the CA's certificate and chain.
//!
//! Persisted: add fields only with a new type version.

use serde::{Deserialize, Serialize};

use crate::KeySpec;
use crate::key::wire_enum;

wire_enum!(
    /// A certificate's status. (Persisted by position: add new statuses at the end.)
    CertificateStatus {
        /// Created: the request waits for the CA's certificate (UploadCertificate).
        Pending => "PENDING",
        /// Uploaded and usable.
        Active => "ACTIVE",
        /// Disabled by UpdateCertificateStatus: neither signs nor decrypts nor verifies.
        Inactive => "INACTIVE",
        /// Revoked (final): only verifies.
        Revoked => "REVOKED",
    }
);

/// The key specs a certificate may have.
pub const CERTIFICATE_KEY_SPECS: [KeySpec; 3] = [KeySpec::Rsa2048, KeySpec::EcP256, KeySpec::EcSm2];

/// A certificate as the state keeps it. The private key is only ever stored wrapped under the
/// region's domain key (associated data [`CertificateMetadata::wrap_aad`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateMetadata {
    /// `CertificateId` (a UUID), unique in the region.
    pub certificate_id: String,
    /// `KeySpec`: one of [`CERTIFICATE_KEY_SPECS`].
    pub key_spec: KeySpec,
    /// The requested Subject DN (canonical RFC 4514 form).
    pub subject: String,
    /// The requested subject alternative names (DNS names).
    pub sans: Vec<String>,
    /// `ExportablePrivateKey`.
    pub exportable: bool,
    /// Status.
    pub status: CertificateStatus,
    /// The PEM PKCS#10 request made at creation.
    pub csr_pem: String,
    /// The uploaded certificate (PEM), once uploaded.
    pub certificate_pem: Option<String>,
    /// The uploaded chain (PEM blocks, issuer first), once uploaded.
    pub chain_pem: Option<String>,
    /// The private key material, wrapped under the domain key.
    pub wrapped_private_key: Vec<u8>,
    /// Creation time, Unix ms.
    pub creation_ms: i64,
    /// Last change, Unix ms.
    pub update_ms: i64,
}

impl CertificateMetadata {
    /// The associated data binding a certificate's wrapped private key to its id.
    pub fn wrap_aad(certificate_id: &str) -> Vec<u8> {
        format!("yaoshi-certificate-key\0{certificate_id}").into_bytes()
    }

    /// Whether the certificate may sign, decrypt and encrypt now (ACTIVE only).
    pub fn usable(&self) -> bool {
        self.status == CertificateStatus::Active
    }

    /// Whether the certificate may verify now (ACTIVE or REVOKED).
    pub fn may_verify(&self) -> bool {
        matches!(self.status, CertificateStatus::Active | CertificateStatus::Revoked)
    }
}
