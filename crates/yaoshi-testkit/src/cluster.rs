//! A cluster of real `yaoshi serve` processes on loopback, plus `yaoshi worker`s.
//!
//! The binary is [`ClusterSpec::binary`] or else [`yaoshi_binary`]. Node configs are derived from the shipped `cluster-config/three-node/node<i>.toml` with fresh
//! free ports (so a chaos run never collides with other tests or a developer's cluster on the
//! shipped ports), the run's data directory and, optionally, a `[raft]` table. Every process gets
//! the same `YAOSHI_DOMAIN_KEY` and bootstrap credential ([`ACCESS_KEY_ID`]/[`ACCESS_KEY_SECRET`])
//! in its environment. The leader is read from the nodes' logs (`leader elected leader=N`, logged
//! by `yaoshi serve` on every leader change), looking only at each node's current incarnation.
//!
//! With [`ClusterSpec::network`] the nodes get a [`Network`] (see [`crate::net`]): their own
//! addresses (a network namespace each, or loopback behind fault-injecting proxies), so links
//! between nodes can be cut and healed through [`Cluster::net`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use yaoshi_client::Client;

use crate::binary::{profile_dir, yaoshi_binary};
use crate::launch::{DEFAULT_RUST_LOG, Launcher, reported_leader};
use crate::net::{NetMode, Network, NodeAddrs};
use crate::ports::free_addr;
use crate::process::Process;

/// The bootstrap AccessKey id of every chaos cluster.
pub const ACCESS_KEY_ID: &str = "chaosak";
/// Its secret.
pub const ACCESS_KEY_SECRET: &str = "chaossecret0123456789";

/// What to start.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Number of voters.
    pub nodes: usize,
    /// Extra `yaoshi serve` arguments for every node (e.g. the test clock).
    pub serve_args: Vec<String>,
    /// A `[raft]` table body for the configs (e.g. `snapshot_logs_since_last = 500`).
    pub raft_toml: Option<String>,
    /// `RUST_LOG` of the processes.
    pub rust_log: String,
    /// Give the nodes a [`Network`] whose links can be cut (false: every node on loopback, no
    /// network faults).
    pub network: bool,
    /// With `network`, force a mechanism (`None`: namespaces when possible, see
    /// [`Network::setup_with`]).
    pub net_mode: Option<NetMode>,
    /// The `yaoshi` executable (`None`: [`yaoshi_binary`]).
    pub binary: Option<PathBuf>,
}

impl Default for ClusterSpec {
    fn default() -> ClusterSpec {
        ClusterSpec {
            nodes: 3,
            serve_args: Vec::new(),
            raft_toml: None,
            rust_log: DEFAULT_RUST_LOG.into(),
            network: false,
            net_mode: None,
            binary: None,
        }
    }
}

/// One voter.
#[derive(Debug)]
pub struct Node {
    /// Raft node id (index + 1).
    pub id: u64,
    /// HTTP API address.
    pub http: String,
    /// gRPC (Raft, worker feed) address, as other processes reach it (with a proxy [`Network`]:
    /// the proxy's).
    pub raft: String,
    /// Admin listener (`admin_listen`) address, for `yaoshi cluster --admin`.
    pub admin: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The derived config file.
    pub config: PathBuf,
    /// The process.
    pub process: Process,
}

impl Node {
    /// A signing client of this node's HTTP API.
    pub fn client(&self) -> Client {
        Client::new(&self.http, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }

    /// The store directory of the region (open it only while the process is stopped).
    pub fn region_dir(&self, region: &str) -> PathBuf {
        self.data_dir.join("regions").join(region)
    }

    /// The leader this node's current incarnation last logged (`None`: none yet, or "no leader").
    pub fn reported_leader(&self) -> Option<u64> {
        reported_leader(&self.process.log_of_current_start())
    }
}

/// A crypto worker.
#[derive(Debug)]
pub struct Worker {
    /// HTTP API address.
    pub http: String,
    /// The node gRPC address feeding it.
    pub feed: String,
    /// The process.
    pub process: Process,
}

impl Worker {
    /// A signing client of the worker.
    pub fn client(&self) -> Client {
        Client::new(&self.http, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }
}

/// Running nodes and workers with their shared secrets.
#[derive(Debug)]
pub struct Cluster {
    /// The run directory (configs, data, logs).
    pub dir: PathBuf,
    /// The region domain key, 64 hex digits.
    pub domain_key_hex: String,
    /// The voters; index `i` has node id `i + 1`.
    pub nodes: Vec<Node>,
    /// The workers.
    pub workers: Vec<Worker>,
    /// The binary and environment of every process.
    launcher: Launcher,
    /// Declared last: dropped after the processes, so no node runs when it is removed.
    net: Option<Network>,
}

/// A fresh directory for a run's artifacts: `$CHAOS_RUN_DIR/<name>` or
/// `<target>/<profile>/chaos-runs/<name>`, emptied first. It is kept after the run, so the logs of
/// the last run of every chaos test can be read afterwards.
///
/// # Panics
///
/// Panics when the directory cannot be made.
pub fn run_dir(name: &str) -> PathBuf {
    let base = std::env::var("CHAOS_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| profile_dir().join("chaos-runs"));
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The shipped `cluster-config/three-node/node<i>.toml` (`i` clamped to 1..=3) of the workspace
/// this crate was built in.
pub fn shipped_config(i: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../cluster-config/three-node/node{}.toml", i.clamp(1, 3)))
}

/// Node `i`'s (1-based) config: the shipped file with this run's addresses, data directory and
/// `[raft]` table.
fn derive_config(
    i: usize,
    http: &str,
    raft_listen: &str,
    admin_listen: &str,
    members: &[String],
    data_dir: &Path,
    raft_toml: Option<&str>,
) -> String {
    let shipped = shipped_config(i);
    let text =
        std::fs::read_to_string(&shipped).unwrap_or_else(|e| panic!("{}: {e}", shipped.display()));
    let mut t: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", shipped.display()));
    t.insert("node_id".into(), toml::Value::Integer(i as i64));
    t.insert("listen".into(), toml::Value::String(http.to_string()));
    t.insert("raft_listen".into(), toml::Value::String(raft_listen.to_string()));
    t.insert("admin_listen".into(), toml::Value::String(admin_listen.to_string()));
    t.insert("data_dir".into(), toml::Value::String(data_dir.display().to_string()));
    let members = members
        .iter()
        .enumerate()
        .map(|(j, addr)| {
            let mut m = toml::Table::new();
            m.insert("id".into(), toml::Value::Integer(j as i64 + 1));
            m.insert("raft_addr".into(), toml::Value::String(addr.clone()));
            toml::Value::Table(m)
        })
        .collect();
    t.insert("members".into(), toml::Value::Array(members));
    if let Some(r) = raft_toml {
        let table: toml::Table = toml::from_str(r).expect("raft_toml is a TOML table body");
        t.insert("raft".into(), toml::Value::Table(table));
    }
    toml::to_string(&t).expect("config serializes")
}

/// Creates a cluster CA in `dir/certs` with `yaoshi cert` (the real CLI) and issues node
/// certificates 1..=`nodes` and the operator's: the files the shipped configs' `[tls]` tables
/// name relative to a config written in `dir`.
///
/// # Panics
///
/// Panics when the CLI fails.
pub fn issue_certs(bin: &Path, dir: &Path, nodes: usize) {
    let certs = dir.join("certs");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("cert")
            .args(args)
            .arg("--dir")
            .arg(&certs)
            .output()
            .expect("run yaoshi cert");
        assert!(
            out.status.success(),
            "yaoshi cert {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !certs.join("ca.pem").exists() {
        run(&["init"]);
        for i in 1..=nodes {
            run(&["issue", "--node", &i.to_string()]);
        }
        run(&["issue", "--admin"]);
    }
}

/// The `--tls-*` arguments of a client holding `dir/certs/<holder>.pem` (`admin`, `worker-w1`).
pub fn tls_args(dir: &Path, holder: &str) -> Vec<String> {
    let certs = dir.join("certs");
    let f = |name: String| certs.join(name).display().to_string();
    vec![
        "--tls-ca".into(),
        f("ca.pem".into()),
        "--tls-cert".into(),
        f(format!("{holder}.pem")),
        "--tls-key".into(),
        f(format!("{holder}.key")),
    ]
}

impl Cluster {
    /// The `--tls-*` arguments of `yaoshi cluster` against this cluster (operator certificate).
    pub fn admin_tls_args(&self) -> Vec<String> {
        tls_args(&self.dir, "admin")
    }

    /// Writes the configs under `dir` and starts every node (not yet ready: see
    /// [`Cluster::wait_ready`]). With [`ClusterSpec::network`], sets up the [`Network`] first (its
    /// names derive from `dir`) and starts every node in it.
    pub fn start(dir: &Path, spec: &ClusterSpec) -> Cluster {
        let bin = spec.binary.clone().unwrap_or_else(yaoshi_binary);
        std::fs::create_dir_all(dir).expect("create the run directory");
        issue_certs(&bin, dir, spec.nodes);
        let domain_key_hex = yaoshi_crypto::DomainKey::generate().to_hex().to_string();
        let launcher = Launcher::new(&bin, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
            .with_domain_key(&domain_key_hex)
            .with_rust_log(&spec.rust_log);
        let net = spec
            .network
            .then(|| Network::setup_with(&dir.display().to_string(), spec.nodes, spec.net_mode));
        let addrs: Vec<NodeAddrs> = match &net {
            Some(net) => (0..spec.nodes).map(|i| net.addrs(i).clone()).collect(),
            None => (0..spec.nodes)
                .map(|_| {
                    let raft = free_addr();
                    NodeAddrs { http: free_addr(), raft_listen: raft.clone(), raft_addr: raft }
                })
                .collect(),
        };
        let raft: Vec<String> = addrs.iter().map(|a| a.raft_addr.clone()).collect();
        let nodes = (1..=spec.nodes)
            .map(|i| {
                let data_dir = dir.join(format!("node{i}"));
                let config = dir.join(format!("node{i}.toml"));
                // On the host the test reaches the node's HTTP at (its namespace's address).
                let host = addrs[i - 1].http.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
                let admin = format!("{host}:{}", crate::ports::free_port());
                let text = derive_config(
                    i,
                    &addrs[i - 1].http,
                    &addrs[i - 1].raft_listen,
                    &admin,
                    &raft,
                    &data_dir,
                    spec.raft_toml.as_deref(),
                );
                std::fs::write(&config, text).expect("write config");
                let mut serve_args: Vec<&str> =
                    spec.serve_args.iter().map(String::as_str).collect();
                if net.is_some() {
                    // Namespaced nodes listen on their veth address; the tests speak plain HTTP.
                    serve_args.push("--behind-tls-proxy");
                }
                let mut process = launcher.config_node(
                    &format!("node{i}"),
                    &config,
                    Some(&data_dir),
                    &serve_args,
                    &dir.join(format!("node{i}.log")),
                );
                if let Some(net) = &net {
                    process = process
                        .with_envs(net.node_envs(i - 1))
                        .with_prefix(net.command_prefix(i - 1));
                }
                process.start();
                Node {
                    id: i as u64,
                    http: addrs[i - 1].http.clone(),
                    raft: raft[i - 1].clone(),
                    admin,
                    data_dir,
                    config,
                    process,
                }
            })
            .collect();
        Cluster {
            dir: dir.to_path_buf(),
            domain_key_hex,
            nodes,
            workers: Vec::new(),
            launcher,
            net,
        }
    }

    /// The network between the nodes.
    ///
    /// # Panics
    ///
    /// Panics when the cluster was started without [`ClusterSpec::network`].
    pub fn net(&self) -> &Network {
        self.net.as_ref().expect("the cluster was started without `network: true`")
    }

    /// SIGKILLs node `i` (index) and deletes its data directory: started again, it comes up empty
    /// with the same id, addresses and config.
    ///
    /// # Panics
    ///
    /// Panics when the directory exists and cannot be deleted.
    pub fn wipe(&mut self, i: usize) {
        let n = &mut self.nodes[i];
        n.process.kill();
        match std::fs::remove_dir_all(&n.data_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                panic!("wiping {}: {e}", n.data_dir.display())
            }
            _ => {}
        }
    }

    /// Starts a worker fed by node `feed` (index); returns its index in [`Cluster::workers`].
    pub fn start_worker(&mut self, feed: usize, extra: &[&str]) -> usize {
        let w = self.workers.len() + 1;
        let http = free_addr();
        let feed_addr = self.nodes[feed].raft.clone();
        let holder = format!("worker-w{w}");
        if !self.dir.join("certs").join(format!("{holder}.pem")).exists() {
            let out = std::process::Command::new(&self.launcher.binary)
                .args(["cert", "issue", "--worker", &format!("w{w}"), "--dir"])
                .arg(self.dir.join("certs"))
                .output()
                .expect("run yaoshi cert");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let mut args = tls_args(&self.dir, &holder);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut process = self.launcher.worker(
            &format!("worker{w}"),
            &feed_addr,
            &http,
            &args,
            &self.dir.join(format!("worker{w}.log")),
        );
        process.start();
        self.workers.push(Worker { http, feed: feed_addr, process });
        self.workers.len() - 1
    }

    /// A client per node, in node order (addresses survive restarts).
    pub fn clients(&self) -> Vec<Client> {
        self.nodes.iter().map(Node::client).collect()
    }

    /// Waits until every started node answers a signed ListKeys with 200 (credential replicated,
    /// leader known).
    ///
    /// # Errors
    ///
    /// Names the node that was not ready in time.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        for n in self.nodes.iter().filter(|n| n.process.is_live()) {
            let c = n.client();
            loop {
                let r = tokio::time::timeout(Duration::from_secs(2), c.call("ListKeys", &[])).await;
                let last = match r {
                    Ok(Ok(r)) if r.status == 200 => break,
                    Ok(Ok(r)) => format!("{} {}", r.status, r.body),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer in 2s".to_string(),
                };
                if Instant::now() >= deadline {
                    return Err(format!("{} not ready in {timeout:?}: {last}", n.process.name()));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(())
    }

    /// The leader's index once every live node (started, not paused) reports the same leader and
    /// that leader is live.
    ///
    /// # Errors
    ///
    /// Every live node's view when they did not agree within `timeout`.
    pub async fn agreed_leader(&self, timeout: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let live: Vec<usize> =
                (0..self.nodes.len()).filter(|&i| self.nodes[i].process.is_live()).collect();
            let views: Vec<Option<u64>> =
                live.iter().map(|&i| self.nodes[i].reported_leader()).collect();
            if let Some(Some(l)) = views.first()
                && views.iter().all(|v| *v == Some(*l))
                && live.contains(&(*l as usize - 1))
            {
                return Ok(*l as usize - 1);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no agreed leader in {timeout:?}: live {live:?} report {views:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Processes that died on their own (name and status), a failure in any chaos test.
    pub fn crashed(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for p in self
            .nodes
            .iter_mut()
            .map(|n| &mut n.process)
            .chain(self.workers.iter_mut().map(|w| &mut w.process))
        {
            if let Some(status) = p.exited() {
                out.push(format!("{} exited ({status}); log tail:\n{}", p.name(), p.log_tail(30)));
            }
        }
        out
    }

    /// Resumes paused nodes and starts stopped ones.
    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            if n.process.is_paused() {
                n.process.resume();
            } else if !n.process.is_started() {
                n.process.start();
            }
        }
    }

    /// SIGKILLs every worker and node.
    pub fn stop_all(&mut self) {
        for w in &mut self.workers {
            w.process.kill();
        }
        for n in &mut self.nodes {
            n.process.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_config_keeps_the_shipped_fields_and_takes_the_run_addresses() {
        // Members are reached at other addresses than node 2 binds (as behind proxies).
        let raft = vec!["127.0.0.1:4".to_string(), "127.0.0.1:5".into(), "127.0.0.1:6".into()];
        let text = derive_config(
            2,
            "127.0.0.1:2",
            "127.0.0.1:9",
            "127.0.0.1:8",
            &raft,
            Path::new("/d/node2"),
            Some("snapshot_logs_since_last = 7"),
        );
        let t: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(t["node_id"].as_integer(), Some(2));
        assert_eq!(t["listen"].as_str(), Some("127.0.0.1:2"));
        assert_eq!(t["raft_listen"].as_str(), Some("127.0.0.1:9"));
        assert_eq!(t["admin_listen"].as_str(), Some("127.0.0.1:8"));
        assert_eq!(t["region"].as_str(), Some("cn-hangzhou"));
        assert_eq!(t["domain_key_env"].as_str(), Some("YAOSHI_DOMAIN_KEY"));
        assert_eq!(t["members"].as_array().unwrap()[2]["raft_addr"].as_str(), Some("127.0.0.1:6"));
        assert_eq!(t["raft"]["snapshot_logs_since_last"].as_integer(), Some(7));
    }
}
