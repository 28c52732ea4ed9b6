//! The request-limit flags shared by `yaoshi serve` and `yaoshi worker` (defaults:
//! `yaoshi_api::ApiLimits::default()`, documented in docs/SECURITY.md).

use std::time::Duration;

use yaoshi_api::ApiLimits;

/// Request limits of the public API.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LimitArgs {
    /// Close a connection whose request head has not fully arrived after this long (ms).
    #[arg(long, value_name = "MS")]
    header_timeout_ms: Option<u64>,
    /// Answer a request that is not done after this long, body upload included (ms).
    #[arg(long, value_name = "MS")]
    request_timeout_ms: Option<u64>,
    /// Largest request body accepted (bytes).
    #[arg(long, value_name = "BYTES")]
    max_body_bytes: Option<usize>,
    /// Requests served at once; more are shed with Rejected.Throttling.
    #[arg(long, value_name = "N")]
    max_concurrent_requests: Option<usize>,
    /// Signed requests per second per AccessKey id on this process (default: unlimited).
    #[arg(long, value_name = "N")]
    per_principal_rps: Option<u32>,
    /// SignatureNonces remembered at most (about 12 bytes each); beyond it requests are shed.
    #[arg(long, value_name = "N")]
    nonce_cache_entries: Option<usize>,
}

impl LimitArgs {
    /// The limits: the defaults with every flag given applied.
    pub(crate) fn limits(&self) -> ApiLimits {
        let mut l = ApiLimits::default();
        if let Some(ms) = self.header_timeout_ms {
            l.header_timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(ms) = self.request_timeout_ms {
            l.request_timeout = Duration::from_millis(ms.max(1));
        }
        if let Some(n) = self.max_body_bytes {
            l.max_body_bytes = n;
        }
        if let Some(n) = self.max_concurrent_requests {
            l.max_concurrent_requests = n.max(1);
        }
        l.per_principal_rps = self.per_principal_rps.or(l.per_principal_rps);
        if let Some(n) = self.nonce_cache_entries {
            l.nonce_cache_entries = n;
        }
        l
    }
}
