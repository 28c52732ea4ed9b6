//! The limits a public API process enforces on its clients: how long a request may take to
//! arrive, how large it may be, how many run at once, how fast one principal may call, and how many
//! nonces are remembered. Every refusal is the API's own JSON error (`server.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use yaoshi_raft::nonces::DEFAULT_NONCE_CACHE_ENTRIES;

/// An unknown AccessKey id is confirmed with a read barrier at most this often per process.
const UNKNOWN_ID_CONFIRM_INTERVAL: Duration = Duration::from_secs(1);

/// Request limits of one API process (node or worker).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiLimits {
    /// Time allowed for a request's head to arrive once its connection is idle or new
    /// (slowloris defence); the connection is closed when it passes.
    pub header_timeout: Duration,
    /// Time allowed from a request's head to its answer, body upload included
    /// (`RequestTimeout`, 408 when the body is what is late; 503 when a handler is).
    pub request_timeout: Duration,
    /// Largest request body accepted (`Rejected.RequestTooLarge`, 413).
    pub max_body_bytes: usize,
    /// Longest request line path and query accepted (`Rejected.UriTooLong`, 414).
    pub max_uri_bytes: usize,
    /// Largest total of header names and values accepted (`Rejected.HeadersTooLarge`, 431).
    pub max_header_bytes: usize,
    /// Requests served at once; more are shed at once with `Rejected.Throttling` (429).
    pub max_concurrent_requests: usize,
    /// Signed requests per second one AccessKey id may make on this process, with a burst of the
    /// same size (`Rejected.Throttling`, 429); `None` for no limit.
    pub per_principal_rps: Option<u32>,
    /// SignatureNonces remembered at most; beyond it new requests are shed with
    /// `Rejected.Throttling` (docs/SECURITY.md).
    pub nonce_cache_entries: usize,
}

impl Default for ApiLimits {
    fn default() -> ApiLimits {
        ApiLimits {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
            max_uri_bytes: 64 * 1024 - 2,
            max_header_bytes: 64 * 1024,
            max_concurrent_requests: 1024,
            per_principal_rps: None,
            nonce_cache_entries: DEFAULT_NONCE_CACHE_ENTRIES,
        }
    }
}

/// Token buckets of authenticated principals (only ids whose signature verified get one, so the
/// map is bounded by the number of credentials).
#[derive(Debug)]
pub(crate) struct PrincipalRates {
    rps: Option<u32>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl PrincipalRates {
    /// Buckets refilling at `rps` tokens per second, holding at most `rps`; `None` admits all.
    pub(crate) fn new(rps: Option<u32>) -> PrincipalRates {
        PrincipalRates { rps, buckets: Mutex::default() }
    }

    /// Takes a token from `principal`'s bucket; false when it is empty.
    pub(crate) fn admit(&self, principal: &str) -> bool {
        self.admit_at(principal, Instant::now())
    }

    fn admit_at(&self, principal: &str, now: Instant) -> bool {
        let Some(rps) = self.rps else { return true };
        let rate = f64::from(rps.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, at) = buckets.entry(principal.to_string()).or_insert((rate, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * rate;
        *tokens = (*tokens + refill).min(rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Confirms that an AccessKey id this process does not know is unknown cluster-wide, without
/// letting a stream of made-up ids cost one quorum read each: callers share one read barrier, and
/// within [`UNKNOWN_ID_CONFIRM_INTERVAL`] of the last one the replica answers alone (it had caught
/// up with the leader's commit then).
#[derive(Debug, Default)]
pub(crate) struct UnknownIdGate {
    last: tokio::sync::Mutex<Option<Instant>>,
}

impl UnknownIdGate {
    /// Runs `barrier` unless one finished within the interval; concurrent callers wait for the
    /// one in progress instead of starting their own.
    pub(crate) async fn confirm<E, F>(&self, barrier: F) -> Result<(), E>
    where
        F: std::future::Future<Output = Result<(), E>>,
    {
        let mut last = self.last.lock().await;
        if last.is_some_and(|t| t.elapsed() < UNKNOWN_ID_CONFIRM_INTERVAL) {
            return Ok(());
        }
        metrics::counter!("yaoshi_api_unknown_id_barriers_total").increment(1);
        barrier.await?;
        *last = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_rates_refill_and_keep_principals_apart() {
        let rates = PrincipalRates::new(Some(2));
        let t0 = Instant::now();
        assert!(rates.admit_at("a", t0));
        assert!(rates.admit_at("a", t0));
        assert!(!rates.admit_at("a", t0));
        assert!(rates.admit_at("b", t0));
        assert!(rates.admit_at("a", t0 + Duration::from_millis(500)));
        assert!(!rates.admit_at("a", t0 + Duration::from_millis(500)));
        assert!(PrincipalRates::new(None).admit_at("a", t0));
    }

    #[tokio::test]
    async fn unknown_ids_share_one_barrier_per_interval() {
        let gate = UnknownIdGate::default();
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let barrier = || async {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<(), ()>(())
        };
        for _ in 0..100 {
            gate.confirm(barrier()).await.unwrap();
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        // A failed barrier confirms nothing: the next caller tries again.
        let gate = UnknownIdGate::default();
        assert!(gate.confirm(async { Err::<(), ()>(()) }).await.is_err());
        gate.confirm(barrier()).await.unwrap();
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
