//! Requests during faults: each attempt has its own timeout (a request to a paused process would
//! otherwise hang), and transient failures — no answer, or a 5xx — are retried on another node.
//! A retried write may have been applied by the attempt that timed out; callers that care (e.g.
//! CreateKey) must expect duplicates.

use std::time::{Duration, Instant};

use yaoshi_client::{Client, Response};

use crate::rng::Rng;

/// What a call came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// An HTTP answer below 500 (success or an API error decided by the service).
    Answered(Response),
    /// No usable answer: transport error, timeout, or a 5xx.
    Transient(String),
}

impl Outcome {
    /// The response when the service answered.
    pub fn answered(&self) -> Option<&Response> {
        match self {
            Outcome::Answered(r) => Some(r),
            Outcome::Transient(_) => None,
        }
    }
}

/// One attempt with a timeout.
pub async fn call_once(
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
    timeout: Duration,
) -> Outcome {
    match tokio::time::timeout(timeout, client.call(action, params)).await {
        Err(_) => Outcome::Transient(format!(
            "{action} on {}: no answer in {timeout:?}",
            client.endpoint()
        )),
        Ok(Err(e)) => Outcome::Transient(format!("{action} on {}: {e}", client.endpoint())),
        Ok(Ok(r)) if r.status >= 500 => Outcome::Transient(format!(
            "{action} on {}: {} {}",
            client.endpoint(),
            r.status,
            r.body
        )),
        Ok(Ok(r)) => Outcome::Answered(r),
    }
}

/// Calls `action` on a random client, retrying transient failures on random clients every
/// 200 ms until one answers or `give_up` passes. Returns the answer and the number of attempts.
///
/// # Errors
///
/// The last transient failure when nothing answered in time.
pub async fn call_retrying(
    clients: &[Client],
    rng: &mut Rng,
    action: &str,
    params: &[(&str, &str)],
    per_attempt: Duration,
    give_up: Duration,
) -> Result<(Response, u32), String> {
    let deadline = Instant::now() + give_up;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let c = &clients[rng.below(clients.len())];
        match call_once(c, action, params, per_attempt).await {
            Outcome::Answered(r) => return Ok((r, attempts)),
            Outcome::Transient(e) if Instant::now() >= deadline => {
                return Err(format!("after {attempts} attempts: {e}"));
            }
            Outcome::Transient(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
