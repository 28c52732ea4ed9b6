//! The access-policy table: what the policy check costs on Encrypt. One real `yaoshi serve --dev`
//! node; the same Encrypt is signed by the unscoped bootstrap credential (no check, the baseline)
//! and by credentials held to access points of 1,000 policies each — one whose policies name
//! exact key ARNs, one whose policies all use wildcard resource patterns with region and account
//! wildcards and a name prefix (the allowing one last). Both are indexed by the evaluator, so a
//! request looks only at the policies that can name its key; the in-process timing of one
//! decision is printed next to the reference evaluator, which tries every policy in order. The access points and credentials are made with the real `yaoshi access-point` and
//! `yaoshi credential` commands on the node's admin listener.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use yaoshi_client::Client;
use yaoshi_testkit::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Launcher, create_key, free_addr, sibling_exe, until_ok,
};

use crate::crypto_table::must;
use crate::load::{Report, Settings, Target, run_with};
use crate::tls_table::median;

const BEGIN: &str = "<!-- policy-table:begin -->";
const END: &str = "<!-- policy-table:end -->";
/// Alternating rounds per cell (the machine's speed drifts between runs).
const ROUNDS: usize = 5;
/// Policies per access point.
const POLICIES: usize = 1000;

/// `POLICIES` policies allowing Encrypt: all but the last on other resources; `wildcard` makes
/// every resource pattern a wildcard one.
fn policies(key: &str, wildcard: bool) -> String {
    let mut list: Vec<serde_json::Value> = (0..POLICIES - 1)
        .map(|i| {
            let resource = if wildcard {
                format!("acs:kms:*:*:key/not-this-{i:04}-*")
            } else {
                format!("acs:kms:cn-hangzhou:1000000000000000:key/other-{i:04}")
            };
            serde_json::json!({"Name": format!("p{i}"), "Actions": ["Encrypt", "Decrypt"], "Resources": [resource]})
        })
        .collect();
    let last = if wildcard {
        format!("acs:kms:*:*:key/{key}*")
    } else {
        format!("acs:kms:cn-hangzhou:1000000000000000:key/{key}")
    };
    list.push(serde_json::json!({
        "Name": "allow", "Actions": ["Encrypt*"], "Resources": [last], "SourceCidrs": ["127.0.0.0/8"],
    }));
    serde_json::Value::Array(list).to_string()
}

/// Runs `yaoshi <args…>` against the admin listener and returns its stdout.
fn yaoshi(bin: &Path, admin: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin).args(args).args(["--admin", admin]).output()?;
    anyhow::ensure!(
        out.status.success(),
        "yaoshi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// A credential held to `access_point`: (id, secret) from `yaoshi credential create`.
fn credential(bin: &Path, admin: &str, access_point: &str) -> anyhow::Result<(String, String)> {
    let out = yaoshi(bin, admin, &["credential", "create", "--access-point", access_point])?;
    let value = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::to_string)
            .context("no credential printed")
    };
    Ok((value("AccessKeyId=")?, value("AccessKeySecret=")?))
}

/// Nanoseconds per decision of the compiled evaluator and of the reference one over `policies`
/// (JSON), for an Encrypt of `key` from 127.0.0.1, measured in this process.
fn evaluate_ns(policies_json: &str, key: &str) -> anyhow::Result<(f64, f64)> {
    use yaoshi_model::policy::{AccessRequest, CompiledPolicies, Decision, evaluate};
    let policies: Vec<yaoshi_model::policy::Policy> = serde_json::from_str(policies_json)?;
    let compiled = CompiledPolicies::new(policies.clone(), &["Encrypt", "Decrypt", "DescribeKey"]);
    let resources = vec![vec![format!("acs:kms:cn-hangzhou:1000000000000000:key/{key}")]];
    let req = AccessRequest {
        action: "Encrypt",
        resources: &resources,
        source: Some([127, 0, 0, 1].into()),
    };
    let time = |n: u32, f: &dyn Fn() -> Decision| -> anyhow::Result<f64> {
        let start = std::time::Instant::now();
        for _ in 0..n {
            anyhow::ensure!(
                std::hint::black_box(f()) == Decision::Allow,
                "the policies do not allow"
            );
        }
        Ok(start.elapsed().as_nanos() as f64 / f64::from(n))
    };
    Ok((time(200_000, &|| compiled.evaluate(&req))?, time(2_000, &|| evaluate(&policies, &req))?))
}

pub(crate) async fn run(load: Settings, out: &Path) -> anyhow::Result<()> {
    let bin = sibling_exe("yaoshi")?;
    let dir = std::env::temp_dir().join(format!("yaoshi-policy-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (http, admin) = (free_addr(), free_addr());
    let launcher = Launcher::new(&bin, ACCESS_KEY_ID, ACCESS_KEY_SECRET).with_rust_log("warn");
    let extra = ["--admin-listen", admin.as_str(), "--nonce-cache-entries", "64000000"];
    let mut node =
        launcher.dev_node("node", &dir.join("data"), &http, &extra, &dir.join("node.log"));
    node.try_start()?;
    let client = launcher.client(&http);
    until_ok("node ready", Duration::from_secs(60), || must(&client, "DescribeRegions", &[]))
        .await?;
    let key = until_ok("a key", Duration::from_secs(30), || create_key(&client, &[])).await?;
    let mut signers =
        vec![("unscoped (bootstrap credential, no check)".to_string(), client.clone())];
    let mut decision_ns = Vec::new();
    for (name, wildcard, label) in [
        ("exact", false, "1,000 policies, exact key ARNs (indexed)"),
        (
            "wild",
            true,
            "1,000 policies, wildcard resources `acs:kms:*:*:key/<prefix>*` (prefix-indexed)",
        ),
    ] {
        let file = dir.join(format!("{name}.json"));
        let text = policies(&key, wildcard);
        let (compiled_ns, reference_ns) = evaluate_ns(&text, &key)?;
        decision_ns.push((label, compiled_ns, reference_ns));
        std::fs::write(&file, text)?;
        yaoshi(
            &bin,
            &admin,
            &["access-point", "put", name, "--policies", &file.display().to_string()],
        )?;
        let (id, secret) = credential(&bin, &admin, name)?;
        let c = Client::new(&http, &id, &secret);
        let probe = [("KeyId", key.as_str()), ("Plaintext", "aGk=")];
        until_ok("the scoped credential", Duration::from_secs(10), || must(&c, "Encrypt", &probe))
            .await?;
        signers.push((label.to_string(), c));
    }
    let params = vec![
        ("KeyId".to_string(), key.clone()),
        ("Plaintext".to_string(), B64.encode([0x5au8; 32])),
    ];
    let mut runs: Vec<Vec<Report>> = vec![Vec::new(); signers.len()];
    // Each round starts with another signer, so no signer always follows the same one (the
    // nonce cache's table doublings and other slow moments land on every signer alike).
    for round in 0..ROUNDS {
        for k in 0..signers.len() {
            let i = (round + k) % signers.len();
            let (label, c) = &signers[i];
            let target = Target::kms(c.clone(), "Encrypt", params.clone());
            let r = run_with(Arc::new(target), load).await;
            eprintln!("{label}: round {}/{ROUNDS}: {:.0} req/s", round + 1, r.rps);
            runs[i].push(r);
        }
    }
    drop(node);
    let medians: Vec<Report> = runs.into_iter().map(median).collect();
    let base = medians[0].rps.max(1e-9);
    // CPU time per unscoped request: both cores serve the node and the load generator.
    let per_request_ns = 2.0e9 / base;
    let mut decisions = String::new();
    for (label, compiled, reference) in &decision_ns {
        let _ = writeln!(
            decisions,
            "| {label} | {compiled:.0} ns (**{:.2}%**) | {reference:.0} ns ({:.0}%) |",
            100.0 * compiled / per_request_ns,
            100.0 * reference / per_request_ns,
        );
    }
    let mut rows = String::new();
    for ((label, _), r) in signers.iter().zip(&medians) {
        let errors = if r.errors > 0 { format!(" ({} errors)", r.errors) } else { String::new() };
        let _ = writeln!(
            rows,
            "| Encrypt 32 B, {label} | {:.0}{errors} | {:.2} / {:.2} | **{:.1}%** |",
            r.rps,
            r.p50_ms,
            r.p99_ms,
            100.0 * r.rps / base,
        );
    }
    let table = format!(
        "{BEGIN}\n\
         Measured {date} on {machine}; the node and the load generator share the machine \
         (loopback). One release `yaoshi serve --dev` node; the same Encrypt (AES-256, 32 B) signed \
         by three credentials, each cell the median of {r} runs interleaved with the others' (each round
         starting with another credential). \
         Closed loop, {c} keep-alive connections, {w:.0} s warm-up, {d:.0} s measured per run; \
         every request signed with HMAC-SHA1 (fresh nonce and timestamp). The scoped credentials' \
         access points hold {n} policies each (made with `yaoshi access-point put` and \
         `yaoshi credential create`); the check is `access.rs` with the compiled policies of \
         `yaoshi_model::policy::CompiledPolicies`, recompiled only when an access point changes.\n\n\
         | Scenario | req/s | p50 / p99 ms | ÷ unscoped |\n|---|---|---|---|\n{rows}\n\
         The runs of one credential vary by more than the check costs (the machine's speed drifts \
         by ±20% between runs), so the check itself is also timed in-process: one decision of the \
         compiled evaluator on the same access point and request, next to the reference \
         evaluator (`yaoshi_model::policy::evaluate`, every policy in order), against the \
         {per_request_ns:.0} ns of the two cores' time one unscoped Encrypt takes at the \
         throughput above.\n\n\
         | Access point | compiled decision (÷ one Encrypt) | reference decision (÷ one Encrypt) |\n|---|---|---|\n{decisions}{END}",
        date = yaoshi_client::timestamp_now(),
        machine = crate::crypto_table::machine(),
        c = load.concurrency,
        w = load.warmup.as_secs_f64(),
        d = load.duration.as_secs_f64(),
        r = ROUNDS,
        n = POLICIES,
    );
    crate::crypto_table::write_between(out, BEGIN, END, &table)?;
    println!("{table}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
