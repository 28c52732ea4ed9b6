//! The per-request context handed to action handlers.

use yaoshi_model::{AccessKeyId, CommandMeta};

/// The address a request's connection came from (a request extension set by `listener.rs`, read
/// for network rules).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) std::net::SocketAddr);

/// Who is calling and when, after authentication.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// The request id echoed in the response.
    pub(crate) request_id: String,
    /// The authenticated AccessKey id.
    pub(crate) principal: AccessKeyId,
    /// The account the credential belongs to.
    pub(crate) account_id: String,
    /// The request's SignatureNonce, if it had one.
    pub(crate) nonce: Option<String>,
    /// Server time when the request arrived, Unix milliseconds.
    pub(crate) now_ms: i64,
    /// The audit name of the action's row in the action table: the name of the command it
    /// proposes (`None` for actions that propose nothing).
    pub(crate) audit_name: Option<&'static str>,
}

impl RequestContext {
    /// The command metadata for a write proposed on behalf of this request.
    pub(crate) fn command_meta(&self) -> CommandMeta {
        CommandMeta {
            request_id: self.request_id.clone(),
            principal: Some(self.principal.clone()),
            nonce: self.nonce.clone(),
            at_ms: self.now_ms,
        }
    }
}
