//! The TLS table: what TLS costs. The same clusters (derived from `cluster-config/three-node`)
//! run once with no TLS anywhere and once with mutual TLS on the gRPC port and HTTPS on the API,
//! and Encrypt and CreateKey are measured on each side by side. Encrypt on one node isolates the
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

/// The three measurements of one security mode.
struct Side {
    encrypt_one: Report,
    encrypt_follower: Report,
    create_key: Report,
}

async fn measure(dir: &Path, security: Security, load: Settings) -> anyhow::Result<Side> {
    let plaintext = B64.encode([0x5au8; 32]);
    let encrypt = |key: &str| {
        vec![("KeyId".to_string(), key.to_string()), ("Plaintext".to_string(), plaintext.clone())]
    };
    eprintln!("{security:?}: Encrypt 32 B, 1 node…");
    let one = Cluster::start_with(&dir.join("one"), 1, 50_000, security)?;
    one.ready().await?;
    let c = one.nodes[0].client();
    let key = must(&c, "CreateKey", &[]).await?["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let encrypt_one = run_with(Arc::new(Target::kms(c, "Encrypt", encrypt(&key))), load).await;
    drop(one);

    eprintln!("{security:?}: 3 nodes…");
    let three = Cluster::start_with(&dir.join("three"), 3, 50_000, security)?;
    let leader = three.ready().await?;
    let follower = three.nodes[(leader + 1) % 3].client();
    let key = must(&follower, "CreateKey", &[]).await?["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let encrypt_follower =
        run_with(Arc::new(Target::kms(follower, "Encrypt", encrypt(&key))), load).await;
    let create_key = run_with(
        Arc::new(Target::kms(three.nodes[leader].client(), "CreateKey", Vec::new())),
        load,
    )
    .await;
    Ok(Side { encrypt_one, encrypt_follower, create_key })
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
    let plain = measure(&dir.join("plain"), Security::Plaintext, load).await?;
    let tls = measure(&dir.join("tls"), Security::AllTls, load).await?;
    let mut rows = String::new();
    for (name, p, t) in [
        ("Encrypt 32 B, 1 node (HTTPS only)", &plain.encrypt_one, &tls.encrypt_one),
        (
            "Encrypt 32 B, 3 nodes, to a follower (HTTPS + nonce claim over mTLS)",
            &plain.encrypt_follower,
            &tls.encrypt_follower,
        ),
        (
            "CreateKey, 3 nodes, to the leader (HTTPS + Raft over mTLS)",
            &plain.create_key,
            &tls.create_key,
        ),
    ] {
        let _ = writeln!(
            rows,
            "| {name} | {c} | {} | {} | **{:.0}%** |",
            cells(p),
            cells(t),
            100.0 * t.rps / p.rps.max(1e-9),
            c = load.concurrency,
        );
    }
    let claim = 100.0 * plain.encrypt_follower.rps / plain.encrypt_one.rps.max(1e-9);
    let table = format!(
        "{BEGIN}\n\
         Measured {date} on {machine}; nodes and the load generator share the machine (loopback). \
         Real release `yaoshi serve` processes from configs derived from `cluster-config/three-node`: \
         *without TLS* drops their `[tls]` table and serves plain HTTP; *with TLS* keeps it (mutual \
         TLS between nodes, certificates from `yaoshi cert`) and serves the API over HTTPS \
         (`--https-cert/--https-key`, a self-signed P-256 certificate for `localhost`, TLS 1.3, \
         rustls on both ends). Closed loop, {c} keep-alive connections (one TLS session each, so the \
         handshake is paid once per connection), {w:.0} s warm-up, {d:.0} s measured per cell; every \
         request signed with HMAC-SHA1 (fresh nonce and timestamp).\n\n\
         | Scenario | Clients | without TLS req/s | p50 / p99 ms | with TLS req/s | p50 / p99 ms | with ÷ without |\n\
         |---|---|---|---|---|---|---|\n{rows}\n\
         The nonce claim without TLS: Encrypt on a follower of three ÷ Encrypt on one node = \
         **{claim:.0}%** (one batched `ClaimNonces` call per peer and request burst; a one-node \
         region has no peer to ask).\n{END}",
        date = yaoshi_client::timestamp_now(),
        machine = crate::crypto_table::machine(),
        c = load.concurrency,
        w = load.warmup.as_secs_f64(),
        d = load.duration.as_secs_f64(),
    );
    crate::crypto_table::write_between(out, BEGIN, END, &table)?;
    println!("{table}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
