//! Membership changes through the real CLI (`yaoshi cluster add|promote|remove|status`) on real
//! processes, under a steady write load: a new node joins as a learner and catches up by snapshot
//! (the log is compacted aggressively), is promoted; the leader is removed; a voter is removed,
//! wiped and rejoins. No acknowledged write is lost, and every member serves every key.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{NodeProcess, free_port, must_be_ready, must_call, must_create_key};

struct Member {
    id: u64,
    http: String,
    raft: String,
    /// `admin_listen`: where `yaoshi cluster` reaches it.
    admin: String,
    dir: PathBuf,
}

/// A node config on free ports; `initial` lists the members forming the group (empty: join).
fn write_config(dir: &Path, m: &Member, initial: &[&Member]) -> PathBuf {
    let members: Vec<&Member> = if initial.is_empty() { vec![m] } else { initial.to_vec() };
    let mut text = format!(
        "node_id = {}\nregion = \"cn-hangzhou\"\nlisten = \"{}\"\nraft_listen = \"{}\"\n\
         admin_listen = \"{}\"\ndata_dir = \"{}\"\ndomain_key_env = \"YAOSHI_DOMAIN_KEY\"\njoin = {}\n",
        m.id,
        m.http,
        m.raft,
        m.admin,
        m.dir.display(),
        initial.is_empty()
    );
    for p in members {
        text.push_str(&format!("\n[[members]]\nid = {}\nraft_addr = \"{}\"\n", p.id, p.raft));
    }
    // A snapshot every 20 entries and nothing kept behind it: a joining node must install one.
    text.push_str(
        "\n[raft]\nsnapshot_logs_since_last = 20\nlogs_to_keep_after_snapshot = 0\n\
         request_timeout_ms = 3000\n",
    );
    let path = dir.join(format!("node{}.toml", m.id));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `yaoshi cluster ARGS --admin ADDR`, asserting success; returns stdout.
fn cli(node: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_yaoshi"))
        .arg("cluster")
        .args(args)
        .args(["--admin", node])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "yaoshi cluster {args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The status row of node `id` in `yaoshi cluster status` output.
fn row(status: &str, id: u64) -> String {
    status
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&id.to_string()))
        .unwrap_or_else(|| panic!("no row for node {id}:\n{status}"))
        .to_string()
}

/// Waits until `node` reports the given voters (in the status header).
/// Waits until `node`'s status shows exactly `voters` (e.g. `[2, 3, 4]`) and a leader among them
/// (a removed leader steps down only after the change commits, so the election may still run).
fn wait_voters(node: &str, voters: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let ids: Vec<&str> = voters.trim_matches(['[', ']']).split(", ").collect();
    loop {
        let s = cli(node, &["status"]);
        if s.lines().next().is_some_and(|h| {
            h.contains(&format!("voters {voters}"))
                && ids.iter().any(|id| h.contains(&format!("leader {id},")))
        }) {
            return s;
        }
        assert!(Instant::now() < deadline, "voters never became {voters}:\n{s}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Creates keys through `endpoints` in turn until `stop`; records the acknowledged ones.
async fn load(
    endpoints: Arc<Mutex<Vec<yaoshi_client::Client>>>,
    acked: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) -> usize {
    let mut failures = 0;
    let mut n = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let c = {
            let e = endpoints.lock().unwrap();
            e[n % e.len()].clone()
        };
        n += 1;
        let r = tokio::time::timeout(
            Duration::from_secs(15),
            c.call("CreateKey", &[("Description", "under membership change")]),
        )
        .await;
        match r {
            Ok(Ok(r)) if r.status == 200 => {
                acked.lock().unwrap().push(r.body["KeyMetadata"]["KeyId"].as_str().unwrap().into())
            }
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn add_promote_remove_and_rejoin_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let domain_key = yaoshi_crypto::DomainKey::generate().to_hex().to_string();
    let members: Vec<Member> = (1..=4)
        .map(|id| Member {
            id,
            http: format!("127.0.0.1:{}", free_port()),
            raft: format!("127.0.0.1:{}", free_port()),
            admin: format!("127.0.0.1:{}", free_port()),
            dir: dir.path().join(format!("node{id}")),
        })
        .collect();
    let initial: Vec<&Member> = members[..3].iter().collect();
    let start = |m: &Member, join: bool| {
        let cfg = write_config(dir.path(), m, if join { &[] } else { &initial });
        NodeProcess::with_config(&cfg, &m.dir, &m.http, &domain_key, &[])
    };
    let mut procs: Vec<Option<NodeProcess>> =
        members[..3].iter().map(|m| Some(start(m, false))).collect();
    for p in procs.iter().flatten() {
        must_be_ready(&p.client(), Duration::from_secs(60)).await;
    }
    let c2 = procs[1].as_ref().unwrap().client();
    let mut acked: Vec<String> = Vec::new();
    for _ in 0..30 {
        acked.push(must_create_key(&c2).await);
    }
    let status = wait_voters(&members[0].admin, "[1, 2, 3]");
    assert!(status.lines().count() == 5, "{status}");

    // Steady writes through nodes 2 and 3 while the membership changes.
    let endpoints = Arc::new(Mutex::new(vec![
        procs[1].as_ref().unwrap().client(),
        procs[2].as_ref().unwrap().client(),
    ]));
    let during = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let loader = tokio::spawn(load(endpoints.clone(), during.clone(), stop.clone()));

    // Node 4 joins: it never forms a group of its own; added as a learner through a follower
    // (forwarded to the leader), it catches up by snapshot, then is promoted.
    procs.push(Some(start(&members[3], true)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (r2, r4) = (members[1].admin.clone(), members[3].raft.clone());
    let out = tokio::task::spawn_blocking(move || cli(&r2, &["add", "4", &r4])).await.unwrap();
    assert!(out.contains("node 4 added as a learner"), "{out}");
    assert!(row(&out, 4).contains("Learner"), "{out}");
    let r1 = members[0].admin.clone();
    let out = tokio::task::spawn_blocking(move || cli(&r1, &["promote", "4"])).await.unwrap();
    assert!(out.contains("voters [1, 2, 3, 4]"), "{out}");
    let four = row(&out, 4);
    assert!(four.contains("Follower") || four.contains("Leader"), "{out}");
    // It caught up from a snapshot: its own status shows one.
    assert!(!four.trim_end().ends_with('-'), "node 4 has no snapshot: {out}");
    endpoints.lock().unwrap().push(procs[3].as_ref().unwrap().client());

    // Remove node 1 (whoever leads), then stop it.
    let r3 = members[2].admin.clone();
    let out = tokio::task::spawn_blocking(move || cli(&r3, &["remove", "1"])).await.unwrap();
    assert!(out.contains("node 1 removed"), "{out}");
    procs[0].take();
    let status = wait_voters(&members[1].admin, "[2, 3, 4]");
    assert!(
        status.contains("leader 2") || status.contains("leader 3") || status.contains("leader 4")
    );

    // Node 3 is removed, wiped, and rejoins as a new learner, then voter.
    let r2 = members[1].admin.clone();
    tokio::task::spawn_blocking(move || cli(&r2, &["remove", "3"])).await.unwrap();
    endpoints.lock().unwrap().retain(|c| c.endpoint() != members[2].http);
    procs[2].take();
    std::fs::remove_dir_all(&members[2].dir).unwrap();
    procs[2] = Some(start(&members[2], true));
    // Before it is added, the wiped node knows no credential and no leader: it must say it cannot
    // serve (503), not that the AccessKey does not exist (a wrong, definitive 404 found by the
    // chaos test).
    let c3 = procs[2].as_ref().unwrap().client();
    let deadline = Instant::now() + Duration::from_secs(20);
    let r = loop {
        match c3.call("ListKeys", &[]).await {
            Ok(r) => break r,
            Err(e) => assert!(Instant::now() < deadline, "wiped node never answered: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    crate::support::assert_api_error(&r, 503, "ServiceUnavailableTemporary");
    let (r4, r3) = (members[3].admin.clone(), members[2].raft.clone());
    tokio::task::spawn_blocking(move || cli(&r4, &["add", "3", &r3])).await.unwrap();
    let r4 = members[3].admin.clone();
    tokio::task::spawn_blocking(move || cli(&r4, &["promote", "3"])).await.unwrap();
    wait_voters(&members[3].admin, "[2, 3, 4]");
    // The rejoined node's own view: it installed a snapshot taken after node 1's removal and node
    // 4's addition, and holds that membership, not a stale one.
    wait_voters(&members[2].admin, "[2, 3, 4]");

    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let failed_during = loader.await.unwrap();
    let during = during.lock().unwrap().clone();
    assert!(during.len() >= 20, "too few writes during the changes: {}", during.len());
    acked.extend(during.iter().cloned());

    // Every acknowledged key is served by every member (linearizable reads), the wiped one too.
    for i in [1, 2, 3] {
        let c = procs[i].as_ref().unwrap().client();
        must_be_ready(&c, Duration::from_secs(30)).await;
        for k in &acked {
            must_call(&c, "DescribeKey", &[("KeyId", k)]).await;
        }
    }
    let status = cli(&members[1].admin, &["status"]);
    println!(
        "membership: {} keys acknowledged ({} during the changes, {failed_during} attempts failed \
         during leader changes), all served by nodes 2, 3 (wiped and rejoined) and 4\n{status}",
        acked.len(),
        during.len()
    );
    for id in [2, 3, 4] {
        let r = row(&status, id);
        assert!(!r.contains("unreachable"), "{status}");
    }
}
