//! Launching `yaoshi` processes: a dev node (`serve --dev`), a node from a config file
//! (`serve --config`) and a crypto worker (`worker --cluster`).
//!
//! A [`Launcher`] holds what every process of one test shares: the binary, the bootstrap
//! credential (`YAOSHI_ACCESS_KEY_ID`/`YAOSHI_ACCESS_KEY_SECRET`), the region domain key
//! (`YAOSHI_DOMAIN_KEY`, when the test sets one) and `RUST_LOG`. Its methods describe a process
//! ([`Process`]) that the caller starts; the log goes where the caller says.

use std::path::{Path, PathBuf};

use yaoshi_client::Client;

use crate::process::Process;

/// The `RUST_LOG` of launched processes unless the test sets another.
pub const DEFAULT_RUST_LOG: &str = "info,openraft=warn";

/// The binary and environment shared by the processes of one test.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `yaoshi` executable (see [`crate::binary`]).
    pub binary: PathBuf,
    /// The bootstrap AccessKey id.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
    /// The region domain key, 64 hex digits (`None`: not in the environment; a dev node makes
    /// its own).
    pub domain_key_hex: Option<String>,
    /// `RUST_LOG` of the processes.
    pub rust_log: String,
}

impl Launcher {
    /// Processes of `binary` with this bootstrap credential, no domain key and
    /// [`DEFAULT_RUST_LOG`].
    pub fn new(binary: &Path, access_key_id: &str, access_key_secret: &str) -> Launcher {
        Launcher {
            binary: binary.to_path_buf(),
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
            domain_key_hex: None,
            rust_log: DEFAULT_RUST_LOG.to_string(),
        }
    }

    /// Sets the domain key every process gets (`YAOSHI_DOMAIN_KEY`).
    pub fn with_domain_key(mut self, domain_key_hex: &str) -> Launcher {
        self.domain_key_hex = Some(domain_key_hex.to_string());
        self
    }

    /// Sets `RUST_LOG`.
    pub fn with_rust_log(mut self, rust_log: &str) -> Launcher {
        self.rust_log = rust_log.to_string();
        self
    }

    /// The environment of every process: the domain key (when set), the credential, `RUST_LOG`.
    pub fn envs(&self) -> Vec<(String, String)> {
        let mut envs = Vec::with_capacity(4);
        if let Some(k) = &self.domain_key_hex {
            envs.push(("YAOSHI_DOMAIN_KEY".to_string(), k.clone()));
        }
        envs.push(("YAOSHI_ACCESS_KEY_ID".to_string(), self.access_key_id.clone()));
        envs.push(("YAOSHI_ACCESS_KEY_SECRET".to_string(), self.access_key_secret.clone()));
        envs.push(("RUST_LOG".to_string(), self.rust_log.clone()));
        envs
    }

    /// A client of `endpoint` signing with the bootstrap credential.
    pub fn client(&self, endpoint: &str) -> Client {
        Client::new(endpoint, &self.access_key_id, &self.access_key_secret)
    }

    /// `yaoshi serve --dev --data-dir <data_dir> --listen <listen> <extra…>`.
    pub fn dev_node(
        &self,
        name: &str,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
        log: &Path,
    ) -> Process {
        let mut args = strings(&["serve", "--dev", "--data-dir"]);
        args.push(data_dir.display().to_string());
        args.extend(strings(&["--listen", listen]));
        args.extend(strings(extra));
        self.process(name, args, log)
    }

    /// `yaoshi serve --config <config> [--data-dir <data_dir>] <extra…>` (without `data_dir`, the
    /// config's `data_dir` is used).
    pub fn config_node(
        &self,
        name: &str,
        config: &Path,
        data_dir: Option<&Path>,
        extra: &[&str],
        log: &Path,
    ) -> Process {
        let mut args = strings(&["serve", "--config"]);
        args.push(config.display().to_string());
        if let Some(d) = data_dir {
            args.push("--data-dir".into());
            args.push(d.display().to_string());
        }
        args.extend(strings(extra));
        self.process(name, args, log)
    }

    /// `yaoshi worker --cluster <feed> --listen <listen> <extra…>`, fed by the node whose gRPC
    /// address is `feed`.
    pub fn worker(
        &self,
        name: &str,
        feed: &str,
        listen: &str,
        extra: &[&str],
        log: &Path,
    ) -> Process {
        let mut args = strings(&["worker", "--cluster", feed, "--listen", listen]);
        args.extend(strings(extra));
        self.process(name, args, log)
    }

    fn process(&self, name: &str, args: Vec<String>, log: &Path) -> Process {
        Process::new(name, &self.binary, args, self.envs(), log)
    }
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// The leader a `yaoshi serve` log last reported (`leader elected leader=N`, logged on every
/// leader change; `None`: none yet, or "no leader").
pub fn reported_leader(log: &str) -> Option<u64> {
    let line =
        log.lines().rev().find(|l| l.contains("leader elected") || l.contains("no leader"))?;
    let rest = &line[line.find(" leader=")? + 8..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_is_read_from_the_last_report() {
        let log = "x\nINFO yaoshi: leader elected leader=2 term=3\nINFO y\n";
        assert_eq!(reported_leader(log), Some(2));
        let log = format!("{log}INFO yaoshi::serve: no leader term=4\n");
        assert_eq!(reported_leader(&log), None);
        assert_eq!(reported_leader("nothing"), None);
    }

    #[test]
    fn launcher_environment_and_arguments() {
        let l = Launcher::new(Path::new("/bin/yaoshi"), "ak", "sk");
        assert_eq!(l.envs().len(), 3);
        let l = l.with_domain_key("00ff").with_rust_log("warn");
        let envs = l.envs();
        assert_eq!(envs[0], ("YAOSHI_DOMAIN_KEY".into(), "00ff".into()));
        assert_eq!(envs[3], ("RUST_LOG".into(), "warn".into()));
        // Described, not started.
        let p = l.worker("w", "127.0.0.1:1", "127.0.0.1:2", &["--x"], Path::new("/tmp/w.log"));
        assert!(!p.is_started());
        assert_eq!(p.name(), "w");
    }
}
