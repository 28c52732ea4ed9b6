//! Where the data plane reads keys, aliases, credentials, access points, secrets and certificates
//! from.
//!
//! A node reads its own replica ([`StateReader`]); a crypto worker (`yaoshi worker`) reads a
//! [`KeyCache`] that [`run_feed`] fills from a node's watch stream (proto/worker.proto) and keeps
//! fresh. The API runs the same handlers over either, through the [`Replica`] trait.
//!
//! A cache that has not heard from its node for longer than its staleness bound reports itself
//! stale, and the API then refuses data-plane requests (`ServiceUnavailableTemporary`): a worker
//! fails closed rather than serve a key that may have been disabled meanwhile.

mod cache;

use yaoshi_model::{
    AccessPoint, Alias, CertificateMetadata, Credential, KeyId, KeyMetadata, KeyVersion,
    KeyVersionId, SecretMetadata, SecretVersion,
};
use yaoshi_store::StateReader;

pub use cache::{KeyCache, run_feed};

/// A failed read of the key source.
#[derive(Debug, thiserror::Error)]
#[error("key source read failed: {0}")]
pub struct ReplicaError(String);

/// Read access to the records the data plane and authentication need.
pub trait Replica: Send + Sync + std::fmt::Debug {
    /// A key by id.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn key(&self, key_id: &str) -> Result<Option<KeyMetadata>, ReplicaError>;
    /// A key version.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn key_version(
        &self,
        key_id: &KeyId,
        version_id: &KeyVersionId,
    ) -> Result<Option<KeyVersion>, ReplicaError>;
    /// An alias by name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn alias(&self, name: &str) -> Result<Option<Alias>, ReplicaError>;
    /// A credential by AccessKey id.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, ReplicaError>;
    /// An access point by name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn access_point(&self, name: &str) -> Result<Option<AccessPoint>, ReplicaError>;
    /// A secret by name.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn secret(&self, name: &str) -> Result<Option<SecretMetadata>, ReplicaError>;
    /// A secret version.
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn secret_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<SecretVersion>, ReplicaError>;
    /// A certificate by id (its private key wrapped).
    ///
    /// # Errors
    ///
    /// Fails on a storage error.
    fn certificate(
        &self,
        certificate_id: &str,
    ) -> Result<Option<CertificateMetadata>, ReplicaError>;
    /// A counter that moves whenever any access point changes: what was read from
    /// [`Replica::access_point`] at one value stays right until it moves.
    fn access_generation(&self) -> u64;
    /// Whether the source is fresh enough to serve the data plane.
    fn fresh(&self) -> bool;
}

fn err(e: impl std::fmt::Display) -> ReplicaError {
    ReplicaError(e.to_string())
}

impl Replica for StateReader {
    fn key(&self, key_id: &str) -> Result<Option<KeyMetadata>, ReplicaError> {
        StateReader::key(self, key_id).map_err(err)
    }

    fn key_version(
        &self,
        key_id: &KeyId,
        version_id: &KeyVersionId,
    ) -> Result<Option<KeyVersion>, ReplicaError> {
        StateReader::key_version(self, key_id, version_id).map_err(err)
    }

    fn alias(&self, name: &str) -> Result<Option<Alias>, ReplicaError> {
        StateReader::alias(self, name).map_err(err)
    }

    fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, ReplicaError> {
        StateReader::credential(self, access_key_id).map_err(err)
    }

    fn access_point(&self, name: &str) -> Result<Option<AccessPoint>, ReplicaError> {
        StateReader::access_point(self, name).map_err(err)
    }

    fn secret(&self, name: &str) -> Result<Option<SecretMetadata>, ReplicaError> {
        StateReader::secret(self, name).map_err(err)
    }

    fn secret_version(
        &self,
        name: &str,
        version_id: &str,
    ) -> Result<Option<SecretVersion>, ReplicaError> {
        StateReader::secret_version(self, name, version_id).map_err(err)
    }

    fn certificate(
        &self,
        certificate_id: &str,
    ) -> Result<Option<CertificateMetadata>, ReplicaError> {
        StateReader::certificate(self, certificate_id).map_err(err)
    }

    fn access_generation(&self) -> u64 {
        StateReader::access_generation(self)
    }

    /// The local replica is always usable: it is the node's own committed state.
    fn fresh(&self) -> bool {
        true
    }
}
