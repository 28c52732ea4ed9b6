//! Test support: `yaoshi` processes on loopback (`yaoshi-testkit`'s fixtures with this package's
//! binary and the test credential) and waiting for them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use yaoshi_client::Client;
pub(crate) use yaoshi_testkit::free_port;
use yaoshi_testkit::{Launcher, Process};

pub(crate) const AK: &str = "testak";
pub(crate) const SK: &str = "testsecret0123456789";

/// A running `yaoshi serve` (or `yaoshi worker`) process, killed on drop; its log is
/// `<data_dir>.log`.
pub(crate) struct NodeProcess {
    process: Process,
    pub(crate) endpoint: String,
    pub(crate) data_dir: PathBuf,
}

/// This package's `yaoshi` with the test credential, and the domain key when given.
pub(crate) fn launcher(domain_key_hex: Option<&str>) -> Launcher {
    let l = Launcher::new(Path::new(env!("CARGO_BIN_EXE_yaoshi")), AK, SK);
    match domain_key_hex {
        Some(k) => l.with_domain_key(k),
        None => l,
    }
}

impl NodeProcess {
    /// `yaoshi serve --dev` on a free port with the test credential.
    pub(crate) fn dev(data_dir: &Path) -> NodeProcess {
        NodeProcess::dev_with(data_dir, &[])
    }

    /// `yaoshi serve --dev` with extra arguments (e.g. `--test-clock`).
    pub(crate) fn dev_with(data_dir: &Path, extra: &[&str]) -> NodeProcess {
        let endpoint = yaoshi_testkit::free_addr();
        let process =
            launcher(None).dev_node("node", data_dir, &endpoint, extra, &log_of(data_dir));
        NodeProcess::spawn(process, endpoint, data_dir)
    }

    /// `yaoshi serve --config FILE --data-dir DIR` plus `extra` arguments, HTTP on `endpoint`.
    pub(crate) fn with_config(
        config: &Path,
        data_dir: &Path,
        endpoint: &str,
        domain_key_hex: &str,
        extra: &[&str],
    ) -> NodeProcess {
        let process = launcher(Some(domain_key_hex)).config_node(
            "node",
            config,
            Some(data_dir),
            extra,
            &log_of(data_dir),
        );
        NodeProcess::spawn(process, endpoint.into(), data_dir)
    }

    /// `yaoshi worker` fed by the node whose gRPC address is `cluster`, HTTP on a free port; its
    /// log goes next to `log_dir`.
    /// A worker fed by `cluster`, dialling it with the `--tls-*` arguments `tls`.
    pub(crate) fn worker(
        cluster: &str,
        log_dir: &Path,
        domain_key_hex: &str,
        tls: &[String],
    ) -> NodeProcess {
        let endpoint = yaoshi_testkit::free_addr();
        let mut args = vec!["--staleness-ms", "1000"];
        args.extend(tls.iter().map(String::as_str));
        let process = launcher(Some(domain_key_hex)).worker(
            "worker",
            cluster,
            &endpoint,
            &args,
            &log_of(log_dir),
        );
        NodeProcess::spawn(process, endpoint, log_dir)
    }

    fn spawn(process: Process, endpoint: String, data_dir: &Path) -> NodeProcess {
        std::fs::create_dir_all(data_dir).unwrap();
        let mut n = NodeProcess { process, endpoint, data_dir: data_dir.to_path_buf() };
        n.start();
        n
    }

    /// Starts (or restarts) the process.
    pub(crate) fn start(&mut self) {
        self.process.start();
    }

    /// SIGTERM and wait for the clean shutdown (asserted to finish within 20 s).
    pub(crate) fn terminate(&mut self) {
        assert!(self.process.terminate(Duration::from_secs(20)), "no clean shutdown");
    }

    /// SIGKILL, then reap.
    pub(crate) fn kill(&mut self) {
        self.process.kill();
    }

    /// Whether the process is still running (a crash is a test failure).
    pub(crate) fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    pub(crate) fn client(&self) -> Client {
        Client::new(&self.endpoint, AK, SK)
    }

    /// The process log so far.
    /// The process id while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub(crate) fn log(&self) -> String {
        self.process.log()
    }
}

/// The log file of the process whose data directory is `data_dir`.
fn log_of(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("log")
}

/// A fresh `serve --dev` node in its own temporary directory, ready for requests. Keep the
/// directory alive as long as the node.
pub(crate) async fn must_start_dev() -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev(&dir.path().join("node"));
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

/// A fresh `serve --dev --test-clock` node (KMS time can be advanced with [`advance_clock`]).
pub(crate) async fn must_start_dev_test_clock() -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(&dir.path().join("node"), &["--test-clock"]);
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

/// Moves a `--test-clock` node's KMS time forward by `ms`.
pub(crate) async fn advance_clock(node: &NodeProcess, ms: i64) {
    let url = format!("http://{}/_test/clock?AdvanceMs={ms}", node.endpoint);
    let r = reqwest::Client::new().post(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// Asserts an API error: HTTP status, code, and the RequestId and Message every error body has.
pub(crate) fn assert_api_error(r: &yaoshi_client::Response, status: u16, code: &str) {
    assert_eq!((r.status, r.code()), (status, Some(code)), "{:?}", r.body);
    assert!(r.str("RequestId").is_some() && r.str("Message").is_some(), "{:?}", r.body);
}

/// Waits until `client` answers a signed ListKeys with 200 (credential replicated, leader known).
pub(crate) async fn must_be_ready(client: &Client, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = client.call("ListKeys", &[]).await
            && r.status == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "node {} not ready in {timeout:?}", client.endpoint());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Calls until the response is 200 or the timeout passes (for the leaderless window of a failover).
pub(crate) async fn must_succeed_eventually(
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
    timeout: Duration,
) -> yaoshi_client::Response {
    let deadline = Instant::now() + timeout;
    loop {
        let r = client.call(action, params).await;
        if let Ok(r) = &r
            && r.status == 200
        {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "{action} on {} kept failing: {r:?}", client.endpoint());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A successful call, or a panic with the response.
pub(crate) async fn must_call(
    client: &Client,
    action: &str,
    params: &[(&str, &str)],
) -> yaoshi_client::Response {
    let r = client.call(action, params).await.unwrap();
    assert_eq!(r.status, 200, "{action}: {:?}", r.body);
    assert!(r.body.get("Code").is_none(), "success body carries Code: {:?}", r.body);
    assert!(r.str("RequestId").is_some());
    r
}

/// Creates a key and returns its id (a panic unless CreateKey succeeds: 200, `RequestId`, no
/// `Code`, a `KeyId`).
pub(crate) async fn must_create_key(client: &Client) -> String {
    yaoshi_testkit::create_key(client, &[("Description", "test key")])
        .await
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The Python interpreter of the venv made by `.ci/setup`.
pub(crate) fn venv_python() -> PathBuf {
    let venv = std::env::var("YAOSHI_VENV").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/yaoshi-venv")
    });
    let py = venv.join("bin/python");
    assert!(py.exists(), "{} missing: run .ci/setup first", py.display());
    py
}

/// Every file under `dir`, recursively (for the searches of values that must never be at rest in
/// clear).
pub(crate) fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
