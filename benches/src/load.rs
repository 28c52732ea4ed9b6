//! Closed-loop load: C concurrent tasks, each on its own keep-alive connection, send a request,
//! wait for the whole response, and send the next, for a warm-up and then a measured period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use yaoshi_client::Client;

/// What to drive.
pub(crate) enum Target {
    /// A KMS action, signed per request as the classic SDK signs (fresh nonce and timestamp).
    Kms {
        /// The signing client (its connection pool is shared by the tasks).
        client: Client,
        /// The action.
        action: String,
        /// The action's parameters.
        params: Vec<(String, String)>,
    },
    /// A plain URL (the baseline), POSTed without a signature; the body is read and parsed as
    /// JSON, as the KMS client does with its responses.
    Plain {
        /// The HTTP client.
        http: reqwest::Client,
        /// The URL.
        url: String,
    },
    /// A plain URL POSTed with a fixed JSON body (e.g. etcd's gRPC gateway), unsigned; the
    /// response is read and parsed as JSON.
    PostJson {
        /// The HTTP client.
        http: reqwest::Client,
        /// The URL.
        url: String,
        /// The request body.
        body: String,
    },
}

impl Target {
    /// A KMS action target.
    pub(crate) fn kms(client: Client, action: &str, params: Vec<(String, String)>) -> Target {
        Target::Kms { client, action: action.to_string(), params }
    }

    /// A plain URL target.
    pub(crate) fn plain(url: &str) -> Target {
        Target::Plain { http: reqwest::Client::new(), url: url.to_string() }
    }

    /// A target POSTing `body` (JSON) to `url`.
    pub(crate) fn post_json(url: &str, body: String) -> Target {
        Target::PostJson { http: reqwest::Client::new(), url: url.to_string(), body }
    }

    /// One request; `Err` carries a short description of a failure.
    pub(crate) async fn once(&self) -> Result<(), String> {
        match self {
            Target::Kms { client, action, params } => {
                let refs: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let r = client.call(action, &refs).await.map_err(|e| e.to_string())?;
                if r.status == 200 {
                    Ok(())
                } else {
                    Err(format!("HTTP {} {}", r.status, r.code().unwrap_or("")))
                }
            }
            Target::Plain { http, url } => {
                let resp = http.post(url).send().await.map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let text = resp.text().await.map_err(|e| e.to_string())?;
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())?;
                if status == 200 { Ok(()) } else { Err(format!("HTTP {status}")) }
            }
            Target::PostJson { http, url, body } => {
                let resp = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = resp.status().as_u16();
                let text = resp.text().await.map_err(|e| e.to_string())?;
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())?;
                if status == 200 { Ok(()) } else { Err(format!("HTTP {status}: {text}")) }
            }
        }
    }
}

/// How to run a load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Concurrent connections.
    pub(crate) concurrency: usize,
    /// Warm-up before measuring.
    pub(crate) warmup: Duration,
    /// Measured period.
    pub(crate) duration: Duration,
}

/// The result of a measured period.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// Requests completed successfully in the measured period.
    pub(crate) requests: u64,
    /// Requests that failed in the measured period.
    pub(crate) errors: u64,
    /// The first failure seen, if any.
    pub(crate) first_error: Option<String>,
    /// Measured seconds.
    pub(crate) seconds: f64,
    /// Successful requests per second.
    pub(crate) rps: f64,
    /// Latency percentiles of successful requests, in milliseconds.
    pub(crate) p50_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// 99.9th percentile.
    pub(crate) p999_ms: f64,
}

impl Report {
    /// The report as one JSON line.
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({
            "requests": self.requests,
            "errors": self.errors,
            "first_error": self.first_error,
            "seconds": self.seconds,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "p999_ms": self.p999_ms,
        })
        .to_string()
    }
}

/// The `q`-quantile of sorted microsecond samples, in milliseconds.
fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() as f64 * q).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

/// Runs `target` closed-loop with `settings` and reports the measured period.
pub(crate) async fn run_with(target: Arc<Target>, settings: Settings) -> Report {
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let end = measure_from + settings.duration;
    let mut tasks = Vec::with_capacity(settings.concurrency);
    for _ in 0..settings.concurrency.max(1) {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples: Vec<u32> = Vec::with_capacity(64 * 1024);
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let result = target.once().await;
                let t1 = Instant::now();
                if t0 < measure_from || t1 > end {
                    continue;
                }
                match result {
                    Ok(()) => {
                        samples.push(u32::try_from((t1 - t0).as_micros()).unwrap_or(u32::MAX))
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (samples, errors, first_error)
        }));
    }
    let mut all = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    for t in tasks {
        if let Ok((samples, e, first)) = t.await {
            all.extend(samples);
            errors += e;
            if first_error.is_none() {
                first_error = first;
            }
        }
    }
    all.sort_unstable();
    let seconds = settings.duration.as_secs_f64();
    Report {
        requests: all.len() as u64,
        errors,
        first_error,
        seconds,
        rps: all.len() as f64 / seconds,
        p50_ms: quantile_ms(&all, 0.50),
        p99_ms: quantile_ms(&all, 0.99),
        p999_ms: quantile_ms(&all, 0.999),
    }
}

/// [`run_with`] for the `load` command's arguments.
pub(crate) async fn run(
    target: Target,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Report {
    run_with(Arc::new(target), Settings { concurrency, warmup, duration }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let s: Vec<u32> = (1..=1000).map(|i| i * 1000).collect();
        assert_eq!(quantile_ms(&s, 0.5), 500.0);
        assert_eq!(quantile_ms(&s, 0.99), 990.0);
        assert_eq!(quantile_ms(&s, 0.999), 999.0);
        assert_eq!(quantile_ms(&[], 0.5), 0.0);
    }

    /// The load generator against the real baseline server: every request succeeds and is counted.
    #[tokio::test(flavor = "multi_thread")]
    async fn drives_the_baseline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let server =
            tokio::spawn(crate::baseline::serve(Box::leak(addr.to_string().into_boxed_str()), 100));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let settings = Settings {
            concurrency: 4,
            warmup: Duration::from_millis(100),
            duration: Duration::from_millis(500),
        };
        let r = run_with(Arc::new(Target::plain(&format!("http://{addr}/"))), settings).await;
        server.abort();
        assert_eq!(r.errors, 0, "{:?}", r.first_error);
        assert!(r.requests > 10, "{r:?}");
        assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
    }
}
