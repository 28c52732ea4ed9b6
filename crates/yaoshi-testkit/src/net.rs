//! Network partitions between the nodes of a cluster.
//!
//! A [`Network`] gives every node the addresses it listens on and is reached at, and cuts and
//! heals the links between nodes. Two mechanisms, chosen by [`Network::setup`]:
//!
//! - [`NetMode::Namespaces`] (root, and `ip netns add` works): one network namespace per node,
//!   joined to a bridge in the root namespace by a veth pair; node `i` has its own address
//!   (`10.213.<k>.<11 + i>/24`, the bridge `.1`, `<k>` derived from the run name and not used by
//!   any address or route of the host). The nodes reach each other over the bridge (plain L2: no
//!   `ip_forward`, no iptables) and the test process, in the root namespace, reaches every node's
//!   HTTP and gRPC directly. A cut link is a blackhole route to the other node in both namespaces:
//!   packets of open connections are dropped (they hang as in a real partition and resume when the
//!   route is removed) and new connections fail at once. Node processes run under
//!   `ip netns exec <ns>`, which execs them (same pid, so SIGKILL/SIGSTOP reach them). Workers stay
//!   in the root namespace and are never cut.
//! - [`NetMode::Proxy`] (not root, or namespaces unavailable, or forced): every node listens on
//!   loopback and its gRPC is reached, by every other node, through a TCP proxy in the test process
//!   (the members' `raft_addr`). The replicated Raft membership holds one address per node, so the
//!   proxy cannot be chosen per link; instead it identifies the connecting node from `/proc`
//!   (`/proc/net/tcp` gives the client socket's inode, which is found among the file descriptors of
//!   the test's child processes, whose environment names the node: [`NODE_ENV`]). A cut link drops
//!   the open connections between the two nodes and refuses new ones (accepted, then closed). Only
//!   node-to-node gRPC goes through the proxies: the test's HTTP requests and the workers' feeds
//!   are never cut; a connection whose source is not found is never cut (a warning is printed).
//!
//! `CHAOS_NET=proxy` or `CHAOS_NET=netns` forces a mechanism for every cluster without an explicit
//! one. Names (namespaces, interfaces) derive from the run name only, so [`Network::setup`] first
//! removes what a crashed earlier run of the same name left behind (its processes in those
//! namespaces included); dropping the `Network` removes everything it made.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ports::free_addr;

/// The environment variable naming a node process for the proxies: `<network tag>:<index>`.
pub const NODE_ENV: &str = "CHAOS_NET_NODE";
/// The HTTP port of every node in its own namespace.
const NS_HTTP_PORT: u16 = 8080;
/// The gRPC port of every node in its own namespace.
const NS_RAFT_PORT: u16 = 9180;
/// The first two octets of the namespaces' subnets (as in [`ns_ip`]).
const NS_NET: &str = "10.213";

/// How links between nodes are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetMode {
    /// A network namespace per node, links cut with blackhole routes (needs root).
    Namespaces,
    /// Fault-injecting TCP proxies in the test process in front of every node's gRPC port.
    Proxy,
}

/// Where node `i` listens and is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddrs {
    /// HTTP API `listen` address; the test reaches the node there.
    pub http: String,
    /// gRPC `raft_listen` address (where the node binds).
    pub raft_listen: String,
    /// The node's `raft_addr` in every member list: where other nodes and workers reach its gRPC.
    pub raft_addr: String,
}

/// The cut links and, in proxy mode, the open proxied connections.
#[derive(Debug, Default)]
struct State {
    /// Cut links `(i, j)`, `i < j`.
    cut: BTreeSet<(usize, usize)>,
    /// Open proxied connections by id: (source node, destination node, copy task).
    conns: BTreeMap<u64, (usize, usize, tokio::task::AbortHandle)>,
}

/// The network between the nodes of one cluster: addresses, cuts, heals; removed on drop.
#[derive(Debug)]
pub struct Network {
    nodes: usize,
    tag: String,
    addrs: Vec<NodeAddrs>,
    state: Arc<Mutex<State>>,
    imp: Imp,
}

#[derive(Debug)]
enum Imp {
    Namespaces {
        /// Third octet of the subnet.
        subnet: u8,
    },
    Proxy {
        /// Why namespaces are not used.
        reason: String,
        /// The proxies' runtime (shut down on drop).
        rt: Option<tokio::runtime::Runtime>,
    },
}

/// FNV-1a, for short names derived from the run name.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The name prefix of a run's namespaces and interfaces (8 characters).
fn tag_of(run_name: &str) -> String {
    format!("yc{:06x}", fnv1a(run_name) & 0xff_ffff)
}

/// Namespace of node `i` (index).
fn ns_name(tag: &str, i: usize) -> String {
    format!("{tag}n{}", i + 1)
}

/// Root-namespace end of node `i`'s veth pair.
fn host_veth(tag: &str, i: usize) -> String {
    format!("{tag}h{}", i + 1)
}

/// Namespace end of node `i`'s veth pair.
fn peer_veth(tag: &str, i: usize) -> String {
    format!("{tag}p{}", i + 1)
}

/// The bridge joining the host ends.
fn bridge(tag: &str) -> String {
    format!("{tag}br")
}

/// Runs `ip args...`; its stdout, or a message with its stderr.
fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {} {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .is_some_and(|euid| euid == "0")
    })
}

/// Removes every namespace and interface named with `tag` (a crashed run's leftovers, or this
/// run's at drop), killing the processes still in those namespaces first.
fn remove_namespaces(tag: &str) {
    let names: Vec<String> = ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.strip_prefix(tag).and_then(|r| r.strip_prefix('n')).is_some())
        .map(str::to_string)
        .collect();
    for ns in &names {
        for pid in ip(&["netns", "pids", ns]).unwrap_or_default().split_whitespace() {
            let _ = Command::new("kill").args(["-s", "KILL", pid]).status();
        }
    }
    // Deleting the host end of a veth pair removes both ends at once (a namespace's interfaces
    // disappear only some time after `ip netns del`, which would block reusing the names).
    let links: Vec<String> = ip(&["-o", "link", "show"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .filter(|n| n.starts_with(tag))
        .collect();
    for l in &links {
        let _ = ip(&["link", "del", l]);
    }
    for ns in &names {
        let _ = ip(&["netns", "del", ns]);
    }
}

/// A `/24` under [`NS_NET`] that no address or route of the host uses, starting from the one the
/// tag hashes to.
fn free_subnet(tag: &str) -> Result<u8, String> {
    let used = format!(
        "{}\n{}",
        ip(&["-4", "-o", "addr", "show"])?,
        ip(&["-4", "route", "show", "table", "all"])?
    );
    let start = (fnv1a(tag) % 254) as u8;
    (0..254u8)
        .map(|d| (start.wrapping_add(d) % 254) + 1)
        .find(|k| !used.contains(&format!("{NS_NET}.{k}.")))
        .ok_or_else(|| format!("no free {NS_NET}.x.0/24"))
}

fn ns_ip(subnet: u8, i: usize) -> Ipv4Addr {
    let host = u8::try_from(11 + i).expect("at most 244 nodes");
    Ipv4Addr::new(10, 213, subnet, host)
}

/// Builds the namespaces of `nodes` nodes; on failure everything made is removed again.
fn make_namespaces(tag: &str, nodes: usize) -> Result<u8, String> {
    if !is_root() {
        return Err("not running as root".into());
    }
    assert!(nodes <= 99, "interface names hold at most 2 digits of node id");
    remove_namespaces(tag);
    let build = || -> Result<u8, String> {
        // The first `ip netns add` is the check that namespaces work here.
        ip(&["netns", "add", &ns_name(tag, 0)])?;
        let subnet = free_subnet(tag)?;
        let br = bridge(tag);
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{NS_NET}.{subnet}.1/24"), "dev", &br])?;
        ip(&["link", "set", &br, "up"])?;
        for i in 0..nodes {
            let (ns, host, peer) = (ns_name(tag, i), host_veth(tag, i), peer_veth(tag, i));
            if i > 0 {
                ip(&["netns", "add", &ns])?;
            }
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer, "netns", &ns])?;
            ip(&["link", "set", &host, "master", &br, "up"])?;
            let addr = format!("{}/24", ns_ip(subnet, i));
            ip(&["-n", &ns, "addr", "add", &addr, "dev", &peer])?;
            ip(&["-n", &ns, "link", "set", &peer, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        }
        // Every namespace answers the test process: a connection to a closed port is refused.
        for i in 0..nodes {
            let addr = SocketAddr::from((ns_ip(subnet, i), 1));
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3)) {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                other => return Err(format!("probe of {addr} from the root namespace: {other:?}")),
            }
        }
        Ok(subnet)
    };
    build().inspect_err(|_| remove_namespaces(tag))
}

impl Network {
    /// The network of `nodes` nodes of the run `run_name` (unique per run: the cluster passes its
    /// run directory), by the best mechanism available: see [`Network::setup_with`].
    pub fn setup(run_name: &str, nodes: usize) -> Network {
        Network::setup_with(run_name, nodes, None)
    }

    /// Like [`Network::setup`]; `mode` (else `CHAOS_NET=proxy|netns`) forces a mechanism.
    /// Without one: namespaces when running as root and they can be made, else proxies.
    ///
    /// # Panics
    ///
    /// Panics when namespaces are forced but cannot be made, or `CHAOS_NET` has another value.
    pub fn setup_with(run_name: &str, nodes: usize, mode: Option<NetMode>) -> Network {
        let tag = tag_of(run_name);
        let forced = mode.or_else(|| match std::env::var("CHAOS_NET").as_deref() {
            Ok("proxy") => Some(NetMode::Proxy),
            Ok("netns" | "namespaces") => Some(NetMode::Namespaces),
            Ok(other) => panic!("CHAOS_NET={other}: expected proxy or netns"),
            Err(_) => None,
        });
        let reason = match forced {
            Some(NetMode::Proxy) => "forced".to_string(),
            _ => match make_namespaces(&tag, nodes) {
                Ok(subnet) => return Network::namespaces(tag, nodes, subnet),
                Err(e) if forced.is_some() => panic!("network namespaces unavailable: {e}"),
                Err(e) => format!("no namespaces: {e}"),
            },
        };
        Network::proxies(tag, nodes, reason)
    }

    fn namespaces(tag: String, nodes: usize, subnet: u8) -> Network {
        let addrs = (0..nodes)
            .map(|i| {
                let ip = ns_ip(subnet, i);
                NodeAddrs {
                    http: format!("{ip}:{NS_HTTP_PORT}"),
                    raft_listen: format!("{ip}:{NS_RAFT_PORT}"),
                    raft_addr: format!("{ip}:{NS_RAFT_PORT}"),
                }
            })
            .collect();
        Network { nodes, tag, addrs, state: Arc::default(), imp: Imp::Namespaces { subnet } }
    }

    fn proxies(tag: String, nodes: usize, reason: String) -> Network {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chaos-net-proxy")
            .enable_all()
            .build()
            .expect("proxy runtime");
        let state: Arc<Mutex<State>> = Arc::default();
        let next_id = Arc::new(AtomicU64::new(0));
        let addrs = (0..nodes)
            .map(|dst| {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a proxy");
                listener.set_nonblocking(true).expect("nonblocking proxy listener");
                let proxy = listener.local_addr().expect("proxy address");
                let upstream: SocketAddr = free_addr().parse().expect("addr");
                let proxy_ctx = ProxyCtx {
                    tag: tag.clone(),
                    dst,
                    upstream,
                    state: state.clone(),
                    next_id: next_id.clone(),
                };
                rt.spawn(proxy_ctx.serve(listener));
                NodeAddrs {
                    http: free_addr(),
                    raft_listen: upstream.to_string(),
                    raft_addr: proxy.to_string(),
                }
            })
            .collect();
        Network { nodes, tag, addrs, state, imp: Imp::Proxy { reason, rt: Some(rt) } }
    }

    /// The mechanism in use.
    pub fn mode(&self) -> NetMode {
        match self.imp {
            Imp::Namespaces { .. } => NetMode::Namespaces,
            Imp::Proxy { .. } => NetMode::Proxy,
        }
    }

    /// One line saying which mechanism is used and what a cut does (for the test's output).
    pub fn describe(&self) -> String {
        match &self.imp {
            Imp::Namespaces { subnet } => format!(
                "network namespaces {t}n1..{t}n{n} (veths on bridge {br}, nodes at \
                 {NS_NET}.{subnet}.11..{last}); a cut link is a blackhole route in both \
                 namespaces (open connections hang, new ones fail)",
                t = self.tag,
                n = self.nodes,
                br = bridge(&self.tag),
                last = 10 + self.nodes,
            ),
            Imp::Proxy { reason, .. } => format!(
                "TCP proxies in the test process ({reason}): every node's gRPC is reached through \
                 a proxy that identifies the connecting node from /proc; a cut link drops its open \
                 connections and refuses new ones; HTTP from the test and worker feeds are never \
                 cut"
            ),
        }
    }

    /// The number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// Node `i`'s own IP address (`127.0.0.1` for every node in proxy mode).
    pub fn node_ip(&self, i: usize) -> IpAddr {
        match self.imp {
            Imp::Namespaces { subnet } => IpAddr::V4(ns_ip(subnet, i)),
            Imp::Proxy { .. } => IpAddr::V4(Ipv4Addr::LOCALHOST),
        }
    }

    /// Node `i`'s listen and reachable addresses.
    pub fn addrs(&self, i: usize) -> &NodeAddrs {
        &self.addrs[i]
    }

    /// What node `i`'s process must be started through (`ip netns exec <ns>`; empty in proxy mode).
    pub fn command_prefix(&self, i: usize) -> Vec<String> {
        match self.imp {
            Imp::Namespaces { .. } => {
                vec!["ip".into(), "netns".into(), "exec".into(), ns_name(&self.tag, i)]
            }
            Imp::Proxy { .. } => Vec::new(),
        }
    }

    /// Environment for node `i`'s process ([`NODE_ENV`], by which the proxies recognise it).
    pub fn node_envs(&self, i: usize) -> Vec<(String, String)> {
        vec![(NODE_ENV.to_string(), format!("{}:{i}", self.tag))]
    }

    /// Cuts node `i` from every other node.
    pub fn isolate(&self, i: usize) {
        for j in (0..self.nodes).filter(|&j| j != i) {
            self.cut(i, j);
        }
    }

    /// Makes the network exactly `groups`: every link inside a group works, every link between
    /// groups is cut (a node in no group is a group of its own).
    pub fn partition(&self, groups: &[Vec<usize>]) {
        let want = partition_links(self.nodes, groups);
        let have = self.cut_links();
        for &(i, j) in have.iter().filter(|l| !want.contains(l)) {
            self.heal_link(i, j);
        }
        for &(i, j) in want.iter().filter(|l| !have.contains(l)) {
            self.cut(i, j);
        }
    }

    /// Cuts the link between nodes `i` and `j` (both directions); no-op when it is cut.
    ///
    /// # Panics
    ///
    /// Panics on a bad index or when the route cannot be added.
    pub fn cut(&self, i: usize, j: usize) {
        let link = self.link(i, j);
        let mut st = self.state.lock().expect("network state");
        if !st.cut.insert(link) {
            return;
        }
        match self.imp {
            Imp::Namespaces { subnet } => {
                for (a, b) in [(i, j), (j, i)] {
                    let dst = format!("{}/32", ns_ip(subnet, b));
                    let ns = ns_name(&self.tag, a);
                    ip(&["-n", &ns, "route", "replace", "blackhole", &dst])
                        .unwrap_or_else(|e| panic!("cutting {i}-{j}: {e}"));
                }
            }
            Imp::Proxy { .. } => st.conns.retain(|_, (s, d, task)| {
                let keep = link != (*s.min(d), *s.max(d));
                if !keep {
                    task.abort();
                }
                keep
            }),
        }
    }

    /// Restores the link between nodes `i` and `j`; no-op when it is not cut.
    ///
    /// # Panics
    ///
    /// Panics on a bad index or when the route cannot be removed.
    pub fn heal_link(&self, i: usize, j: usize) {
        let link = self.link(i, j);
        let mut st = self.state.lock().expect("network state");
        if !st.cut.remove(&link) {
            return;
        }
        if let Imp::Namespaces { subnet } = self.imp {
            for (a, b) in [(i, j), (j, i)] {
                let dst = format!("{}/32", ns_ip(subnet, b));
                let ns = ns_name(&self.tag, a);
                ip(&["-n", &ns, "route", "del", "blackhole", &dst])
                    .unwrap_or_else(|e| panic!("healing {i}-{j}: {e}"));
            }
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        for (i, j) in self.cut_links() {
            self.heal_link(i, j);
        }
    }

    /// Whether the link between `i` and `j` is cut.
    pub fn is_cut(&self, i: usize, j: usize) -> bool {
        self.state.lock().expect("network state").cut.contains(&self.link(i, j))
    }

    /// The cut links, `(i, j)` with `i < j`.
    pub fn cut_links(&self) -> BTreeSet<(usize, usize)> {
        self.state.lock().expect("network state").cut.clone()
    }

    fn link(&self, i: usize, j: usize) -> (usize, usize) {
        assert!(i != j && i < self.nodes && j < self.nodes, "no link {i}-{j}");
        (i.min(j), i.max(j))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        match &mut self.imp {
            Imp::Namespaces { .. } => remove_namespaces(&self.tag),
            Imp::Proxy { rt, .. } => {
                if let Some(rt) = rt.take() {
                    // Allowed inside an async context, unlike dropping the runtime.
                    rt.shutdown_background();
                }
            }
        }
    }
}

/// The links `groups` cuts among `nodes` nodes.
fn partition_links(nodes: usize, groups: &[Vec<usize>]) -> BTreeSet<(usize, usize)> {
    let group_of =
        |n: usize| groups.iter().position(|g| g.contains(&n)).unwrap_or(groups.len() + n);
    let mut out = BTreeSet::new();
    for i in 0..nodes {
        for j in i + 1..nodes {
            if group_of(i) != group_of(j) {
                out.insert((i, j));
            }
        }
    }
    out
}

/// One proxy: node `dst`'s gRPC, reached at a proxy listener, forwarded to `upstream`.
struct ProxyCtx {
    tag: String,
    dst: usize,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
    next_id: Arc<AtomicU64>,
}

impl ProxyCtx {
    async fn serve(self, listener: std::net::TcpListener) {
        let listener = tokio::net::TcpListener::from_std(listener).expect("proxy listener");
        let me = Arc::new(self);
        loop {
            let Ok((client, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            tokio::spawn(me.clone().forward(client, peer));
        }
    }

    async fn forward(self: Arc<Self>, client: tokio::net::TcpStream, peer: SocketAddr) {
        let Ok(local) = client.local_addr() else { return };
        let tag = self.tag.clone();
        let src =
            match tokio::task::spawn_blocking(move || connecting_node(&tag, peer, local)).await {
                Ok(Source::Gone) => return,
                Ok(Source::Node(i)) => Some(i),
                Ok(Source::Other) | Err(_) => None,
            };
        let cut =
            |st: &State| src.is_some_and(|s| st.cut.contains(&(s.min(self.dst), s.max(self.dst))));
        if cut(&self.state.lock().expect("network state")) {
            return; // refused: the accepted connection is closed at once
        }
        let upstream = match tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(self.upstream),
        )
        .await
        {
            Ok(Ok(s)) => s,
            _ => return, // node down: the client sees its connection closed
        };
        let _ = upstream.set_nodelay(true);
        let _ = client.set_nodelay(true);
        let mut st = self.state.lock().expect("network state");
        if cut(&st) {
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            let (mut a, mut b) = (client, upstream);
            let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
            state.lock().expect("network state").conns.remove(&id);
        });
        // Only connections between two known nodes can be cut; others are not tracked.
        if let Some(s) = src {
            st.conns.insert(id, (s, self.dst, task.abort_handle()));
        }
    }
}

/// Who opened a proxied connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Node `i` (index) of this network.
    Node(usize),
    /// Another process (a worker), or one not found (never cut).
    Other,
    /// The client closed its end already (nothing to forward).
    Gone,
}

/// Who owns the client end `peer` of a connection accepted at `local`: a child process of the test
/// whose environment names a node of network `tag`, another process, or nobody any more.
fn connecting_node(tag: &str, peer: SocketAddr, local: SocketAddr) -> Source {
    let Some(inode) = socket_inode(peer, local) else {
        return Source::Gone;
    };
    let me = std::process::id();
    let children: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| {
                let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                (parent_pid(pid) == Some(me)).then_some(pid)
            })
            .collect()
        })
        .unwrap_or_default();
    if let Some(pid) = children.into_iter().find(|&pid| pid_has_socket(pid, inode)) {
        let prefix = format!("{NODE_ENV}={tag}:");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        return environ
            .split(|&b| b == 0)
            .find_map(|v| std::str::from_utf8(v).ok()?.strip_prefix(&prefix)?.parse().ok())
            .map_or(Source::Other, Source::Node);
    }
    // A client that gave up on the connection at once (its socket is orphaned, inode 0) is not
    // worth a warning; a live socket no child owns is.
    if socket_inode(peer, local).is_none() {
        return Source::Gone;
    }
    eprintln!("chaos net: the owner of {peer} -> {local} is not a child of the test; never cut");
    Source::Other
}

/// `/proc/net/tcp`'s form of an IPv4 socket address (`0100007F:1F90`).
fn proc_addr(a: SocketAddr) -> Option<String> {
    match a.ip() {
        IpAddr::V4(ip) => Some(format!("{:08X}:{:04X}", u32::from_ne_bytes(ip.octets()), a.port())),
        IpAddr::V6(_) => None,
    }
}

/// The inode of the IPv4 TCP socket bound to `local` and connected to `remote` (`None` also when
/// the socket is orphaned: closed by its process, inode 0).
fn socket_inode(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    let (l, r) = (proc_addr(local)?, proc_addr(remote)?);
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 9 && f[1].eq_ignore_ascii_case(&l) && f[2].eq_ignore_ascii_case(&r))
            .then(|| f[9].parse().ok().filter(|&i| i != 0))
            .flatten()
    })
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may contain spaces and parentheses.
    stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?.parse().ok()
}

fn pid_has_socket(pid: u32, inode: u64) -> bool {
    let want = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.filter_map(Result::ok)
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str() == want.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_interface_limits() {
        let tag = tag_of("/some/target/debug/chaos-runs/partition");
        assert_eq!(tag.len(), 8);
        for name in [host_veth(&tag, 98), peer_veth(&tag, 98), bridge(&tag), ns_name(&tag, 98)] {
            assert!(name.len() <= 15, "{name}");
        }
        assert_eq!(tag, tag_of("/some/target/debug/chaos-runs/partition"));
        assert_ne!(tag, tag_of("/some/target/debug/chaos-runs/partition-proxy"));
    }

    #[test]
    fn partition_cuts_links_between_groups_only() {
        let links = partition_links(5, &[vec![0, 1], vec![2, 3]]);
        let want: BTreeSet<_> =
            [(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4), (2, 4), (3, 4)].into();
        assert_eq!(links, want);
        assert!(partition_links(3, &[vec![0, 1, 2]]).is_empty());
    }

    #[test]
    fn finds_the_process_owning_a_loopback_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let inode = socket_inode(peer, listener.local_addr().unwrap()).expect("in /proc/net/tcp");
        assert!(pid_has_socket(std::process::id(), inode));
        assert_eq!(parent_pid(std::process::id()).map(|p| p > 0), Some(true));
        // Closed by its process, the client end is orphaned (inode 0): gone.
        drop(client);
        // The kernel may list the closed end with its inode for a moment after the close.
        let closed = std::time::Instant::now();
        while socket_inode(peer, listener.local_addr().unwrap()).is_some() {
            assert!(
                closed.elapsed() < std::time::Duration::from_secs(2),
                "the closed end stays owned"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(connecting_node("t", peer, listener.local_addr().unwrap()), Source::Gone);
    }

    #[test]
    fn proxy_mode_gives_loopback_addresses() {
        let net = Network::setup_with("chaos-net-unit-proxy", 3, Some(NetMode::Proxy));
        assert_eq!(net.mode(), NetMode::Proxy);
        assert!(net.command_prefix(0).is_empty());
        assert_ne!(net.addrs(1).raft_listen, net.addrs(1).raft_addr);
        net.isolate(1);
        assert_eq!(net.cut_links(), [(0, 1), (1, 2)].into());
        net.partition(&[vec![0], vec![1, 2]]);
        assert_eq!(net.cut_links(), [(0, 1), (0, 2)].into());
        net.heal();
        assert!(net.cut_links().is_empty());
    }

    /// As root: namespaces are made, leftovers of a "crashed" run (never dropped) are removed by
    /// the next setup of the same name, and drop removes everything.
    #[test]
    fn namespaces_are_made_and_removed() {
        let tag = tag_of("chaos-net-unit-netns");
        if make_namespaces(&tag, 2).is_err() {
            eprintln!("namespaces unavailable here; skipped");
            return;
        }
        // The leftovers of the first setup stay; the next setup must clean them up.
        let net = Network::setup_with("chaos-net-unit-netns", 2, Some(NetMode::Namespaces));
        assert_eq!(net.mode(), NetMode::Namespaces);
        assert!(ip(&["netns", "list"]).unwrap().contains(&ns_name(&tag, 1)));
        net.cut(0, 1);
        let routes = ip(&["-n", &ns_name(&tag, 0), "route"]).unwrap();
        assert!(routes.contains(&format!("blackhole {}", net.node_ip(1))), "{routes}");
        net.heal();
        assert!(!ip(&["-n", &ns_name(&tag, 0), "route"]).unwrap().contains("blackhole"));
        drop(net);
        assert!(!ip(&["netns", "list"]).unwrap().contains(&tag));
        assert!(!ip(&["-o", "link", "show"]).unwrap().contains(&tag));
    }
}
