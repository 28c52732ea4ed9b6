//! Audit events: one per applied command, hash-chained by the store.

use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;

/// What became of one applied command, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditOutcome {
    /// The command took effect.
    Applied,
    /// Apply refused the command with this API error code; it changed nothing but the nonce record
    /// and the audit trail.
    Rejected(ErrorCode),
    /// The command's precondition no longer held (a stale or duplicate scheduled command, a second
    /// bootstrap); it changed nothing.
    NoOp,
    /// The command repeated an already applied proposal (same principal, nonce and request id); it
    /// changed nothing and was answered the first application's response.
    Duplicate,
}

/// What the audit trail records for one applied command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The Raft log index of the command's entry.
    pub log_index: u64,
    /// The command's position in that entry's proposal (0 for the first).
    pub position: u32,
    /// The request id the command came from.
    pub request_id: String,
    /// Who asked (AccessKey id), `None` for system commands.
    pub principal: Option<String>,
    /// The command name, e.g. `CreateKey`.
    pub action: String,
    /// The resource acted on, e.g. a key id.
    pub target: Option<String>,
    /// What became of the command.
    pub outcome: AuditOutcome,
    /// When the command was proposed, Unix milliseconds (proposer's clock).
    pub at_ms: i64,
    /// SHA-256 of the previous event's encoding (all zero for the first one).
    pub prev_hash: [u8; 32],
}
