//! Domain types of Yaoshi: ids, keys, credentials, the replicated `Command`, audit events and the one
//! table of API error codes; [`fixtures`] builds valid values for tests and benchmarks.
//!
//! Architecture invariant: this crate does no I/O, reads no clock and draws no randomness.

pub mod audit;
pub mod command;
pub mod credential;
pub mod error_code;
pub mod fixtures;
pub mod ids;
pub mod key;
pub mod tag;

pub use audit::{AuditEvent, AuditOutcome};
pub use command::{
    Command, CommandEnvelope, CommandMeta, CommandOutput, CommandResponse, Proposal,
    ProposalResponse,
};
pub use credential::Credential;
pub use error_code::{ApiError, ErrorCode};
pub use ids::{AccessKeyId, KeyId, KeyVersionId, RegionId};
pub use key::{
    Alias, ImportToken, KeyMetadata, KeyOrigin, KeySpec, KeyState, KeyUsage, KeyVersion,
    MAX_ROTATION_INTERVAL_S, MIN_KEY_VERSION_INTERVAL_MS, MIN_ROTATION_INTERVAL_S, ProtectionLevel,
    parse_rotation_interval,
};
pub use tag::{MAX_TAGS_PER_RESOURCE, ResourceRef, Tag};

/// The replay window of signed requests: a `Timestamp` further than this from the server clock is
/// rejected, and a `SignatureNonce` is remembered this long (milliseconds).
pub const REPLAY_WINDOW_MS: i64 = 15 * 60 * 1000;
