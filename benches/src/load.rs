//! Load: C concurrent tasks, each on its own keep-alive connection, for a warm-up and then a
//! measured period. Closed loop: each sends a request, waits for the whole response and sends the
//! next. Open loop (a target rate): requests are due on a fixed schedule and latency counts from
//! the scheduled time (see [`run_with`]).

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
    /// A KMS action whose parameter `unique` gets a new value per request (`<prefix><n>`), for
    /// creations that need fresh names (CreateSecret).
    KmsUnique {
        /// The signing client.
        client: Client,
        /// The action.
        action: String,
        /// The fixed parameters.
        params: Vec<(String, String)>,
        /// The parameter made unique.
        unique: String,
        /// Requests sent so far.
        counter: std::sync::atomic::AtomicU64,
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

    /// A KMS action target whose `unique` parameter is fresh per request.
    pub(crate) fn kms_unique(
        client: Client,
        action: &str,
        params: Vec<(String, String)>,
        unique: &str,
    ) -> Target {
        Target::KmsUnique {
            client,
            action: action.to_string(),
            params,
            unique: unique.to_string(),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
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
            Target::KmsUnique { client, action, params, unique, counter } => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let value = format!("bench-{}-{n}", std::process::id());
                let mut refs: Vec<(&str, &str)> =
                    params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                refs.push((unique.as_str(), value.as_str()));
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
    /// `None`: closed loop (each connection sends its next request when the previous one is
    /// answered). `Some(r)`: open loop at `r` requests per second across all connections, on a
    /// constant-interval schedule (see [`run_with`]).
    pub(crate) rate: Option<f64>,
}

impl Settings {
    /// Closed-loop settings.
    pub(crate) fn closed(concurrency: usize, warmup: Duration, duration: Duration) -> Settings {
        Settings { concurrency, warmup, duration, rate: None }
    }

    /// The same settings, open loop at `rate` requests per second.
    pub(crate) fn at_rate(self, rate: f64) -> Settings {
        Settings { rate: Some(rate), ..self }
    }
}

/// How long an open-loop run waits after the measured period for the requests scheduled in it.
/// A request still unanswered then counts as `unfinished`, with the wait so far as its latency.
const DRAIN: Duration = Duration::from_secs(2);

/// The result of a measured period.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// Requests completed successfully in the measured period (open loop: requests scheduled in
    /// the measured period and answered successfully, possibly during the drain after it).
    pub(crate) requests: u64,
    /// Requests that failed in the measured period.
    pub(crate) errors: u64,
    /// The first failure seen, if any.
    pub(crate) first_error: Option<String>,
    /// Measured seconds.
    pub(crate) seconds: f64,
    /// Successful requests per second (open loop: the achieved rate, successful answers received
    /// within the measured period ÷ its length, whenever they were scheduled).
    pub(crate) rps: f64,
    /// Latency percentiles of successful requests, in milliseconds (open loop: from the scheduled
    /// send time, unfinished requests included with their wait so far).
    pub(crate) p50_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// 99.9th percentile.
    pub(crate) p999_ms: f64,
    /// Open loop: the offered rate, requests per second.
    pub(crate) offered_rps: Option<f64>,
    /// Open loop: requests scheduled in the measured period but not answered when the drain
    /// ended (sent or not).
    pub(crate) unfinished: u64,
    /// Open loop: the 99th percentile of how late the generator's timer woke an idle connection
    /// for a scheduled send, in milliseconds (tokio's timer has a 1 ms resolution).
    pub(crate) timer_late_p99_ms: f64,
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
            "offered_rps": self.offered_rps,
            "unfinished": self.unfinished,
            "timer_late_p99_ms": self.timer_late_p99_ms,
        })
        .to_string()
    }

    /// Errors and unfinished requests as a short suffix for a table cell (empty when none).
    pub(crate) fn problems(&self) -> String {
        let mut out = String::new();
        if self.errors > 0 {
            out.push_str(&format!(
                " ({} errors: {})",
                self.errors,
                self.first_error.clone().unwrap_or_default()
            ));
        }
        if self.unfinished > 0 {
            out.push_str(&format!(" ({} unanswered after the drain)", self.unfinished));
        }
        out
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

/// Microseconds, saturating.
fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Runs `target` with `settings` and reports the measured period.
///
/// Closed loop (`settings.rate` is `None`): each of the C tasks sends a request, waits for the
/// whole answer and sends the next; latency is from send to answer.
///
/// Open loop (`Some(rate)`): one schedule of evenly spaced send times, `1 / rate` apart, dealt
/// round-robin to the C connections (connection `i` sends request `k` at
/// `(k·C + i) / rate`). A connection carries one request at a time; when its previous request is
/// answered late, the next is sent at once and its latency is counted from its *scheduled* time,
/// so a server stall shows up in every request scheduled during it (no coordinated omission).
/// When the connection was idle at the scheduled time, the latency is counted from the moment
/// the timer woke it: tokio's timer has a 1 ms resolution, and that lateness is the generator's,
/// not the server's (reported as `timer_late_p99_ms`). Requests scheduled in the measured period
/// are waited for up to [`DRAIN`] after it.
pub(crate) async fn run_with(target: Arc<Target>, settings: Settings) -> Report {
    match settings.rate {
        Some(rate) if rate > 0.0 => run_open(target, settings, rate).await,
        _ => run_closed(target, settings).await,
    }
}

/// The closed loop of [`run_with`].
async fn run_closed(target: Arc<Target>, settings: Settings) -> Report {
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
                    Ok(()) => samples.push(micros(t1 - t0)),
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
        offered_rps: None,
        unfinished: 0,
        timer_late_p99_ms: 0.0,
    }
}

/// When request `k` of connection `i` (of `c`) is due, after the start of an open-loop run at
/// `rate` requests per second: the connections take turns on one constant-interval schedule.
fn due(i: usize, k: u64, c: usize, rate: f64) -> Duration {
    // Whole nanoseconds, rounded, so that slots on round boundaries land exactly on them.
    Duration::from_nanos(((k as f64 * c as f64 + i as f64) * 1e9 / rate).round() as u64)
}

/// What one open-loop connection saw.
#[derive(Default)]
struct OpenTally {
    /// Latencies (µs) of requests scheduled in the measured period: answered ones, and
    /// unfinished ones with their wait until the end of the drain.
    samples: Vec<u32>,
    /// Of those, answered successfully.
    ok: u64,
    /// Successful answers received within the measured period (whenever scheduled).
    answered_in_period: u64,
    errors: u64,
    first_error: Option<String>,
    unfinished: u64,
    /// How late the timer woke an idle connection (µs).
    timer_late: Vec<u32>,
}

/// The open loop of [`run_with`].
async fn run_open(target: Arc<Target>, settings: Settings, rate: f64) -> Report {
    let c = settings.concurrency.max(1);
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let end = measure_from + settings.duration;
    let drain_end = end + DRAIN;
    let mut tasks = Vec::with_capacity(c);
    for i in 0..c {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut t = OpenTally::default();
            for k in 0u64.. {
                let due_at = start + due(i, k, c, rate);
                if due_at >= end {
                    break;
                }
                let measured = due_at >= measure_from;
                let now = Instant::now();
                if now >= drain_end {
                    // Never sent: unfinished, waited at least until the end of the drain.
                    if measured {
                        t.unfinished += 1;
                        t.samples.push(micros(drain_end - due_at));
                    }
                    continue;
                }
                let from = if now >= due_at {
                    // Behind the schedule (the previous request was answered late): queueing
                    // counts.
                    due_at
                } else {
                    tokio::time::sleep_until(due_at.into()).await;
                    let woke = Instant::now();
                    if measured {
                        t.timer_late.push(micros(woke - due_at));
                    }
                    woke
                };
                let result = tokio::time::timeout_at(drain_end.into(), target.once()).await;
                let t1 = Instant::now();
                if matches!(result, Ok(Ok(()))) && t1 >= measure_from && t1 <= end {
                    t.answered_in_period += 1;
                }
                if !measured {
                    continue;
                }
                match result {
                    Ok(Ok(())) => {
                        t.ok += 1;
                        t.samples.push(micros(t1 - from));
                    }
                    Ok(Err(e)) => {
                        t.errors += 1;
                        t.first_error.get_or_insert(e);
                    }
                    Err(_) => {
                        t.unfinished += 1;
                        t.samples.push(micros(drain_end.saturating_duration_since(from)));
                    }
                }
            }
            t
        }));
    }
    let mut all = OpenTally::default();
    for task in tasks {
        if let Ok(t) = task.await {
            all.samples.extend(t.samples);
            all.timer_late.extend(t.timer_late);
            all.ok += t.ok;
            all.answered_in_period += t.answered_in_period;
            all.errors += t.errors;
            all.unfinished += t.unfinished;
            if all.first_error.is_none() {
                all.first_error = t.first_error;
            }
        }
    }
    all.samples.sort_unstable();
    all.timer_late.sort_unstable();
    let seconds = settings.duration.as_secs_f64();
    Report {
        requests: all.ok,
        errors: all.errors,
        first_error: all.first_error,
        seconds,
        rps: all.answered_in_period as f64 / seconds,
        p50_ms: quantile_ms(&all.samples, 0.50),
        p99_ms: quantile_ms(&all.samples, 0.99),
        p999_ms: quantile_ms(&all.samples, 0.999),
        offered_rps: Some(rate),
        unfinished: all.unfinished,
        timer_late_p99_ms: quantile_ms(&all.timer_late, 0.99),
    }
}

/// [`run_with`] for the `load` command's arguments.
pub(crate) async fn run(target: Target, settings: Settings) -> Report {
    run_with(Arc::new(target), settings).await
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

    /// The open-loop schedule: C connections take turns on one schedule of evenly spaced times.
    #[test]
    fn schedule_is_one_constant_interval_spread_over_the_connections() {
        let (c, rate) = (4, 2000.0);
        let mut all: Vec<Duration> =
            (0..c).flat_map(|i| (0..50).map(move |k| due(i, k, c, rate))).collect();
        all.sort();
        for (j, d) in all.iter().enumerate() {
            let want = j as f64 / rate;
            assert!((d.as_secs_f64() - want).abs() < 1e-9, "#{j}: {d:?} ≠ {want}");
        }
        // Each connection alone is C / rate apart.
        let gap = due(1, 8, c, rate) - due(1, 7, c, rate);
        assert!((gap.as_secs_f64() - 0.002).abs() < 1e-9, "{gap:?}");
    }

    /// Starts the real baseline server on a free port.
    async fn baseline_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let server =
            tokio::spawn(crate::baseline::serve(Box::leak(addr.to_string().into_boxed_str()), 100));
        tokio::time::sleep(Duration::from_millis(200)).await;
        (addr, server)
    }

    /// The load generator against the real baseline server: every request succeeds and is counted.
    #[tokio::test(flavor = "multi_thread")]
    async fn drives_the_baseline() {
        let (addr, server) = baseline_server().await;
        let settings = Settings::closed(4, Duration::from_millis(100), Duration::from_millis(500));
        let r = run_with(Arc::new(Target::plain(&format!("http://{addr}/"))), settings).await;
        server.abort();
        assert_eq!(r.errors, 0, "{:?}", r.first_error);
        assert!(r.requests > 10, "{r:?}");
        assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
        assert_eq!(r.offered_rps, None);
    }

    /// Open loop against the real baseline server, which keeps up with 2,000 requests/s: exactly
    /// the scheduled requests are sent (2,000/s × 0.5 s = 1,000), all answered, at the offered
    /// rate — not as fast as the server can go, as the closed loop would.
    #[tokio::test(flavor = "multi_thread")]
    async fn open_loop_sends_the_offered_rate() {
        let (addr, server) = baseline_server().await;
        let settings = Settings::closed(4, Duration::from_millis(100), Duration::from_millis(500))
            .at_rate(2000.0);
        let r = run_with(Arc::new(Target::plain(&format!("http://{addr}/"))), settings).await;
        server.abort();
        assert_eq!(r.errors, 0, "{:?}", r.first_error);
        assert_eq!(r.unfinished, 0, "{r:?}");
        assert_eq!(r.requests, 1000, "{r:?}");
        assert_eq!(r.offered_rps, Some(2000.0));
        // Answers received within the period: those scheduled in it, give or take the few in
        // flight at either edge.
        assert!((1800.0..=2200.0).contains(&r.rps), "{r:?}");
        assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.p999_ms);
    }

    /// Open loop against a server slower than the schedule: each answer takes 10 ms, and 2
    /// connections are offered 400 requests/s (one every 5 ms per connection), twice what they
    /// can carry. The backlog grows through the run, and the latency reported must include the
    /// wait: request k of a connection is due at 5·k ms and answered at about 10·(k+1) ms, so the
    /// median of the measured requests (due from 100 to 600 ms) is about 350 ms. A generator that
    /// timed from the actual send (coordinated omission) would report about 10 ms.
    #[tokio::test(flavor = "multi_thread")]
    async fn open_loop_latency_includes_queueing_behind_a_slow_server() {
        use axum::Router;
        use axum::routing::any;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let body = crate::baseline::json_body(100);
        let app = Router::new().route(
            "/",
            any(move || {
                let body = body.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    ([(axum::http::header::CONTENT_TYPE, "application/json")], body)
                }
            }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let settings = Settings::closed(2, Duration::from_millis(100), Duration::from_millis(500))
            .at_rate(400.0);
        let r = run_with(Arc::new(Target::plain(&format!("http://{addr}/"))), settings).await;
        server.abort();
        assert_eq!(r.errors, 0, "{:?}", r.first_error);
        assert_eq!(r.requests + r.unfinished, 200, "{r:?}");
        // Achieved: at most 2 connections × 100/s.
        assert!(r.rps <= 220.0, "{r:?}");
        assert!(r.p50_ms >= 150.0, "queueing missing from the latency: {r:?}");
        assert!(r.p99_ms >= 400.0, "queueing missing from the latency: {r:?}");
    }
}
