//! Secrets of the secrets manager: a secret's metadata with its stage labels, and its versions,
//! each value sealed under a data key that is itself sealed under the secret's master key
//! (`yaoshi_crypto::seal_secret`); apply never sees a value in clear.
//!
//! Persisted: add fields only with a new type version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::KeyId;
use crate::key::wire_enum;

/// The stage of the version GetSecretValue returns by default.
pub const STAGE_CURRENT: &str = "ACSCurrent";
/// The stage of the version that was current before.
pub const STAGE_PREVIOUS: &str = "ACSPrevious";
/// The stage of a rotation's new version until the rotation backend has confirmed it
/// (managed secrets only).
pub const STAGE_PENDING: &str = "ACSPending";

/// Shortest automatic rotation period of a secret, seconds (6 hours).
pub const MIN_SECRET_ROTATION_S: u64 = 6 * 3600;
/// Longest automatic rotation period of a secret, seconds (365 days).
pub const MAX_SECRET_ROTATION_S: u64 = 365 * 86_400;
/// Shortest recovery window of DeleteSecret, days.
pub const MIN_RECOVERY_DAYS: u32 = 7;
/// Longest recovery window of DeleteSecret, days (also the default).
pub const MAX_RECOVERY_DAYS: u32 = 30;
/// At most this many versions without a stage are kept; older ones are deleted by apply.
pub const MAX_DEPRECATED_VERSIONS: usize = 100;
/// Largest secret value, bytes (as given on the wire: the text, or the Base64 of binary data).
pub const MAX_SECRET_DATA_BYTES: usize = 64 * 1024;
/// At most this many stages per version.
pub const MAX_STAGES_PER_VERSION: usize = 20;

wire_enum!(
    /// What kind of secret. (Persisted by position: add new types at the end.)
    SecretType {
        /// A value the user manages (rotated to a random password when rotation is on).
        Generic => "Generic",
        /// A managed database account: rotation changes the real password first
        /// (PostgreSQL, docs/API.md "Secrets").
        Rds => "Rds",
    }
);

wire_enum!(
    /// How a secret value is given and returned. (Persisted by position.)
    SecretDataType {
        /// Text, returned as given.
        Text => "text",
        /// Binary data, given and returned as Base64 text.
        Binary => "binary",
    }
);

/// A secret's metadata and which version carries each stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMetadata {
    /// `SecretName`, unique in the region.
    pub name: String,
    /// `SecretType`.
    pub secret_type: SecretType,
    /// `Description`.
    pub description: String,
    /// The master key that seals the versions' data keys.
    pub encryption_key_id: KeyId,
    /// Creation time, Unix ms.
    pub creation_ms: i64,
    /// Last change of metadata or versions, Unix ms.
    pub update_ms: i64,
    /// `ExtendedConfig` JSON text (managed secrets).
    pub extended_config: Option<String>,
    /// Automatic rotation period in seconds (`None`: off).
    pub rotation_interval_s: Option<u64>,
    /// Last completed rotation, Unix ms.
    pub last_rotation_ms: Option<i64>,
    /// When automatic rotation is next due, Unix ms.
    pub next_rotation_ms: Option<i64>,
    /// End of the recovery window after DeleteSecret, Unix ms (`None`: not being deleted).
    pub planned_delete_ms: Option<i64>,
    /// Stage → version id: at most one version per stage, by construction.
    pub stages: BTreeMap<String, String>,
}

impl SecretMetadata {
    /// Whether `name` is a valid SecretName: 1–64 of `[A-Za-z0-9_/+=.@-]`, not starting `acs/`.
    pub fn is_valid_name(name: &str) -> bool {
        (1..=64).contains(&name.len())
            && !name.starts_with("acs/")
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_/+=.@-".contains(&b))
    }

    /// The stages of a version, in name order.
    pub fn stages_of(&self, version_id: &str) -> Vec<String> {
        self.stages.iter().filter(|(_, v)| *v == version_id).map(|(s, _)| s.clone()).collect()
    }

    /// The version carrying `stage`.
    pub fn version_at(&self, stage: &str) -> Option<&str> {
        self.stages.get(stage).map(String::as_str)
    }

    /// Whether automatic rotation is on.
    pub fn rotates(&self) -> bool {
        self.rotation_interval_s.is_some()
    }

    /// The associated data binding a version's value to this secret and version.
    pub fn value_aad(name: &str, version_id: &str) -> Vec<u8> {
        format!("yaoshi-secret\0{name}\0{version_id}").into_bytes()
    }
}

/// One version of a secret: its value sealed (envelope) and a keyed digest of the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretVersion {
    /// `VersionId`, unique within the secret.
    pub version_id: String,
    /// Creation time, Unix ms.
    pub creation_ms: i64,
    /// `SecretDataType`.
    pub data_type: SecretDataType,
    /// The data key, sealed under the master key (a symmetric blob naming the key version).
    pub data_key_blob: Vec<u8>,
    /// The value sealed under the data key.
    pub ciphertext: Vec<u8>,
    /// Keyed digest of the value (domain key; `DomainKey::material_digest`), so apply can tell
    /// a repeated PutSecretValue of the same data without the value.
    pub data_digest: Vec<u8>,
}

/// A secret with its versions, as the data plane reads it.
pub type SecretRecord = (SecretMetadata, Vec<SecretVersion>);

/// Parses a secret rotation interval (`integer[d|h|m|s]`), 6 hours to 365 days, in seconds.
pub fn parse_secret_rotation_interval(s: &str) -> Option<u64> {
    crate::key::parse_interval_seconds(s)
        .filter(|s| (MIN_SECRET_ROTATION_S..=MAX_SECRET_ROTATION_S).contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "db/prod/pass", "A-Z_0.9+=@", &"x".repeat(64)] {
            assert!(SecretMetadata::is_valid_name(ok), "{ok}");
        }
        for bad in ["", "acs/ram", "has space", "中文", "a#b", &"x".repeat(65)] {
            assert!(!SecretMetadata::is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn rotation_intervals() {
        assert_eq!(parse_secret_rotation_interval("6h"), Some(21_600));
        assert_eq!(parse_secret_rotation_interval("365d"), Some(31_536_000));
        assert_eq!(parse_secret_rotation_interval("604800s"), Some(604_800));
        for bad in ["5h", "366d", "", "d", "7x", "-1d"] {
            assert_eq!(parse_secret_rotation_interval(bad), None, "{bad}");
        }
    }

    #[test]
    fn stages_are_listed_per_version() {
        let mut m = SecretMetadata {
            name: "s".into(),
            secret_type: SecretType::Generic,
            description: String::new(),
            encryption_key_id: KeyId::new("k"),
            creation_ms: 0,
            update_ms: 0,
            extended_config: None,
            rotation_interval_s: None,
            last_rotation_ms: None,
            next_rotation_ms: None,
            planned_delete_ms: None,
            stages: BTreeMap::new(),
        };
        m.stages.insert(STAGE_CURRENT.into(), "v2".into());
        m.stages.insert(STAGE_PREVIOUS.into(), "v1".into());
        m.stages.insert("Custom".into(), "v2".into());
        assert_eq!(m.stages_of("v2"), vec![STAGE_CURRENT.to_string(), "Custom".to_string()]);
        assert_eq!(m.version_at(STAGE_PREVIOUS), Some("v1"));
        assert!(m.stages_of("v3").is_empty());
    }
}
