//! The TLS table: what TLS costs. The same clusters (derived from `cluster-config/three-node`)
//! run once with no TLS anywhere and once with mutual TLS on the gRPC port and HTTPS on the API,
//! and Encrypt and CreateKey are measured on each side by side, in interleaved rounds. Encrypt on one node isolates the
//! API's HTTPS; Encrypt on a follower of three also pays the nonce claim at a majority of the
//! voters (`yaoshi_raft::claims`), over mTLS or not; CreateKey pays HTTPS plus Raft replication
//! over mTLS.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::crypto_table::must;
use crate::load::{Report, Settings, Target, run_with};
use crate::raft_table::{Cluster, Security};

const BEGIN: &str = "<!-- tls-table:begin -->";
const END: &str = "<!-- tls-table:end -->";

/// Alternating rounds per cell: the machine's speed drifts between runs by more than the effect
/// measured, so each cell is the median of rounds interleaved with the other mode's.
const ROUNDS: usize = 3;

/// The clusters of one security mode, with a key on each.
struct Setup {
    one: Cluster,
    three: Cluster,
    one_key: String,
    three_key: String,
    leader: usize,
}

async fn created_key(c: &yaoshi_client::Client) -> anyhow::Result<String> {
    let body = must(c, "CreateKey", &[]).await?;
    body["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no KeyId in {body}"))
}

impl Setup {
    async fn start(dir: &Path, security: Security) -> anyhow::Result<Setup> {
        eprintln!("{security:?}: starting a 1-node and a 3-node cluster…");
        let one = Cluster::start_with(&dir.join("one"), 1, 50_000, security)?;
        one.ready().await?;
        let three = Cluster::start_with(&dir.join("three"), 3, 50_000, security)?;
        let leader = three.ready().await?;
        let one_key = created_key(&one.nodes[0].client()).await?;
        let three_key = created_key(&three.nodes[leader].client()).await?;
        Ok(Setup { one, three, one_key, three_key, leader })
    }

    /// The target of scenario `i` (see [`SCENARIOS`]).
    fn target(&self, i: usize) -> Target {
        let encrypt = |key: &str| {
            vec![
                ("KeyId".to_string(), key.to_string()),
                ("Plaintext".to_string(), B64.encode([0x5au8; 32])),
            ]
        };
        match i {
            0 => Target::kms(self.one.nodes[0].client(), "Encrypt", encrypt(&self.one_key)),
            1 => Target::kms(
                self.three.nodes[(self.leader + 1) % 3].client(),
                "Encrypt",
                encrypt(&self.three_key),
            ),
            _ => Target::kms(self.three.nodes[self.leader].client(), "CreateKey", Vec::new()),
        }
    }
}

/// The rows of the table, in order.
const SCENARIOS: [&str; 3] = [
    "Encrypt 32 B, 1 node (HTTPS only)",
    "Encrypt 32 B, 3 nodes, to a follower (HTTPS + nonce claim over mTLS)",
    "CreateKey, 3 nodes, to the leader (HTTPS + Raft over mTLS)",
];

/// The run with the median throughput.
pub(crate) fn median(mut runs: Vec<Report>) -> Report {
    runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    runs.swap_remove(runs.len() / 2)
}

fn cells(r: &Report) -> String {
    let errors = if r.errors > 0 {
        format!(" ({} errors: {})", r.errors, r.first_error.clone().unwrap_or_default())
    } else {
        String::new()
    };
    format!("{:.0}{errors} | {:.2} / {:.2}", r.rps, r.p50_ms, r.p99_ms)
}

pub(crate) async fn run(load: Settings, out: &Path) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("yaoshi-tls-bench-{}", std::process::id()));
    let plain = Setup::start(&dir.join("plain"), Security::Plaintext).await?;
    let tls = Setup::start(&dir.join("tls"), Security::AllTls).await?;
    let mut rows = String::new();
    let mut medians = Vec::new();
    for (i, name) in SCENARIOS.iter().enumerate() {
        let (mut p_runs, mut t_runs) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            eprintln!("{name}: round {}/{ROUNDS}…", round + 1);
            p_runs.push(run_with(Arc::new(plain.target(i)), load).await);
            t_runs.push(run_with(Arc::new(tls.target(i)), load).await);
        }
        let (p, t) = (median(p_runs), median(t_runs));
        let _ = writeln!(
            rows,
            "| {name} | {c} | {} | {} | **{:.0}%** |",
            cells(&p),
            cells(&t),
            100.0 * t.rps / p.rps.max(1e-9),
            c = load.concurrency,
        );
        medians.push(p);
    }
    drop((plain, tls));
    let claim = 100.0 * medians[1].rps / medians[0].rps.max(1e-9);
    let table = format!(
        "{BEGIN}\n\
         Measured {date} on {machine}; nodes and the load generator share the machine (loopback). \
         Real release `yaoshi serve` processes from configs derived from `cluster-config/three-node`: \
         *without TLS* drops their `[tls]` table and serves plain HTTP; *with TLS* keeps it (mutual \
         TLS between nodes, certificates from `yaoshi cert`) and serves the API over HTTPS \
         (`--https-cert/--https-key`, a self-signed P-256 certificate for `localhost`, TLS 1.3, \
         rustls on both ends). Both modes' clusters run at once and each cell is the median of {r} \
         runs interleaved with the other mode's (the machine's speed drifts between runs by more \
         than TLS costs). Closed loop, {c} keep-alive connections (one TLS session each, so the \
         handshake is paid once per connection), {w:.0} s warm-up, {d:.0} s measured per run; \
         every request signed with HMAC-SHA1 (fresh nonce and timestamp).\n\n\
         | Scenario | Clients | without TLS req/s | p50 / p99 ms | with TLS req/s | p50 / p99 ms | with ÷ without |\n\
         |---|---|---|---|---|---|---|\n{rows}\n\
         The nonce claim, without TLS: Encrypt on a follower of three ÷ Encrypt on one node = \
         **{claim:.0}%**. The follower sends one batched `ClaimNonces` call per peer and burst of \
         requests and waits for one answer (its own vote makes the majority of three); the two \
         other nodes answer on the same two cores as the node and the load generator, so the \
         figure is the whole cost of cross-node replay protection on this machine, not the RPC \
         alone. A one-node region asks nobody.\n{END}",
        date = yaoshi_client::timestamp_now(),
        machine = crate::crypto_table::machine(),
        c = load.concurrency,
        w = load.warmup.as_secs_f64(),
        d = load.duration.as_secs_f64(),
        r = ROUNDS,
    );
    crate::crypto_table::write_between(out, BEGIN, END, &table)?;
    println!("{table}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
