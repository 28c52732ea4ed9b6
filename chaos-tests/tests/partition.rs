//! The leader cut off from the other two nodes (a network partition, not a crash).
//!
//! Three nodes with their own [`Network`](chaos_tests::Network): the agreed leader is isolated;
//! the majority must elect a new leader (as their logs report it) and serve CreateKey and
//! DescribeKey, while a CreateKey on the isolated old leader must not succeed (it cannot commit:
//! no answer within 3 s, or a 5xx). After the heal the old leader must converge: it answers
//! DescribeKey of the key created during the partition, follows the new leader, and every node
//! lists the same keys (the write it accepted alone is gone).
//!
//! The body runs twice: with the best mechanism available (network namespaces as root) and with
//! the TCP proxies forced, so both mechanisms are exercised wherever namespaces are available.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chaos_tests::{Cluster, ClusterSpec, NetMode, Outcome, Rng, call_once, call_retrying, run_dir};
use yaoshi_client::Client;

const PER_ATTEMPT: Duration = Duration::from_secs(3);

/// The KeyIds a node lists (one page of 100: the test makes a handful).
async fn listed_keys(c: &Client) -> Option<BTreeSet<String>> {
    let r = call_once(c, "ListKeys", &[("PageSize", "100")], PER_ATTEMPT).await;
    let r = r.answered().filter(|r| r.status == 200)?;
    Some(
        r.body["Keys"]["Key"]
            .as_array()?
            .iter()
            .filter_map(|k| k["KeyId"].as_str().map(str::to_string))
            .collect(),
    )
}

async fn partition_body(name: &str, mode: Option<NetMode>) {
    let started = Instant::now();
    let dir = run_dir(name);
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| u64::try_from(chaos_tests::wall_ms()).unwrap_or(1));
    let mut rng = Rng::new(seed);
    let spec = ClusterSpec { network: true, net_mode: mode, ..ClusterSpec::default() };
    let mut cluster = Cluster::start(&dir, &spec);
    let net_mode = cluster.net().mode();
    println!("[{name}] run directory {}, seed {seed}", dir.display());
    println!("[{name}] network: {}", cluster.net().describe());
    if let Some(m) = mode {
        assert_eq!(net_mode, m);
    }
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    let old = cluster.agreed_leader(Duration::from_secs(20)).await.unwrap();
    let ready = started.elapsed();
    let majority: Vec<usize> = (0..3).filter(|&i| i != old).collect();

    // Cut the leader off.
    cluster.net().isolate(old);
    let cut_at = Instant::now();
    let new = loop {
        let views: Vec<Option<u64>> =
            majority.iter().map(|&i| cluster.nodes[i].reported_leader()).collect();
        if let [Some(a), Some(b)] = views[..]
            && a == b
            && a != old as u64 + 1
        {
            break a as usize - 1;
        }
        assert!(
            cut_at.elapsed() < Duration::from_secs(15),
            "[{name}] no new leader among {majority:?} 15 s after isolating node{}: they report \
             {views:?}; logs in {}",
            old + 1,
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let elected_in = cut_at.elapsed();
    assert!(majority.contains(&new));

    // The majority serves writes and reads.
    let clients: Vec<Client> = majority.iter().map(|&i| cluster.nodes[i].client()).collect();
    let create_at = Instant::now();
    let params = [("Description", "created during the partition")];
    let (r, attempts) = call_retrying(
        &clients,
        &mut rng,
        "CreateKey",
        &params,
        PER_ATTEMPT,
        Duration::from_secs(20),
    )
    .await
    .unwrap_or_else(|e| panic!("[{name}] CreateKey through the majority: {e}"));
    assert_eq!(r.status, 200, "[{name}] CreateKey through the majority: {r:?}");
    let key = r.body["KeyMetadata"]["KeyId"].as_str().expect("KeyId").to_string();
    let create_took = create_at.elapsed();
    for c in &clients {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let d = call_once(c, "DescribeKey", &[("KeyId", &key)], PER_ATTEMPT).await;
            if d.answered().is_some_and(|r| r.status == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "[{name}] DescribeKey {key} on {}: {d:?}",
                c.endpoint()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // The isolated old leader cannot commit a write.
    let isolated = cluster.nodes[old].client();
    let params = [("Description", "written to the isolated old leader")];
    let stale = call_once(&isolated, "CreateKey", &params, PER_ATTEMPT).await;
    match &stale {
        Outcome::Answered(r) => {
            assert_ne!(r.status, 200, "[{name}] the isolated old leader committed a write: {r:?}")
        }
        Outcome::Transient(_) => {}
    }

    // Heal: the old leader converges.
    cluster.net().heal();
    let healed_at = Instant::now();
    loop {
        let d = call_once(&isolated, "DescribeKey", &[("KeyId", &key)], PER_ATTEMPT).await;
        if d.answered().is_some_and(|r| r.status == 200) {
            break;
        }
        assert!(
            healed_at.elapsed() < Duration::from_secs(20),
            "[{name}] node{} does not know {key} 20 s after the heal: {d:?}; logs in {}",
            old + 1,
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let converged_in = healed_at.elapsed();
    let leader = cluster.agreed_leader(Duration::from_secs(20)).await.unwrap();
    let all: Vec<Client> = cluster.clients();
    let deadline = Instant::now() + Duration::from_secs(10);
    let lists = loop {
        let mut lists = Vec::new();
        for c in &all {
            lists.push(listed_keys(c).await);
        }
        if lists[0].is_some() && lists.iter().all(|l| *l == lists[0]) {
            break lists;
        }
        assert!(Instant::now() < deadline, "[{name}] the nodes list different keys: {lists:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let keys = lists[0].clone().unwrap();
    assert!(keys.contains(&key), "[{name}] {key} missing from {keys:?}");
    let crashed = cluster.crashed();
    assert!(crashed.is_empty(), "[{name}] processes died: {crashed:#?}");
    cluster.stop_all();

    let stale = match &stale {
        Outcome::Answered(r) => format!("answered {} {}", r.status, r.body),
        Outcome::Transient(e) => e.clone(),
    };
    println!(
        "[{name}] {net_mode:?}: ready {ready:.1?}; node{} isolated, node{} elected in \
         {elected_in:.1?}; CreateKey through the majority {create_took:.1?} ({attempts} \
         attempt(s)); CreateKey on the isolated old leader: {stale}; after the heal node{} knew \
         the key in {converged_in:.1?}, leader node{}, {} key(s) everywhere; total {:.1?}",
        old + 1,
        new + 1,
        old + 1,
        leader + 1,
        keys.len(),
        started.elapsed()
    );
}

/// Namespaces when running as root and they work, else the proxies (the output says which).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_is_replaced_and_converges() {
    partition_body("partition", None).await;
}

/// The same with the TCP proxies forced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_is_replaced_and_converges_through_proxies() {
    partition_body("partition-proxy", Some(NetMode::Proxy)).await;
}
