//! `yaoshi-bench`: Yaoshi's load generator and benchmark suites.
//!
//! - `yaoshi-bench load …` drives one action (signed per request exactly as the classic SDK signs:
//!   HMAC-SHA1 RPC v1, fresh nonce and timestamp) or a plain URL with C keep-alive connections for
//!   T seconds after a warm-up, closed-loop or (`--rate`) open-loop at a fixed rate, and prints
//!   requests/s and latency percentiles.
//! - `yaoshi-bench baseline …` serves a bare axum endpoint returning a JSON body of a given size.
//! - `yaoshi-bench crypto-table` starts a node, a worker and the baseline as real processes,
//!   measures the data plane through each, and rewrites its table in docs/BENCHMARKS.md.
//! - `yaoshi-bench raft-table` measures Raft writes (CreateKey on 1 and 3 nodes, log entries per
//!   fsync, commit latency, an etcd baseline, memory with 100k keys, whole-log replay) and rewrites
//!   its own table in docs/BENCHMARKS.md.
//! - `yaoshi-bench tls-table` measures Encrypt and CreateKey with and without TLS (mTLS between
//!   nodes, HTTPS on the API) side by side and rewrites its table in docs/BENCHMARKS.md.
//! - `yaoshi-bench policy-table` measures Encrypt signed by an unscoped credential and by
//!   credentials held to access points of 1,000 policies, side by side, and rewrites its table.
//! - `yaoshi-bench micro-table` collects the criterion results of
//!   `cargo bench -p yaoshi-bench --bench micro` into docs/BENCHMARKS.md.

mod baseline;
mod crypto_table;
mod load;
mod micro_table;
mod policy_table;
mod raft_table;
mod tls_table;

use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "yaoshi-bench", about = "Yaoshi load generator and benchmark suites")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load against one action or a plain URL, closed-loop or at a fixed rate (`--rate`); prints a
    /// JSON report.
    Load {
        /// `host:port` of a Yaoshi node or worker.
        #[arg(long, default_value = "127.0.0.1:8080")]
        endpoint: String,
        /// AccessKeyId to sign with.
        #[arg(long, env = "YAOSHI_ACCESS_KEY_ID", default_value = "")]
        access_key_id: String,
        /// AccessKeySecret to sign with.
        #[arg(long, env = "YAOSHI_ACCESS_KEY_SECRET", default_value = "", hide_env_values = true)]
        access_key_secret: String,
        /// The action, e.g. `Encrypt`.
        #[arg(long, default_value = "DescribeRegions")]
        action: String,
        /// An action parameter `Name=value` (repeatable).
        #[arg(long = "param")]
        params: Vec<String>,
        /// Drive this plain URL instead (a baseline), unsigned.
        #[arg(long)]
        url: Option<String>,
        /// Concurrent keep-alive connections.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// Measured seconds.
        #[arg(short = 'd', long, default_value_t = 5.0)]
        seconds: f64,
        /// Warm-up seconds before measuring.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Open loop: offer this many requests per second in total, on a constant-interval
        /// schedule spread over the connections, latency counted from each request's scheduled
        /// time. Without it, closed loop.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// Serve a bare axum endpoint (`POST /` and `GET /`) answering a JSON body of the given size.
    Baseline {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Size of the JSON body, in bytes.
        #[arg(long, default_value_t = 200)]
        body_bytes: usize,
    },
    /// Measure Encrypt, Decrypt, GenerateDataKey and AsymmetricSign through a node and through a
    /// worker, next to the bare axum baseline and the raw signing rate, and rewrite the table in
    /// docs/BENCHMARKS.md. Needs the `yaoshi` binary next to this one (build both with
    /// `cargo build --release -p yaoshi -p yaoshi-bench`).
    CryptoTable {
        /// Concurrent keep-alive connections per run.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// Measured seconds per run.
        #[arg(short = 'd', long, default_value_t = 5.0)]
        seconds: f64,
        /// Warm-up seconds per run.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// The Markdown file whose table is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: std::path::PathBuf,
    },
    /// Measure Encrypt (one node; a follower of three) and CreateKey (three nodes) with no TLS
    /// and with mutual TLS between nodes plus HTTPS on the API, side by side, and rewrite the TLS
    /// table in docs/BENCHMARKS.md. Needs `yaoshi` next to this binary.
    TlsTable {
        /// Concurrent keep-alive connections per run.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// Measured seconds per run.
        #[arg(short = 'd', long, default_value_t = 5.0)]
        seconds: f64,
        /// Warm-up seconds per run.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// The Markdown file whose table is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: std::path::PathBuf,
    },
    /// Measure Encrypt signed by the unscoped bootstrap credential and by credentials held to
    /// access points of 1,000 policies (exact and wildcard resources), side by side, and rewrite
    /// the policy table in docs/BENCHMARKS.md. Needs `yaoshi` next to this binary.
    PolicyTable {
        /// Concurrent keep-alive connections per run.
        #[arg(short = 'c', long, default_value_t = 32)]
        concurrency: usize,
        /// Measured seconds per run.
        #[arg(short = 'd', long, default_value_t = 5.0)]
        seconds: f64,
        /// Warm-up seconds per run.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// The Markdown file whose table is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: std::path::PathBuf,
    },
    /// Collect the criterion results of `cargo bench -p yaoshi-bench --bench micro` (median per
    /// operation) and rewrite their table in docs/BENCHMARKS.md.
    MicroTable {
        /// criterion's output directory (`<target>/criterion`).
        #[arg(long, default_value = "target/criterion")]
        criterion_dir: std::path::PathBuf,
        /// The Markdown file whose table is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: std::path::PathBuf,
    },
    /// Measure CreateKey through Raft on 1 and 3 real nodes (log entries per fsync from the log
    /// store's counters), single-client commit latency, a 3-member etcd baseline, memory with
    /// many keys and the whole-log replay at startup, and rewrite the Raft table in
    /// docs/BENCHMARKS.md. Needs `yaoshi` next to this binary and, for the replay,
    /// `examples/drop_state` (build everything with `cargo build --release -p yaoshi -p yaoshi-bench
    /// -p yaoshi-store --bins --example drop_state`, one invocation, as `benches/run-all` does).
    RaftTable {
        /// Concurrent keep-alive connections of the throughput runs.
        #[arg(short = 'c', long, default_value_t = 64)]
        concurrency: usize,
        /// Measured seconds per run.
        #[arg(short = 'd', long, default_value_t = 10.0)]
        seconds: f64,
        /// Warm-up seconds per run.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Keys created for the memory and replay measurements.
        #[arg(long, default_value_t = 100_000)]
        keys: u64,
        /// Openraft's `snapshot_logs_since_last` for the 1- and 3-node throughput clusters (a
        /// snapshot every that many log entries, the node's default; the memory and replay node
        /// never snapshots).
        #[arg(long, default_value_t = 50_000)]
        snapshot_logs_since_last: u64,
        /// The Markdown file whose table is rewritten.
        #[arg(long, default_value = "docs/BENCHMARKS.md")]
        out: std::path::PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Load {
            endpoint,
            access_key_id,
            access_key_secret,
            action,
            params,
            url,
            concurrency,
            seconds,
            warmup,
            rate,
        } => {
            let target = match url {
                Some(url) => load::Target::plain(&url),
                None => {
                    let client =
                        yaoshi_client::Client::new(&endpoint, &access_key_id, &access_key_secret);
                    let params = params
                        .iter()
                        .map(|p| {
                            let (k, v) = p.split_once('=').ok_or_else(|| {
                                anyhow::anyhow!("--param {p}: expected Name=value")
                            })?;
                            Ok((k.to_string(), v.to_string()))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    load::Target::kms(client, &action, params)
                }
            };
            if let Some(r) = rate {
                anyhow::ensure!(r > 0.0 && r.is_finite(), "--rate {r}: expected a positive rate");
            }
            let settings = load::Settings {
                rate,
                ..load::Settings::closed(
                    concurrency,
                    Duration::from_secs_f64(warmup),
                    Duration::from_secs_f64(seconds),
                )
            };
            let report = rt.block_on(load::run(target, settings));
            println!("{}", report.to_json());
            Ok(())
        }
        Command::Baseline { listen, body_bytes } => {
            rt.block_on(baseline::serve(&listen, body_bytes))
        }
        Command::CryptoTable { concurrency, seconds, warmup, out } => {
            let settings = load::Settings::closed(
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
            );
            rt.block_on(crypto_table::run(settings, &out))
        }
        Command::RaftTable {
            concurrency,
            seconds,
            warmup,
            keys,
            snapshot_logs_since_last,
            out,
        } => {
            let load = load::Settings::closed(
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
            );
            rt.block_on(raft_table::run(
                raft_table::RaftSettings { load, keys, snapshot_logs_since_last },
                &out,
            ))
        }
        Command::TlsTable { concurrency, seconds, warmup, out } => {
            let settings = load::Settings::closed(
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
            );
            rt.block_on(tls_table::run(settings, &out))
        }
        Command::PolicyTable { concurrency, seconds, warmup, out } => {
            let settings = load::Settings::closed(
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
            );
            rt.block_on(policy_table::run(settings, &out))
        }
        Command::MicroTable { criterion_dir, out } => micro_table::run(&criterion_dir, &out),
    }
}
