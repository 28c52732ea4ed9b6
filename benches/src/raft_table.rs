//! The Raft write table: CreateKey (and CreateSecret beside it) through Raft on one and three
//! real `yaoshi serve` processes
//! (fsync on), commands and log entries per fsync from the log store's counters, single-client
//! commit latency,
//! a three-member etcd cluster driven through its HTTP gateway as the baseline, the resident memory
//! of a node holding 100,000 keys, and the time to re-apply that node's whole log at startup.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use yaoshi_client::Client;
use yaoshi_testkit::cluster::shipped_config;
use yaoshi_testkit::{Launcher, Process, free_port, reported_leader, sibling_exe, until_ok};

use crate::crypto_table::must;
use crate::load::{Report, Settings, Target, run_with};

pub(crate) const ACCESS_KEY_ID: &str = "LTAIbenchmark0001";
const ACCESS_KEY_SECRET: &str = "bench-secret-not-for-production";
/// A fixed domain key: the benchmark's data directories are thrown away.
const DOMAIN_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const BEGIN: &str = "<!-- raft-table:begin -->";
const END: &str = "<!-- raft-table:end -->";
/// Size of the etcd value, about the size of one CreateKey log entry.
const ETCD_VALUE_BYTES: usize = 300;

/// What the suite runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RaftSettings {
    /// Closed-loop settings of the throughput runs (their concurrency is the "many clients" one).
    pub(crate) load: Settings,
    /// Keys created for the memory and replay measurements.
    pub(crate) keys: u64,
    /// `snapshot_logs_since_last` of the throughput clusters (1 and 3 nodes).
    pub(crate) snapshot_logs_since_last: u64,
}

/// One `yaoshi serve` node of a benchmark cluster.
pub(crate) struct Node {
    http: String,
    region_dir: PathBuf,
    /// `yaoshi serve --config <node{i}.toml>`, its log `node{i}.log` (every incarnation).
    process: Process,
    /// The CA certificate (DER) of the API's HTTPS certificate, when the API speaks HTTPS.
    https_ca: Option<Vec<u8>>,
}

impl Node {
    pub(crate) fn client(&self) -> Client {
        match &self.https_ca {
            // The certificate names `localhost`.
            Some(ca) => Client::https(
                &self.http.replace("127.0.0.1", "localhost"),
                ACCESS_KEY_ID,
                ACCESS_KEY_SECRET,
                ca,
            )
            .unwrap_or_else(|e| panic!("HTTPS client: {e}")),
            None => Client::new(&self.http, ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        }
    }
}

/// How a benchmark cluster protects its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Security {
    /// As shipped: mutual TLS on the gRPC port, plain HTTP on the loopback API.
    Deployed,
    /// Mutual TLS on the gRPC port and HTTPS on the API.
    AllTls,
    /// No TLS anywhere (the shipped configs without `[tls]`).
    Plaintext,
}

/// Nodes started from configs derived from `cluster-config/three-node`.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Node>,
}

/// The shipped three-node configs, from the workspace this binary was built in.
fn shipped_config_text(i: usize) -> anyhow::Result<String> {
    let path = shipped_config(i);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// `node{i}.toml` of `cluster-config/three-node` with this run's ports and data directory, cut to
/// the first `n` members, with `snapshot_logs_since_last` set and no admin listener (the
/// benchmarks change no membership, and two clusters may run at once).
fn derive_config(
    i: usize,
    n: usize,
    ports: &[(u16, u16)],
    data_dir: &Path,
    snapshot_logs_since_last: u64,
) -> anyhow::Result<String> {
    let mut text = shipped_config_text(i)?;
    if n < 3 {
        // Keep the header and the first `n` `[[members]]` tables.
        let cut = text.match_indices("[[members]]").nth(n).map(|(at, _)| at);
        if let Some(at) = cut {
            text.truncate(at);
        }
    }
    for (j, (http, raft)) in ports.iter().enumerate() {
        text = text
            .replace(&format!("127.0.0.1:{}", 8081 + j), &format!("127.0.0.1:{http}"))
            .replace(&format!("127.0.0.1:{}", 9181 + j), &format!("127.0.0.1:{raft}"));
    }
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("data_dir") {
                format!("data_dir = \"{}\"\n", data_dir.display())
            } else if l.starts_with("admin_listen") {
                String::new()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    Ok(format!("{text}\n[raft]\nsnapshot_logs_since_last = {snapshot_logs_since_last}\n"))
}

/// Drops the `[tls]` table of a config.
fn without_tls(text: &str) -> String {
    let mut out = String::new();
    let mut in_tls = false;
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            in_tls = line.trim() == "[tls]";
        }
        if !in_tls {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A self-signed certificate for `localhost` as `api.pem`/`api.key` in `dir`; returns its DER.
fn api_certificate(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    std::fs::write(dir.join("api.pem"), cert.pem())?;
    std::fs::write(dir.join("api.key"), signing_key.serialize_pem())?;
    Ok(cert.der().to_vec())
}

impl Cluster {
    /// Writes the configs of `n` nodes under `dir` and starts them, as deployed.
    fn start(dir: &Path, n: usize, snapshot_logs_since_last: u64) -> anyhow::Result<Cluster> {
        Cluster::start_with(dir, n, snapshot_logs_since_last, Security::Deployed)
    }

    /// Writes the configs of `n` nodes under `dir` and starts them with `security`.
    pub(crate) fn start_with(
        dir: &Path,
        n: usize,
        snapshot_logs_since_last: u64,
        security: Security,
    ) -> anyhow::Result<Cluster> {
        let bin = sibling_exe("yaoshi")?;
        std::fs::create_dir_all(dir)?;
        // The shipped configs' [tls] names `certs/` next to the config: mutual TLS, as deployed.
        yaoshi_testkit::cluster::issue_certs(&bin, dir, n);
        let https_ca = match security {
            Security::AllTls => Some(api_certificate(dir)?),
            _ => None,
        };
        let (api_cert, api_key) = (dir.join("api.pem"), dir.join("api.key"));
        let https_args: Vec<&str> = match security {
            Security::AllTls => vec![
                "--https-cert",
                api_cert.to_str().unwrap_or_default(),
                "--https-key",
                api_key.to_str().unwrap_or_default(),
            ],
            _ => Vec::new(),
        };
        let launcher = Launcher::new(&bin, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
            .with_domain_key(DOMAIN_KEY)
            .with_rust_log("warn,yaoshi=info,openraft::storage::helper=info");
        std::fs::create_dir_all(dir)?;
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let mut nodes = Vec::new();
        for i in 1..=n {
            let data_dir = dir.join(format!("node{i}"));
            let config = dir.join(format!("node{i}.toml"));
            let text = derive_config(i, n, &ports, &data_dir, snapshot_logs_since_last)?;
            let text = if security == Security::Plaintext { without_tls(&text) } else { text };
            std::fs::write(&config, text)?;
            let log = dir.join(format!("node{i}.log"));
            let process = launcher
                .config_node(&format!("node{i}"), &config, None, &https_args, &log)
                .with_stdout_logged();
            nodes.push(Node {
                http: format!("127.0.0.1:{}", ports[i - 1].0),
                region_dir: data_dir.join("regions").join("cn-hangzhou"),
                process,
                https_ca: https_ca.clone(),
            });
        }
        let mut cluster = Cluster { nodes };
        for i in 0..n {
            cluster.spawn(i)?;
        }
        Ok(cluster)
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        self.nodes[i].process.try_start()
    }

    /// Every node answers an authenticated request; returns the leader's index.
    pub(crate) async fn ready(&self) -> anyhow::Result<usize> {
        for n in &self.nodes {
            let c = n.client();
            until_ok("node ready", Duration::from_secs(60), || must(&c, "DescribeRegions", &[]))
                .await
                .with_context(|| format!("see {}", n.process.log_path().display()))?;
        }
        let first = self.nodes[0].client();
        until_ok("one write", Duration::from_secs(30), || must(&first, "CreateKey", &[])).await?;
        until_ok("agreed leader", Duration::from_secs(30), || async {
            let views: Vec<Option<usize>> = self
                .nodes
                .iter()
                .map(|n| {
                    let id = reported_leader(&n.process.log_of_current_start())?;
                    usize::try_from(id).ok()?.checked_sub(1)
                })
                .collect();
            match views.first() {
                Some(Some(l)) if views.iter().all(|v| *v == Some(*l)) && *l < self.nodes.len() => {
                    Ok(*l)
                }
                _ => anyhow::bail!("nodes report leaders {views:?}"),
            }
        })
        .await
    }
}

/// The counters a node exports at `GET /metrics`.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    syncs: f64,
    entries: f64,
    commands: f64,
    applied: f64,
    applied_commands: f64,
}

async fn counters(http: &str) -> anyhow::Result<Counters> {
    let text =
        reqwest::get(format!("http://{http}/metrics")).await?.error_for_status()?.text().await?;
    let value = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(Counters {
        syncs: value("yaoshi_raft_log_append_syncs_total"),
        entries: value("yaoshi_raft_log_appended_entries_total"),
        commands: value("yaoshi_raft_log_appended_commands_total"),
        applied: value("yaoshi_state_applied_entries_total"),
        applied_commands: value("yaoshi_state_applied_commands_total"),
    })
}

/// How many commands and log entries one synced log append carried, on average over a run (with
/// group commit, one entry carries every command proposed while the previous append was syncing).
#[derive(Debug, Clone, Copy)]
struct PerSync {
    commands: f64,
    entries: f64,
}

impl std::fmt::Display for PerSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2} entries)", self.commands, self.entries)
    }
}

/// CreateKey on `node` with `settings`, with the commands and log entries per synced append the
/// node made meanwhile.
async fn create_keys(node: &Node, settings: Settings) -> anyhow::Result<(Report, PerSync)> {
    drive(node, Target::kms(node.client(), "CreateKey", Vec::new()), settings).await
}

/// CreateSecret (a fresh name per request, a 32-byte text value under the default secrets key)
/// on `node`, as [`create_keys`].
async fn create_secrets(node: &Node, settings: Settings) -> anyhow::Result<(Report, PerSync)> {
    let params = vec![
        ("VersionId".to_string(), "v1".to_string()),
        ("SecretData".to_string(), "0123456789abcdef0123456789abcdef".to_string()),
    ];
    let target = Target::kms_unique(node.client(), "CreateSecret", params, "SecretName");
    drive(node, target, settings).await
}

/// Runs `target` on `node` and reads the log store's counters around it.
async fn drive(
    node: &Node,
    target: Target,
    settings: Settings,
) -> anyhow::Result<(Report, PerSync)> {
    let before = counters(&node.http).await?;
    let report = run_with(Arc::new(target), settings).await;
    let after = counters(&node.http).await?;
    let syncs = after.syncs - before.syncs;
    let per = |n: f64| if syncs > 0.0 { n / syncs } else { 0.0 };
    let per_sync = PerSync {
        commands: per(after.commands - before.commands),
        entries: per(after.entries - before.entries),
    };
    Ok((report, per_sync))
}

/// Drives `target` closed-loop with `concurrency` tasks until `count` requests succeeded;
/// returns the elapsed time and the number of failures.
async fn run_count(target: Arc<Target>, concurrency: usize, count: u64) -> (Duration, u64) {
    let started = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (target, started, failed) = (target.clone(), started.clone(), failed.clone());
            tokio::spawn(async move {
                while started.fetch_add(1, Ordering::Relaxed) < count {
                    if target.once().await.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                        // Retry this one so `count` requests succeed.
                        started.fetch_sub(1, Ordering::Relaxed);
                    }
                    if failed.load(Ordering::Relaxed) > count / 10 + 100 {
                        break;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    (t0.elapsed(), failed.load(Ordering::Relaxed))
}

fn cell(r: &Report) -> (String, String) {
    let rps = if r.errors > 0 {
        format!("{:.0} ({} errors: {})", r.rps, r.errors, r.first_error.clone().unwrap_or_default())
    } else {
        format!("{:.0}", r.rps)
    };
    (rps, format!("{:.2} / {:.2}", r.p50_ms, r.p99_ms))
}

/// The etcd result: the closed-loop puts, the open-loop puts at the requested rate, and the
/// version; or why it did not run.
type EtcdResult = Result<(Report, Option<Report>, String), String>;

/// `etcd` on the PATH, installing Debian's `etcd-server` when missing and running as root.
fn etcd_exe() -> Result<PathBuf, String> {
    let find = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths).map(|p| p.join("etcd")).find(|p| p.exists())
        })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    eprintln!("etcd missing: apt-get install -y etcd-server…");
    let ok = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok(&["install", "-y", "etcd-server"]) {
        let _ = ok(&["update"]);
        if !ok(&["install", "-y", "etcd-server"]) {
            return Err("etcd not installed and `apt-get install -y etcd-server` failed (needs root and Debian's archive)".into());
        }
    }
    find().ok_or_else(|| "etcd-server installed but `etcd` is not on the PATH".into())
}

/// Three etcd members on loopback (fsync on, etcd's default), puts of a 300-byte value through
/// the leader's HTTP/JSON gateway: closed loop, then open loop at `half_rate` when given.
async fn etcd_baseline(dir: &Path, settings: Settings, half_rate: Option<f64>) -> EtcdResult {
    let exe = etcd_exe()?;
    let version = Command::new(&exe)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(|l| l.trim().to_string()))
        .unwrap_or_else(|| "etcd".into());
    let err = |e: anyhow::Error| format!("{e:#}");
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let initial: Vec<String> =
        ports.iter().enumerate().map(|(i, (_, p))| format!("m{i}=http://127.0.0.1:{p}")).collect();
    let initial = initial.join(",");
    let mut members = Vec::new();
    for (i, (client, peer)) in ports.iter().enumerate() {
        let data = dir.join(format!("etcd{i}"));
        let (c, p) = (format!("http://127.0.0.1:{client}"), format!("http://127.0.0.1:{peer}"));
        let args = [
            "--name".to_string(),
            format!("m{i}"),
            "--data-dir".into(),
            data.display().to_string(),
            "--listen-client-urls".into(),
            c.clone(),
            "--advertise-client-urls".into(),
            c,
            "--listen-peer-urls".into(),
            p.clone(),
            "--initial-advertise-peer-urls".into(),
            p,
            "--initial-cluster".into(),
            initial.clone(),
            "--initial-cluster-state".into(),
            "new".into(),
            "--initial-cluster-token".into(),
            "yaoshi-bench".into(),
            "--log-level".into(),
            "warn".into(),
        ];
        let log = dir.join(format!("etcd{i}.log"));
        let mut member = Process::new(&format!("etcd{i}"), &exe, args.to_vec(), Vec::new(), &log)
            .with_stdout_logged();
        member.try_start().map_err(err)?;
        members.push(member);
    }
    let http = reqwest::Client::new();
    let status = |port: u16| {
        let http = http.clone();
        async move {
            let text = http
                .post(format!("http://127.0.0.1:{port}/v3/maintenance/status"))
                .body("{}")
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            let v: serde_json::Value = serde_json::from_str(&text)?;
            let me = v["header"]["member_id"].as_str().unwrap_or_default().to_string();
            let leader = v["leader"].as_str().unwrap_or_default().to_string();
            anyhow::ensure!(!leader.is_empty() && leader != "0", "no leader yet: {v}");
            Ok(me == leader)
        }
    };
    let leader = until_ok("etcd leader", Duration::from_secs(30), || async {
        for (client, _) in &ports {
            if status(*client).await? {
                return Ok(*client);
            }
        }
        anyhow::bail!("no member is the leader")
    })
    .await
    .map_err(|e| format!("{e:#} (see {})", dir.join("etcd0.log").display()))?;
    let body = serde_json::json!({
        "key": B64.encode("yaoshi-bench/key"),
        "value": B64.encode(vec![b'v'; ETCD_VALUE_BYTES]),
    })
    .to_string();
    let url = format!("http://127.0.0.1:{leader}/v3/kv/put");
    let target = Arc::new(Target::post_json(&url, body));
    let report = run_with(target.clone(), settings).await;
    let half = match half_rate {
        Some(rate) => {
            eprintln!("etcd put, {rate:.0}/s open loop…");
            Some(run_with(target, settings.at_rate(rate)).await)
        }
        None => None,
    };
    drop(members);
    Ok((report, half, version))
}

/// The replay measurement's results.
struct Replay {
    entries: f64,
    commands: f64,
    intact_start: Duration,
    replay_start: Duration,
    /// Log timestamps from openraft's `get_initial_state` to the node's "node started" line, state
    /// intact and state dropped.
    intact_init: Option<f64>,
    replay_init: Option<f64>,
    keys_after: u64,
}

/// Seconds of the day of a log line starting with an RFC 3339 UTC timestamp.
fn secs_of_day(line: &str) -> Option<f64> {
    let t = line.get(11..)?.split(['Z', ' ']).next()?;
    let mut parts = t.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// Seconds between openraft's `get_initial_state` line (storage recovery starts, the re-apply of
/// committed entries included) and the node's "node started" line (`Raft::new` returned), in the
/// log of a node's current incarnation.
fn init_seconds(text: &str) -> Option<f64> {
    let from = secs_of_day(text.lines().find(|l| l.contains("get_initial_state"))?)?;
    let to = secs_of_day(text.lines().find(|l| l.contains("node started"))?)?;
    let d = to - from;
    Some(if d < 0.0 { d + 86_400.0 } else { d })
}

/// Time from spawning node 0 until it answers an authenticated request.
async fn restart_time(cluster: &mut Cluster) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    cluster.spawn(0)?;
    let c = cluster.nodes[0].client();
    loop {
        if must(&c, "DescribeRegions", &[]).await.is_ok() {
            return Ok(t0.elapsed());
        }
        anyhow::ensure!(t0.elapsed() < Duration::from_secs(300), "node did not come back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Restarts the one-node cluster with its state intact, then with its state column families
/// dropped (the `drop_state` example of yaoshi-store) so that openraft re-applies the whole log.
async fn replay(cluster: &mut Cluster) -> anyhow::Result<Replay> {
    let drop_state = std::env::current_exe()?
        .parent()
        .context("no exe dir")?
        .join("examples")
        .join(format!("drop_state{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        drop_state.exists(),
        "{} missing: build it with `cargo build --release -p yaoshi -p yaoshi-bench -p yaoshi-store --bins --example drop_state` (one invocation, as benches/run-all does, so RocksDB is not compiled twice)",
        drop_state.display()
    );
    cluster.nodes[0].process.kill();
    let intact_start = restart_time(cluster).await?;
    let intact_init = init_seconds(&cluster.nodes[0].process.log_of_current_start());
    cluster.nodes[0].process.kill();
    let out = Command::new(&drop_state).arg(&cluster.nodes[0].region_dir).output()?;
    anyhow::ensure!(
        out.status.success(),
        "drop_state failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replay_start = restart_time(cluster).await?;
    let replay_init = init_seconds(&cluster.nodes[0].process.log_of_current_start());
    let applied = counters(&cluster.nodes[0].http).await?;
    let (entries, commands) = (applied.applied, applied.applied_commands);
    let list = must(&cluster.nodes[0].client(), "ListKeys", &[("PageSize", "1")]).await?;
    let keys_after = list["TotalCount"].as_u64().unwrap_or(0);
    Ok(Replay {
        entries,
        commands,
        intact_start,
        replay_start,
        intact_init,
        replay_init,
        keys_after,
    })
}

/// Runs the suite and rewrites its table in `out`.
pub(crate) async fn run(settings: RaftSettings, out: &Path) -> anyhow::Result<()> {
    let load = settings.load;
    let dir = std::env::temp_dir().join(format!("yaoshi-raft-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut rows = String::new();
    let mut secret_ratios = String::new();

    // 1. Many clients, one node and three nodes.
    let (mut one_node_rps, mut three_node_rps) = (0.0, 0.0);
    let mut half_create: Option<(Report, PerSync)> = None;
    for n in [1usize, 3] {
        eprintln!("CreateKey, {n} node(s), {} clients…", load.concurrency);
        let cluster =
            Cluster::start(&dir.join(format!("c{n}")), n, settings.snapshot_logs_since_last)?;
        let leader = cluster.ready().await?;
        let (r, per_sync) = create_keys(&cluster.nodes[leader], load).await?;
        if n == 1 {
            one_node_rps = r.rps;
        } else if r.errors == 0 {
            three_node_rps = r.rps;
        }
        let (rps, lat) = cell(&r);
        let _ = writeln!(
            rows,
            "| CreateKey, {n} node{s}, to the leader | {c} | {rps} | {lat} | {per_sync} |",
            s = if n == 1 { "" } else { "s" },
            c = load.concurrency,
        );
        // CreateSecret on the same cluster: one command carrying a sealed value (the envelope is
        // made on the proposing node), next to CreateKey.
        eprintln!("CreateSecret, {n} node(s), {} clients…", load.concurrency);
        let (secrets, secrets_per_sync) = create_secrets(&cluster.nodes[leader], load).await?;
        let (srps, slat) = cell(&secrets);
        let _ = writeln!(
            rows,
            "| CreateSecret (32 B value), {n} node{s}, to the leader | {c} | {srps} | {slat} | {secrets_per_sync} |",
            s = if n == 1 { "" } else { "s" },
            c = load.concurrency,
        );
        let _ = writeln!(
            secret_ratios,
            "CreateSecret/s ÷ CreateKey/s on {n} node{s}: **{:.2}**.",
            secrets.rps / r.rps.max(1e-9),
            s = if n == 1 { "" } else { "s" },
        );
        if n == 3 {
            // 2. Single-client commit latency on the same cluster.
            eprintln!("CreateKey, 3 nodes, 1 client…");
            let single = Settings { concurrency: 1, ..load };
            let (r, per_sync) = create_keys(&cluster.nodes[leader], single).await?;
            let (rps, lat) = cell(&r);
            let _ = writeln!(
                rows,
                "| CreateKey, 3 nodes, to the leader (commit latency) | 1 | {rps} | {lat} | {per_sync} |"
            );
            // 3. Half of the maximum, open loop, on the same cluster.
            if three_node_rps >= 2.0 {
                let rate = three_node_rps / 2.0;
                eprintln!("CreateKey, 3 nodes, {rate:.0}/s open loop…");
                half_create = Some(create_keys(&cluster.nodes[leader], load.at_rate(rate)).await?);
            }
        }
    }

    // 4. etcd baseline, closed loop and at the rate CreateKey was offered.
    eprintln!("etcd baseline…");
    let etcd_dir = dir.join("etcd");
    std::fs::create_dir_all(&etcd_dir)?;
    let half_rate = half_create.as_ref().and_then(|(r, _)| r.offered_rps);
    let etcd = etcd_baseline(&etcd_dir, load, half_rate).await;
    let half = match (&half_create, &etcd) {
        (Some((create, per_sync)), Ok((_, Some(put), version))) => format!(
            "{}\n\nCommands per fsync during the open-loop CreateKey run: {per_sync}. etcd: {version}.",
            crate::crypto_table::half_load_row(
                &format!(
                    "CreateKey, 3 nodes, to the leader ÷ etcd put {ETCD_VALUE_BYTES} B, 3 members"
                ),
                three_node_rps,
                create.offered_rps.unwrap_or(0.0),
                create,
                put,
            )
        ),
        (None, _) => {
            "| CreateKey, 3 nodes | — | not run: the closed loop failed | | | | | | |".into()
        }
        (Some((create, _)), Ok((_, None, _))) => format!(
            "| CreateKey, 3 nodes, to the leader | {three_node_rps:.0} | {:.0} | {:.0}{} | {} | etcd not offered the rate | | | |",
            create.offered_rps.unwrap_or(0.0),
            create.rps,
            create.problems(),
            crate::crypto_table::percentiles(create),
        ),
        (Some((create, _)), Err(why)) => format!(
            "| CreateKey, 3 nodes, to the leader | {three_node_rps:.0} | {:.0} | {:.0}{} | {} | etcd not run: {why} | | | |",
            create.offered_rps.unwrap_or(0.0),
            create.rps,
            create.problems(),
            crate::crypto_table::percentiles(create),
        ),
    };
    let etcd_line = match &etcd {
        Ok((r, _, version)) => {
            let (rps, lat) = cell(r);
            let _ = writeln!(
                rows,
                "| etcd put {ETCD_VALUE_BYTES} B, 3 members, HTTP/JSON gateway of the leader ({version}) | {c} | {rps} | {lat} | — |",
                c = load.concurrency
            );
            format!(
                "CreateKey/s on 3 nodes ÷ etcd put/s: **{:.2}**.",
                three_node_rps / r.rps.max(1e-9)
            )
        }
        Err(why) => {
            let _ = writeln!(rows, "| etcd put, 3 members | — | not run: {why} | — | — |");
            format!("etcd baseline not run: {why}.")
        }
    };

    // 5. RSS with many keys, 6. whole-log replay.
    eprintln!("creating {} keys on one node…", settings.keys);
    let mut cluster = Cluster::start(&dir.join("big"), 1, 1_000_000_000)?;
    cluster.ready().await?;
    let target = Arc::new(Target::kms(cluster.nodes[0].client(), "CreateKey", Vec::new()));
    let (took, failed) = run_count(target, load.concurrency, settings.keys).await;
    let keys_per_s = settings.keys as f64 / took.as_secs_f64();
    let rss = cluster.nodes[0].process.rss_mib()?;
    let logged = counters(&cluster.nodes[0].http).await?;
    let (log_entries, log_commands) = (logged.entries, logged.commands);
    let mut more = String::new();
    let _ = writeln!(
        more,
        "| Create {} keys, 1 node, {} clients | {:.1} s, **{keys_per_s:.0} keys/s**{} |",
        settings.keys,
        load.concurrency,
        took.as_secs_f64(),
        if failed > 0 { format!(" ({failed} failed requests retried)") } else { String::new() }
    );
    let _ = writeln!(more, "| VmRSS of that node afterwards | **{rss:.0} MiB** |");
    eprintln!("replaying the log…");
    match replay(&mut cluster).await {
        Ok(r) => {
            let fmt = |d: Option<f64>| d.map_or("?".to_string(), |d| format!("{d:.2} s"));
            let _ = writeln!(
                more,
                "| Restart, state intact ({log_commands:.0} commands in {log_entries:.0} log entries): start to first answer; storage recovery (log timestamps) | {:.2} s; {} |",
                r.intact_start.as_secs_f64(),
                fmt(r.intact_init),
            );
            let _ = writeln!(
                more,
                "| Restart, state column families dropped: start to first answer; storage recovery with the re-apply ({:.0} commands in {:.0} entries re-applied, {} keys listed after) | {:.2} s; {} |",
                r.commands,
                r.entries,
                r.keys_after,
                r.replay_start.as_secs_f64(),
                fmt(r.replay_init),
            );
            let replay_s = r
                .replay_init
                .unwrap_or(r.replay_start.as_secs_f64() - r.intact_start.as_secs_f64())
                .max(1e-3);
            let rate = r.commands / replay_s;
            let _ = writeln!(
                more,
                "| Replay rate (commands re-applied ÷ storage recovery time) | **{rate:.0} commands/s** = **{:.1}×** live CreateKey/s on 1 node ({one_node_rps:.0}; goal ≥ 5×) |",
                rate / one_node_rps.max(1e-9)
            );
        }
        Err(e) => {
            eprintln!("replay not measured: {e:#}");
            let _ = writeln!(more, "| Replay | not measured: {e:#} |");
        }
    }
    drop(cluster);

    let date = yaoshi_client::timestamp_now();
    let table = format!(
        "{BEGIN}\n\
         Measured {date} on {machine}; every node, etcd member and the load generator share the machine \
         (loopback, one disk). Real release `yaoshi serve` processes; every Raft log append is a RocksDB \
         write with `sync = true` (an fsync of the WAL) before openraft is told it is durable. \
         Closed loop, {w:.0} s warm-up, {d:.0} s measured per row; every CreateKey signed with HMAC-SHA1 \
         (fresh nonce and timestamp). Commands per fsync: the leader's \
         `yaoshi_raft_log_appended_commands_total` ÷ `yaoshi_raft_log_append_syncs_total` over the run \
         (`GET /metrics`), with log entries per fsync (`…_appended_entries_total`) in parentheses: with \
         group commit one entry carries every write proposed while the previous append was syncing. \
         {etcd_line}\n\n\
         | Scenario | Clients | req/s | p50 / p99 ms | Commands per fsync |\n\
         |---|---|---|---|---|\n{rows}\n{secret_ratios}\n\
         **p99 at half of maximum load** (goal: ≤ baseline p99 + 1 ms). CreateKey on the 3-node \
         cluster is offered open-loop at 50% of its closed-loop maximum above, and the etcd \
         cluster the same absolute rate of puts: one schedule of evenly spaced send times spread \
         over the {c} connections, {w:.0} s warm-up, {d:.0} s measured; latency runs from each \
         request's scheduled send time, so a request queued behind a slow answer counts its wait \
         (no coordinated omission).\n\n\
         | Writes | Closed-loop max req/s | Offered req/s | CreateKey achieved req/s | CreateKey p50 / p99 / p99.9 ms | etcd achieved req/s | etcd p50 / p99 / p99.9 ms | p99 − etcd p99 | Goal ≤ 1 ms |\n\
         |---|---|---|---|---|---|---|---|---|\n{half}\n\n\
         | Memory and replay | |\n|---|---|\n{more}{END}",
        machine = crate::crypto_table::machine(),
        w = load.warmup.as_secs_f64(),
        d = load.duration.as_secs_f64(),
        c = load.concurrency,
    );
    crate::crypto_table::write_between(out, BEGIN, END, &table)?;
    println!("{table}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_take_the_run_ports_and_members() {
        let ports = [(1001, 2001), (1002, 2002), (1003, 2003)];
        let three = derive_config(2, 3, &ports, Path::new("/tmp/x"), 7).unwrap();
        assert!(three.contains("listen = \"127.0.0.1:1002\""), "{three}");
        assert!(three.contains("raft_listen = \"127.0.0.1:2002\""), "{three}");
        assert!(three.contains("raft_addr = \"127.0.0.1:2003\""), "{three}");
        assert!(three.contains("data_dir = \"/tmp/x\""), "{three}");
        assert!(three.ends_with("[raft]\nsnapshot_logs_since_last = 7\n"), "{three}");
        assert!(!three.contains("918") && !three.contains("808"), "{three}");
        assert!(!three.contains("admin_listen") && !three.contains("919"), "{three}");
        let one = derive_config(1, 1, &ports[..1], Path::new("/tmp/y"), 7).unwrap();
        assert_eq!(one.matches("[[members]]").count(), 1, "{one}");
        let plain = without_tls(&three);
        assert!(three.contains("[tls]") && three.contains("certs/node-2.key"), "{three}");
        assert!(!plain.contains("[tls]") && !plain.contains("certs/"), "{plain}");
        assert_eq!(plain.matches("[[members]]").count(), 3, "{plain}");
        assert!(plain.contains("raft_listen = \"127.0.0.1:2002\""), "{plain}");
    }
}
