//! Audit events: one per applied command, hash-chained by the store.

use serde::{Deserialize, Serialize};

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
    /// `None` on success, `"NoOp"` when the command's precondition no longer held (it changed
    /// nothing), else the API error code string.
    pub error_code: Option<String>,
    /// When the command was proposed, Unix milliseconds (proposer's clock).
    pub at_ms: i64,
    /// SHA-256 of the previous event's encoding (all zero for the first one).
    pub prev_hash: [u8; 32],
}
