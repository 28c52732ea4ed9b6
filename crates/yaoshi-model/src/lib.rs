//! Domain types of Yaoshi: ids, keys, secrets, certificates, credentials, the replicated
//! `Command`, audit events and the one table of API error codes; [`fixtures`] builds valid values for tests and benchmarks.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and draws no randomness.

pub mod audit;
pub mod certificate;
pub mod command;
pub mod credential;
pub mod error_code;
pub mod fixtures;
pub mod ids;
pub mod key;
pub mod policy;
pub mod secret;
pub mod tag;

pub use audit::{AuditEvent, AuditOutcome};
pub use certificate::{CERTIFICATE_KEY_SPECS, CertificateMetadata, CertificateStatus};
pub use command::{
    Command, CommandEnvelope, CommandMeta, CommandOutput, CommandResponse, Proposal,
    ProposalResponse,
};
pub use credential::{AccessPoint, Credential, CredentialV1, RetiringSecret};
pub use error_code::{ApiError, ErrorCode};
pub use ids::{AccessKeyId, KeyId, KeyVersionId, RegionId};
pub use key::{
    Alias, ImportToken, KeyMetadata, KeyOrigin, KeySpec, KeyState, KeyUsage, KeyVersion,
    MAX_ROTATION_INTERVAL_S, MIN_KEY_VERSION_INTERVAL_MS, MIN_ROTATION_INTERVAL_S, ProtectionLevel,
    parse_rotation_interval,
};
pub use secret::{
    MAX_DEPRECATED_VERSIONS, MAX_RECOVERY_DAYS, MAX_SECRET_DATA_BYTES, MAX_STAGES_PER_VERSION,
    MIN_RECOVERY_DAYS, STAGE_CURRENT, STAGE_PENDING, STAGE_PREVIOUS, SecretDataType,
    SecretMetadata, SecretRecord, SecretType, SecretVersion, parse_secret_rotation_interval,
};
pub use tag::{MAX_TAGS_PER_RESOURCE, ResourceRef, Tag};

/// The replay window of signed requests: a `Timestamp` older than this by the server clock is
/// rejected (milliseconds).
pub const REPLAY_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The shortest `PendingWindowInDays` of ScheduleKeyDeletion.
pub const MIN_PENDING_WINDOW_DAYS: u32 = 7;

/// The longest `PendingWindowInDays` of ScheduleKeyDeletion.
pub const MAX_PENDING_WINDOW_DAYS: u32 = 30;

/// How far ahead of the server clock a request's `Timestamp` may be (milliseconds); further ahead
/// is rejected like a stale one.
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// How long a `SignatureNonce` must be remembered after the request was accepted: a request is
/// accepted while its timestamp is at most [`REPLAY_WINDOW_MS`] old, and its timestamp is at most
/// [`MAX_FUTURE_SKEW_MS`] ahead of acceptance, so a replay can pass the timestamp check at most
/// this long after the first acceptance (milliseconds).
pub const NONCE_RETENTION_MS: i64 = REPLAY_WINDOW_MS + MAX_FUTURE_SKEW_MS;
