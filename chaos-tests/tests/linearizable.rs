//! The control plane stays linearizable and loses no acknowledged write under faults (issue 6).
//!
//! Real `yaoshi serve` processes (3 or 5), each with its own network address, so links can be cut
//! ([`chaos_tests::net`]: network namespaces as root, fault-injecting proxies otherwise). Client
//! tasks drive CreateKey, UpdateKeyDescription, EnableKey/DisableKey, DescribeKey,
//! CreateAlias/UpdateAlias and ListAliases against random nodes and record every invocation and
//! completion. Meanwhile faults hit the cluster: SIGKILL + restart and SIGSTOP/SIGCONT of the
//! leader or a follower, isolation of the leader (with a stale-read probe on it), random
//! partitions, and wipe-and-rejoin of a follower through `yaoshi cluster remove/add/promote`
//! (a membership change under load; the rejoining node catches up by snapshot).
//!
//! At the end every node is read; the whole history must be linearizable (Wing–Gong/Porcupine
//! search in [`chaos_tests::linearizability`] over [`chaos_tests::kms_model`]); every acknowledged
//! CreateKey is on every node; the isolated old leader never answered a stale read; the stores
//! of the stopped nodes have identical state digests (every column family) and audit trails. As a
//! control, the same history with one read corrupted must be rejected by the checker.
//!
//! Profiles: short by default (CI: 3 nodes, one seed, a dozen faults); `CHAOS_PROFILE=long` runs
//! 3 and 5 nodes, `CHAOS_SEEDS` seeds each (default 2), `CHAOS_FAULTS` faults each (default 100).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chaos_tests::call::Outcome;
use chaos_tests::kms_model::{
    AliasOutcome, ErrorMeaning, KeyOutcome, KeyStatus, KeyView, KmsInput, KmsModel, KmsOperation,
    KmsOutput, error_meaning,
};
use chaos_tests::linearizability::{CheckResult, check};
use chaos_tests::{Cluster, ClusterSpec, Rng, call_once, call_retrying, run_dir};
use yaoshi_client::{Client, Response};

const REGION: &str = "cn-hangzhou";
const OP_TIMEOUT: Duration = Duration::from_secs(3);
const CLIENTS: usize = 6;
const INITIAL_KEYS: usize = 8;
const ALIASES: usize = 4;

/// One run's settings.
#[derive(Debug, Clone, Copy)]
struct Profile {
    nodes: usize,
    seed: u64,
    faults: usize,
}

/// What one run measured.
#[derive(Debug, Default)]
struct Figures {
    nodes: usize,
    seed: u64,
    mechanism: String,
    faults: BTreeMap<&'static str, usize>,
    ops: usize,
    ok_ops: usize,
    indeterminate: usize,
    no_effect: usize,
    acked_creates: usize,
    lost_creates: usize,
    stale_probes: usize,
    stale_reads: usize,
    linearizable: bool,
    corrupted_rejected: bool,
    check_time: Duration,
    audit_events: usize,
    digests_equal: bool,
    trails_equal: bool,
    wall: Duration,
}

/// The shared record of a run.
struct Recorder {
    start: Instant,
    ops: Mutex<Vec<KmsOperation>>,
    no_effect: AtomicUsize,
}

impl Recorder {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn push(&self, op: KmsOperation) {
        self.ops.lock().unwrap().push(op);
    }
}

/// The API call of a modelled input.
fn request(input: &KmsInput) -> (&'static str, Vec<(&str, String)>) {
    match input {
        KmsInput::CreateKey { description } => {
            ("CreateKey", vec![("Description", description.clone())])
        }
        KmsInput::UpdateKeyDescription { key, description } => (
            "UpdateKeyDescription",
            vec![("KeyId", key.clone()), ("Description", description.clone())],
        ),
        KmsInput::EnableKey { key } => ("EnableKey", vec![("KeyId", key.clone())]),
        KmsInput::DisableKey { key } => ("DisableKey", vec![("KeyId", key.clone())]),
        KmsInput::DescribeKey { key } => ("DescribeKey", vec![("KeyId", key.clone())]),
        KmsInput::CreateAlias { alias, key } => {
            ("CreateAlias", vec![("AliasName", alias.clone()), ("KeyId", key.clone())])
        }
        KmsInput::UpdateAlias { alias, key } => {
            ("UpdateAlias", vec![("AliasName", alias.clone()), ("KeyId", key.clone())])
        }
        KmsInput::GetAlias { .. } => ("ListAliases", vec![("PageSize", "100".to_string())]),
        KmsInput::IsAliasOf { alias: _, key } => {
            ("ListAliasesByKeyId", vec![("KeyId", key.clone()), ("PageSize", "100".to_string())])
        }
    }
}

/// The model's reading of a 200 answer.
fn success(input: &KmsInput, r: &Response) -> Option<KmsOutput> {
    let meta = &r.body["KeyMetadata"];
    Some(match input {
        KmsInput::CreateKey { .. } => KmsOutput::Created(meta["KeyId"].as_str()?.to_string()),
        KmsInput::UpdateKeyDescription { .. }
        | KmsInput::EnableKey { .. }
        | KmsInput::DisableKey { .. } => KmsOutput::KeyWrite(KeyOutcome::Ok),
        KmsInput::DescribeKey { .. } => KmsOutput::Described(Some(KeyView {
            description: meta["Description"].as_str()?.to_string(),
            status: KeyStatus::from_api(meta["KeyState"].as_str()?)?,
        })),
        KmsInput::CreateAlias { .. } | KmsInput::UpdateAlias { .. } => {
            KmsOutput::AliasWrite(AliasOutcome::Ok)
        }
        KmsInput::GetAlias { alias } => {
            let items = r.body["Aliases"]["Alias"].as_array()?;
            let bound = items.iter().find(|a| a["AliasName"].as_str() == Some(alias.as_str()));
            KmsOutput::AliasTarget(bound.and_then(|a| a["KeyId"].as_str()).map(str::to_string))
        }
        KmsInput::IsAliasOf { alias, .. } => {
            let items = r.body["Aliases"]["Alias"].as_array()?;
            KmsOutput::AliasOf(items.iter().any(|a| a["AliasName"].as_str() == Some(alias)))
        }
    })
}

/// Runs `inputs` (one request; several inputs only for the per-alias readings of one
/// ListAliases) on `c` and records them. Returns the outputs (None: indeterminate).
async fn perform(
    rec: &Recorder,
    client_id: u64,
    c: &Client,
    inputs: Vec<KmsInput>,
) -> Vec<Option<KmsOutput>> {
    let (action, params) = request(&inputs[0]);
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let call = rec.now();
    let out = call_once(c, action, &params, OP_TIMEOUT).await;
    let ret = rec.now();
    let is_read = matches!(
        inputs[0],
        KmsInput::DescribeKey { .. } | KmsInput::GetAlias { .. } | KmsInput::IsAliasOf { .. }
    );
    let mut outputs = Vec::new();
    for input in inputs {
        let output = match &out {
            Outcome::Answered(r) if r.status == 200 => success(&input, r),
            Outcome::Answered(r) => match error_meaning(&input, r.code().unwrap_or_default()) {
                ErrorMeaning::Output(o) => Some(o),
                ErrorMeaning::Indeterminate => None,
                ErrorMeaning::NoEffect(code) => {
                    rec.no_effect.fetch_add(1, Ordering::SeqCst);
                    eprintln!("no-effect answer {code:?} to {input:?}: {:?}", r.body);
                    outputs.push(None);
                    continue;
                }
            },
            Outcome::Transient(_) => None,
        };
        // A read without an answer tells nothing: leave it out (it only slows the checker).
        if output.is_some() || !is_read {
            rec.push(KmsOperation { client: client_id, input, call, output: output.clone(), ret });
        }
        outputs.push(output);
    }
    outputs
}

/// The pool of keys and aliases clients work on.
struct Pool {
    keys: Mutex<Vec<String>>,
    aliases: Vec<String>,
    /// Unique description counter.
    seq: AtomicUsize,
}

impl Pool {
    fn key(&self, rng: &mut Rng) -> String {
        let keys = self.keys.lock().unwrap();
        keys[rng.below(keys.len())].clone()
    }

    fn description(&self, client: u64) -> String {
        format!("c{client}-{}", self.seq.fetch_add(1, Ordering::SeqCst))
    }
}

/// One client: random operations on random nodes until `stop`.
async fn client_loop(
    id: u64,
    clients: Vec<Client>,
    mut rng: Rng,
    pool: Arc<Pool>,
    rec: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        let c = &clients[rng.below(clients.len())];
        let input = match rng.below(100) {
            0..4 => KmsInput::CreateKey { description: pool.description(id) },
            4..30 => KmsInput::UpdateKeyDescription {
                key: pool.key(&mut rng),
                description: pool.description(id),
            },
            30..38 => KmsInput::EnableKey { key: pool.key(&mut rng) },
            38..46 => KmsInput::DisableKey { key: pool.key(&mut rng) },
            46..75 => KmsInput::DescribeKey { key: pool.key(&mut rng) },
            75..80 => KmsInput::CreateAlias {
                alias: pool.aliases[rng.below(ALIASES)].clone(),
                key: pool.key(&mut rng),
            },
            80..90 => KmsInput::UpdateAlias {
                alias: pool.aliases[rng.below(ALIASES)].clone(),
                key: pool.key(&mut rng),
            },
            _ => KmsInput::GetAlias { alias: String::new() },
        };
        let inputs = match input {
            KmsInput::GetAlias { .. } => {
                pool.aliases.iter().map(|a| KmsInput::GetAlias { alias: a.clone() }).collect()
            }
            other => vec![other],
        };
        let created = matches!(inputs[0], KmsInput::CreateKey { .. });
        let outputs = perform(&rec, id, c, inputs).await;
        if created && let Some(Some(KmsOutput::Created(k))) = outputs.first() {
            pool.keys.lock().unwrap().push(k.clone());
        }
        tokio::time::sleep(Duration::from_millis(rng.range(5, 30))).await;
    }
}

/// Runs `yaoshi cluster ARGS --admin ADDR` with the operator certificate `tls` (blocking, in the
/// root namespace).
fn admin(node: &str, args: &[&str], tls: &[String]) -> Result<String, String> {
    let out = std::process::Command::new(chaos_tests::binary::yaoshi_binary())
        .arg("cluster")
        .args(args)
        .args(["--admin", node])
        .args(tls)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Sets `join = true` in a node's config (a wiped node must not form a group of its own).
fn set_join(config: &std::path::Path) {
    let text = std::fs::read_to_string(config).unwrap();
    let mut t: toml::Table = toml::from_str(&text).unwrap();
    t.insert("join".into(), toml::Value::Boolean(true));
    std::fs::write(config, toml::to_string(&t).unwrap()).unwrap();
}

/// The leader every node in `among` reports (not `except`), once they agree.
async fn leader_among(cluster: &Cluster, among: &[usize], timeout: Duration) -> Option<usize> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let views: Vec<Option<u64>> =
            among.iter().map(|&i| cluster.nodes[i].reported_leader()).collect();
        if let Some(Some(l)) = views.first()
            && views.iter().all(|v| *v == Some(*l))
            && among.contains(&(*l as usize - 1))
        {
            return Some(*l as usize - 1);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn run(profile: Profile) -> Figures {
    let started = Instant::now();
    let mut rng = Rng::new(profile.seed);
    let dir = run_dir(&format!("linearizable-{}n-{}", profile.nodes, profile.seed));
    let spec = ClusterSpec {
        nodes: profile.nodes,
        network: true,
        // Compaction often enough that a wiped node catches up by snapshot.
        raft_toml: Some("snapshot_logs_since_last = 200\nlogs_to_keep_after_snapshot = 20".into()),
        ..ClusterSpec::default()
    };
    let mut cluster = Cluster::start(&dir, &spec);
    let mut fig = Figures {
        nodes: profile.nodes,
        seed: profile.seed,
        mechanism: cluster.net().describe(),
        ..Figures::default()
    };
    println!(
        "linearizable: {} nodes, seed {}, {} faults; {}; run directory {}",
        profile.nodes,
        profile.seed,
        profile.faults,
        fig.mechanism,
        dir.display()
    );
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
    let clients = cluster.clients();
    let rec = Arc::new(Recorder {
        start: Instant::now(),
        ops: Mutex::new(Vec::new()),
        no_effect: AtomicUsize::new(0),
    });

    // Initial keys and aliases, recorded like any operation.
    let pool = Arc::new(Pool {
        keys: Mutex::new(Vec::new()),
        aliases: (0..ALIASES)
            .map(|i| format!("alias/chaos-{}-{i}", profile.seed % 10_000))
            .collect(),
        seq: AtomicUsize::new(0),
    });
    while pool.keys.lock().unwrap().len() < INITIAL_KEYS {
        let input = KmsInput::CreateKey { description: pool.description(0) };
        if let Some(Some(KmsOutput::Created(k))) =
            perform(&rec, 0, &clients[0], vec![input]).await.first()
        {
            pool.keys.lock().unwrap().push(k.clone());
        }
    }
    let probe_key = pool.keys.lock().unwrap()[0].clone();

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for id in 1..=CLIENTS as u64 {
        tasks.push(tokio::spawn(client_loop(
            id,
            clients.clone(),
            rng.fork(),
            pool.clone(),
            rec.clone(),
            stop.clone(),
        )));
    }

    let n = profile.nodes;
    for f in 0..profile.faults {
        let crashed = cluster.crashed();
        assert!(crashed.is_empty(), "{}", crashed.join("\n"));
        let leader = cluster
            .agreed_leader(Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("fault {f}: {e} (logs in {})", dir.display()));
        let follower = (leader + 1 + rng.below(n - 1)) % n;
        // Every tenth fault (from the sixth) is a wipe-and-rejoin, so even the short profile
        // changes the membership under load; the others are drawn.
        let kind = match rng.below(100) {
            _ if f % 10 == 5 => "wipe and rejoin follower",
            0..18 => "kill leader",
            18..34 => "pause leader",
            34..54 => "isolate leader",
            54..72 => "partition",
            72..84 => "kill follower",
            84..92 => "pause follower",
            _ => "partition",
        };
        *fig.faults.entry(kind).or_default() += 1;
        let down = Duration::from_millis(rng.range(700, 2000));
        match kind {
            "kill leader" | "kill follower" => {
                let i = if kind == "kill leader" { leader } else { follower };
                cluster.nodes[i].process.kill();
                tokio::time::sleep(down).await;
                cluster.nodes[i].process.start();
            }
            "pause leader" | "pause follower" => {
                let i = if kind == "pause leader" { leader } else { follower };
                cluster.nodes[i].process.pause();
                tokio::time::sleep(down).await;
                cluster.nodes[i].process.resume();
            }
            "isolate leader" => {
                cluster.net().isolate(leader);
                let rest: Vec<usize> = (0..n).filter(|&i| i != leader).collect();
                if let Some(_new) = leader_among(&cluster, &rest, Duration::from_secs(10)).await {
                    // Stale-read probe: a write acknowledged by the majority, then a read on the
                    // isolated old leader, which must not answer with the old value.
                    let description = pool.description(99);
                    let majority: Vec<Client> = rest.iter().map(|&i| clients[i].clone()).collect();
                    let params =
                        [("KeyId", probe_key.as_str()), ("Description", description.as_str())];
                    let call = rec.now();
                    let acked = call_retrying(
                        &majority,
                        &mut rng,
                        "UpdateKeyDescription",
                        &params,
                        OP_TIMEOUT,
                        Duration::from_secs(10),
                    )
                    .await;
                    let ret = rec.now();
                    let input = KmsInput::UpdateKeyDescription {
                        key: probe_key.clone(),
                        description: description.clone(),
                    };
                    let output = match &acked {
                        Ok((r, 1)) if r.status == 200 => Some(KmsOutput::KeyWrite(KeyOutcome::Ok)),
                        _ => None,
                    };
                    let acknowledged = output.is_some();
                    rec.push(KmsOperation { client: 99, input, call, output, ret });
                    if acknowledged {
                        fig.stale_probes += 1;
                        let read = KmsInput::DescribeKey { key: probe_key.clone() };
                        let out = perform(&rec, 98, &clients[leader], vec![read]).await;
                        if let Some(Some(KmsOutput::Described(Some(v)))) = out.first()
                            && v.description != description
                        {
                            fig.stale_reads += 1;
                        }
                    }
                }
                tokio::time::sleep(down / 2).await;
                cluster.net().heal();
            }
            "partition" => {
                let minority = rng.range(1, (n as u64 - 1) / 2 + 1) as usize;
                let mut ids: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    ids.swap(i, rng.below(i + 1));
                }
                let (a, b) = ids.split_at(minority);
                cluster.net().partition(&[a.to_vec(), b.to_vec()]);
                tokio::time::sleep(down).await;
                cluster.net().heal();
            }
            "wipe and rejoin follower" => {
                let via = cluster.nodes[leader].admin.clone();
                let id = (follower + 1).to_string();
                let addr = cluster.nodes[follower].raft.clone();
                let tls = cluster.admin_tls_args();
                let removed =
                    tokio::task::spawn_blocking(move || admin(&via, &["remove", &id], &tls))
                        .await
                        .unwrap();
                removed.unwrap_or_else(|e| panic!("fault {f}: remove: {e}"));
                cluster.wipe(follower);
                set_join(&cluster.nodes[follower].config);
                cluster.nodes[follower].process.start();
                tokio::time::sleep(Duration::from_millis(500)).await;
                let leader = cluster.agreed_leader(Duration::from_secs(30)).await.unwrap_or(leader);
                let via = cluster.nodes[leader].admin.clone();
                let id = (follower + 1).to_string();
                let tls = cluster.admin_tls_args();
                let added = tokio::task::spawn_blocking(move || {
                    admin(&via, &["add", &id, &addr], &tls)?;
                    admin(&via, &["promote", &id], &tls)
                })
                .await
                .unwrap();
                added.unwrap_or_else(|e| panic!("fault {f}: rejoin: {e}"));
            }
            _ => unreachable!(),
        }
        tokio::time::sleep(Duration::from_millis(rng.range(200, 600))).await;
    }

    // Heal, let clients run on a healthy cluster a moment, stop them.
    cluster.net().heal();
    cluster.heal();
    cluster.wait_ready(Duration::from_secs(60)).await.unwrap();
    cluster.agreed_leader(Duration::from_secs(30)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }

    // Final reads of every key and alias on every node (part of the history).
    let keys = pool.keys.lock().unwrap().clone();
    let mut missing = BTreeSet::new();
    for (i, c) in clients.iter().enumerate() {
        for k in &keys {
            let out =
                perform(&rec, 1000 + i as u64, c, vec![KmsInput::DescribeKey { key: k.clone() }])
                    .await;
            match out.first() {
                Some(Some(KmsOutput::Described(Some(_)))) => {}
                other => {
                    missing.insert((k.clone(), format!("node{}: {other:?}", i + 1)));
                }
            }
        }
        let aliases = pool.aliases.iter().map(|a| KmsInput::GetAlias { alias: a.clone() });
        perform(&rec, 1000 + i as u64, c, aliases.collect()).await;
    }
    let history = rec.ops.lock().unwrap().clone();
    fig.ops = history.len();
    fig.ok_ops = history.iter().filter(|o| o.output.is_some()).count();
    fig.indeterminate = fig.ops - fig.ok_ops;
    fig.no_effect = rec.no_effect.load(Ordering::SeqCst);
    fig.acked_creates =
        history.iter().filter(|o| matches!(o.output, Some(KmsOutput::Created(_)))).count();
    fig.lost_creates = missing.len();

    let t = Instant::now();
    let verdict = check(&KmsModel, &history, Duration::from_secs(240));
    fig.check_time = t.elapsed();
    fig.linearizable = verdict == CheckResult::Ok;
    if !fig.linearizable {
        let dump = dir.join("history.txt");
        let text: Vec<String> =
            history.iter().enumerate().map(|(i, o)| format!("{i}: {o:?}")).collect();
        std::fs::write(&dump, text.join("\n")).unwrap();
        eprintln!("NOT LINEARIZABLE: {verdict:?}; history in {}", dump.display());
    }
    // Control: one successful read made to see a value nobody wrote must be rejected.
    let mut corrupted = history.clone();
    let victim = corrupted
        .iter()
        .rposition(|o| matches!(o.output, Some(KmsOutput::Described(Some(_)))))
        .expect("a successful DescribeKey");
    if let Some(KmsOutput::Described(Some(v))) = &mut corrupted[victim].output {
        v.description = "never written".into();
    }
    fig.corrupted_rejected = matches!(
        check(&KmsModel, &corrupted, Duration::from_secs(240)),
        CheckResult::Illegal { .. }
    );

    // Quiesce (a linearizable read on every node: each has applied everything), then compare the
    // stores.
    for c in &clients {
        let _ = call_once(c, "ListKeys", &[], Duration::from_secs(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let crashed = cluster.crashed();
    assert!(crashed.is_empty(), "{}", crashed.join("\n"));
    cluster.stop_all();
    let mut digests = Vec::new();
    let mut trails = Vec::new();
    for node in &cluster.nodes {
        let (_, _, reader) = yaoshi_store::open_region(&node.region_dir(REGION)).unwrap();
        digests.push(reader.digest().unwrap());
        trails.push(reader.audit_events().unwrap());
    }
    fig.audit_events = trails[0].len();
    fig.digests_equal = digests.windows(2).all(|w| w[0] == w[1]);
    fig.trails_equal = trails.windows(2).all(|w| w[0] == w[1]);
    fig.wall = started.elapsed();
    for m in &missing {
        eprintln!("acknowledged key missing: {m:?}");
    }
    fig
}

fn print(f: &Figures) {
    println!(
        "linearizable figures: {} nodes, seed {}: faults {} {:?}; ops {} ({} answered, {} indeterminate, {} no-effect); acknowledged CreateKey {} (lost {}); stale-read probes {} (stale reads {}); linearizable {} (checked in {:?}); corrupted history rejected {}; audit events {} (trails equal {}); state digests equal {}; run {:?}; {}",
        f.nodes,
        f.seed,
        f.faults.values().sum::<usize>(),
        f.faults,
        f.ops,
        f.ok_ops,
        f.indeterminate,
        f.no_effect,
        f.acked_creates,
        f.lost_creates,
        f.stale_probes,
        f.stale_reads,
        f.linearizable,
        f.check_time,
        f.corrupted_rejected,
        f.audit_events,
        f.trails_equal,
        f.digests_equal,
        f.wall,
        f.mechanism
    );
}

fn assert_sound(f: &Figures) {
    assert_eq!(f.lost_creates, 0, "acknowledged keys lost");
    assert_eq!(f.stale_reads, 0, "stale reads from an isolated old leader");
    assert!(f.linearizable, "history not linearizable");
    assert!(f.corrupted_rejected, "the checker accepted a corrupted history");
    assert!(f.digests_equal && f.trails_equal, "stores differ");
    assert_eq!(f.no_effect, 0, "requests refused outside the model");
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn control_plane_is_linearizable_under_faults() {
    let long = std::env::var("CHAOS_PROFILE").is_ok_and(|p| p == "long");
    let first_seed = Rng::seed_from_env();
    let profiles: Vec<Profile> = if long {
        let seeds = env_usize("CHAOS_SEEDS", 2);
        let faults = env_usize("CHAOS_FAULTS", 100);
        [3, 5]
            .into_iter()
            .flat_map(|nodes| {
                (0..seeds as u64).map(move |s| Profile { nodes, seed: first_seed + s, faults })
            })
            .collect()
    } else {
        vec![Profile { nodes: 3, seed: first_seed, faults: env_usize("CHAOS_FAULTS", 12) }]
    };
    let mut all = Vec::new();
    for p in profiles {
        let f = run(p).await;
        print(&f);
        assert_sound(&f);
        all.push(f);
    }
    let total_faults: usize = all.iter().map(|f| f.faults.values().sum::<usize>()).sum();
    println!(
        "linearizable summary: {} runs, {total_faults} faults, {} operations, all linearizable, 0 lost, 0 stale reads",
        all.len(),
        all.iter().map(|f| f.ops).sum::<usize>()
    );
}
