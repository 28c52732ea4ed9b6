//! Waiting for a process to become ready: retry an operation until it succeeds or time runs out.

use std::time::{Duration, Instant};

/// Retries `f` every 100 ms until it succeeds or `timeout` passes.
///
/// # Errors
///
/// The last error, with "`what` (gave up)" as context.
pub async fn until_ok<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if start.elapsed() > timeout => {
                return Err(e.context(format!("{what} (gave up)")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_until_success_or_timeout() {
        let mut n = 0;
        let v = until_ok("third try", Duration::from_secs(10), || {
            n += 1;
            let n = n;
            async move { if n < 3 { anyhow::bail!("try {n}") } else { Ok(n) } }
        })
        .await
        .unwrap();
        assert_eq!(v, 3);
        let e = until_ok("never", Duration::from_millis(150), || async {
            Err::<(), _>(anyhow::anyhow!("nope"))
        })
        .await
        .unwrap_err();
        assert_eq!(format!("{e:#}"), "never (gave up): nope");
    }
}
