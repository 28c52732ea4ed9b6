//! Node configuration: the TOML file of a cluster node, or the defaults of the embedded dev node.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use yaoshi_model::RegionId;

/// A node's configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// This node's id within its region group (unique, non-zero).
    pub(crate) node_id: u64,
    /// The region this node serves.
    #[serde(default = "default_region")]
    pub(crate) region: String,
    /// The account id that owns keys created through the bootstrap credential.
    #[serde(default = "default_account_id")]
    pub(crate) account_id: String,
    /// HTTP API listen address.
    pub(crate) listen: String,
    /// gRPC (Raft) listen address; also the address peers use for this node.
    pub(crate) raft_listen: String,
    /// The admin listener (`host:port`): cluster membership and status for `yaoshi cluster`,
    /// admitting only the region's operator certificate (`yaoshi cert issue --admin`; on a
    /// plaintext, loopback-only cluster: anyone on the machine). Without it this node serves no
    /// administration; the gRPC port never serves it to operators.
    #[serde(default)]
    pub(crate) admin_listen: Option<String>,
    /// Data directory; relative paths are relative to the working directory.
    pub(crate) data_dir: PathBuf,
    /// Name of the environment variable holding the region's 64-hex-digit domain key.
    #[serde(default)]
    pub(crate) domain_key_env: Option<String>,
    /// Path of a file holding the region's 64-hex-digit domain key.
    #[serde(default)]
    pub(crate) domain_key_file: Option<PathBuf>,
    /// The initial voters of the region group, this node included.
    pub(crate) members: Vec<Member>,
    /// This node joins an existing group instead of forming one from `members`: it never
    /// initializes a group and waits until the leader adds it (`yaoshi cluster add`). Set it on
    /// every node that was not an initial member, and on a wiped node rejoining.
    #[serde(default)]
    pub(crate) join: bool,
    /// Raft timing and compaction.
    #[serde(default)]
    pub(crate) raft: RaftSettings,
    /// Mutual TLS of the gRPC port (`yaoshi cert`). Without it the port is plaintext, which is
    /// allowed only on a loopback `raft_listen`.
    #[serde(default)]
    pub(crate) tls: Option<TlsFiles>,
    /// The deployment's other regions (each its own region group): requests naming one of them
    /// (`RegionId`, or a `kms.<region>.` Host) are forwarded there, and DescribeRegions lists them.
    #[serde(default)]
    pub(crate) regions: Vec<PeerRegionConfig>,
}

/// Another region of the deployment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeerRegionConfig {
    /// Its region id.
    pub(crate) region: String,
    /// Its nodes' HTTP API endpoints (`host:port`, or an `http://` / `https://` URL), tried in
    /// order.
    pub(crate) endpoints: Vec<String>,
}

/// PEM files of a node's gRPC identity; relative paths are relative to the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsFiles {
    /// The cluster CA certificate.
    pub(crate) ca: PathBuf,
    /// This node's certificate (`yaoshi cert issue --node ID`).
    pub(crate) cert: PathBuf,
    /// This node's private key.
    pub(crate) key: PathBuf,
}

/// Whether `addr` (`host:port`) binds only the loopback interface.
pub(crate) fn is_loopback(addr: &str) -> bool {
    match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => a.ip().is_loopback(),
        Err(_) => addr.rsplit_once(':').is_some_and(|(host, _)| host == "localhost"),
    }
}

/// One initial voter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Member {
    /// Node id.
    pub(crate) id: u64,
    /// Its gRPC address.
    pub(crate) raft_addr: String,
}

/// Raft timing and log compaction.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RaftSettings {
    /// Leader heartbeat interval, milliseconds.
    pub(crate) heartbeat_ms: u64,
    /// Lower bound of the election timeout, milliseconds.
    pub(crate) election_timeout_min_ms: u64,
    /// Upper bound of the election timeout, milliseconds.
    pub(crate) election_timeout_max_ms: u64,
    /// Build a snapshot after this many entries since the last one. A snapshot is the whole
    /// state, so this bounds how often that cost is paid; with group commit an entry carries up to
    /// 128 writes (etcd's default is 100,000 entries).
    pub(crate) snapshot_logs_since_last: u64,
    /// Entries kept behind the snapshot when the log is compacted.
    pub(crate) logs_to_keep_after_snapshot: u64,
    /// How long a request waits for a leader, milliseconds.
    pub(crate) request_timeout_ms: u64,
}

impl Default for RaftSettings {
    fn default() -> RaftSettings {
        RaftSettings {
            heartbeat_ms: 150,
            election_timeout_min_ms: 600,
            election_timeout_max_ms: 1200,
            snapshot_logs_since_last: 50_000,
            logs_to_keep_after_snapshot: 1000,
            request_timeout_ms: 10_000,
        }
    }
}

fn default_region() -> String {
    "cn-hangzhou".to_string()
}

fn default_account_id() -> String {
    "1000000000000000".to_string()
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`Config`].
    #[error("invalid config file {path}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads and validates a config file.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be read, parsed or validated.
    pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut cfg: Config = toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.to_path_buf(), source })?;
        if let Some(tls) = &mut cfg.tls {
            let base = path.parent().unwrap_or(Path::new("."));
            for p in [&mut tls.ca, &mut tls.cert, &mut tls.key] {
                *p = base.join(&*p);
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The embedded single-node configuration of `yaoshi serve --dev`.
    pub(crate) fn dev(data_dir: PathBuf, listen: String) -> Config {
        Config {
            node_id: 1,
            region: default_region(),
            account_id: default_account_id(),
            listen,
            raft_listen: String::new(),
            admin_listen: None,
            data_dir,
            domain_key_env: None,
            domain_key_file: None,
            members: vec![Member { id: 1, raft_addr: "127.0.0.1:0".to_string() }],
            join: false,
            raft: RaftSettings::default(),
            tls: None,
            regions: Vec::new(),
        }
    }

    /// Checks values and cross-field consistency.
    ///
    /// # Errors
    ///
    /// Describes the first problem found.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.node_id == 0 {
            return bad("node_id must be non-zero".into());
        }
        if !RegionId::is_valid(&self.region) {
            return bad(format!("region {:?} is not a valid region id", self.region));
        }
        if self.account_id.is_empty() || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return bad("account_id must be decimal digits".into());
        }
        if !self.members.iter().any(|m| m.id == self.node_id) {
            return bad(format!("members must include this node ({})", self.node_id));
        }
        let mut ids: Vec<u64> = self.members.iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.members.len() {
            return bad("member ids must be unique".into());
        }
        if self.domain_key_env.is_some() == self.domain_key_file.is_some() {
            return bad("set exactly one of domain_key_env and domain_key_file".into());
        }
        let r = &self.raft;
        if r.heartbeat_ms == 0
            || r.election_timeout_min_ms <= r.heartbeat_ms
            || r.election_timeout_max_ms <= r.election_timeout_min_ms
        {
            return bad(
                "raft timing needs 0 < heartbeat < election_timeout_min < election_timeout_max"
                    .into(),
            );
        }
        if r.snapshot_logs_since_last == 0 {
            return bad("raft.snapshot_logs_since_last must be positive".into());
        }
        if self.tls.is_none() && !is_loopback(&self.raft_listen) {
            return bad(format!(
                "raft_listen {} is not loopback: the cluster port needs [tls] (yaoshi cert)",
                self.raft_listen
            ));
        }
        let mut seen = vec![self.region.as_str()];
        for peer in &self.regions {
            if !RegionId::is_valid(&peer.region) {
                return bad(format!("region {:?} is not a valid region id", peer.region));
            }
            if seen.contains(&peer.region.as_str()) {
                return bad(format!("region {} is listed twice (or is this node's)", peer.region));
            }
            seen.push(&peer.region);
            if peer.endpoints.is_empty() || peer.endpoints.iter().any(|e| e.trim().is_empty()) {
                return bad(format!("region {} needs its nodes' endpoints", peer.region));
            }
        }
        if let Some(admin) = &self.admin_listen {
            if self.tls.is_none() && !is_loopback(admin) {
                return bad(format!(
                    "admin_listen {admin} is not loopback: the admin listener needs [tls] (yaoshi cert)"
                ));
            }
            if admin == &self.raft_listen || admin == &self.listen {
                return bad(format!(
                    "admin_listen {admin} must differ from listen and raft_listen"
                ));
            }
        }
        Ok(())
    }

    /// The other regions, as the API takes them.
    pub(crate) fn peer_regions(&self) -> Vec<yaoshi_api::PeerRegion> {
        self.regions
            .iter()
            .map(|r| yaoshi_api::PeerRegion {
                region: RegionId::new(r.region.clone()),
                endpoints: r.endpoints.clone(),
            })
            .collect()
    }

    /// The initial members as a map.
    pub(crate) fn member_map(&self) -> BTreeMap<u64, String> {
        self.members.iter().map(|m| (m.id, m.raft_addr.clone())).collect()
    }

    /// The region's data directory.
    pub(crate) fn region_dir(&self) -> PathBuf {
        self.data_dir.join("regions").join(&self.region)
    }

    /// Raft timings as durations.
    pub(crate) fn election_timeout(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.raft.election_timeout_min_ms),
            Duration::from_millis(self.raft.election_timeout_max_ms),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped config file parses and validates.
    #[test]
    fn shipped_configs_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../cluster-config");
        let mut n = 0;
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&dir).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "toml") {
                    Config::load(&f).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
                    n += 1;
                }
            }
        }
        assert!(n >= 3, "expected the three-node configs");
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        let base = "node_id = 1\nlisten = \"127.0.0.1:1\"\nraft_listen = \"127.0.0.1:2\"\ndata_dir = \"d\"\ndomain_key_env = \"K\"\n[[members]]\nid = 1\nraft_addr = \"127.0.0.1:2\"\n";
        let ok: Config = toml::from_str(base).unwrap();
        ok.validate().unwrap();
        assert!(toml::from_str::<Config>(&format!("bogus = 1\n{base}")).is_err());
        let mut c = ok.clone();
        c.node_id = 2;
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.domain_key_file = Some("f".into());
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.raft.election_timeout_min_ms = 100;
        assert!(c.validate().is_err());
        // The admin listener: its own address, off loopback only with TLS.
        let mut c = ok.clone();
        c.admin_listen = Some("127.0.0.1:2".into());
        assert!(c.validate().unwrap_err().to_string().contains("must differ"));
        c.admin_listen = Some("0.0.0.0:3".into());
        assert!(c.validate().unwrap_err().to_string().contains("admin listener needs [tls]"));
        c.tls = Some(TlsFiles { ca: "ca.pem".into(), cert: "n.pem".into(), key: "n.key".into() });
        c.validate().unwrap();
        // A plaintext cluster port off loopback is refused; with TLS files it is fine.
        let mut c = ok;
        c.raft_listen = "0.0.0.0:9181".into();
        assert!(c.validate().unwrap_err().to_string().contains("needs [tls]"));
        c.tls = Some(TlsFiles { ca: "ca.pem".into(), cert: "n.pem".into(), key: "n.key".into() });
        c.validate().unwrap();
        assert!(is_loopback("127.0.0.1:1") && is_loopback("[::1]:1") && is_loopback("localhost:1"));
        // Other regions: valid, distinct from each other and this one, each with endpoints.
        let peer = |region: &str, endpoints: &[&str]| PeerRegionConfig {
            region: region.into(),
            endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
        };
        let c: Config = toml::from_str(&format!(
            "{base}[[regions]]\nregion = \"cn-shanghai\"\nendpoints = [\"127.0.0.1:8281\"]\n"
        ))
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.peer_regions()[0].region.as_str(), "cn-shanghai");
        for bad in [
            peer("cn-hangzhou", &["127.0.0.1:1"]),
            peer("cn-shanghai", &["127.0.0.1:1"]),
            peer("not a region", &["127.0.0.1:1"]),
            peer("cn-beijing", &[]),
            peer("cn-beijing", &[" "]),
        ] {
            let mut c = c.clone();
            c.regions.push(bad);
            assert!(c.validate().is_err(), "{:?}", c.regions);
        }
        assert!(!is_loopback("10.0.0.1:1") && !is_loopback("example.com:1"));
    }
}
