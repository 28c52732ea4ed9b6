//! `yaoshi serve`: start the region node, its gRPC and HTTP servers, and bootstrap the credential.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use yaoshi_api::{ApiState, Clock, SystemClock, TestClock};
use yaoshi_crypto::DomainKey;
use yaoshi_model::{
    AccessKeyId, Command, CommandEnvelope, CommandMeta, CommandOutput, CredentialV1, RegionId,
};
use yaoshi_raft::{RaftGrpc, RegionConfig, RegionNode};

use crate::ServeArgs;
use crate::config::Config;

/// How far (real milliseconds) a command's time may be from the leader's clock and be kept.
const MAX_CLOCK_SKEW_MS: i64 = 60_000;

/// The file in the data directory where a clean shutdown keeps the nonce cache.
const NONCE_FILE: &str = "nonces.bin";

/// Environment variables of the bootstrap credential.
const ENV_ACCESS_KEY_ID: &str = "YAOSHI_ACCESS_KEY_ID";
const ENV_ACCESS_KEY_SECRET: &str = "YAOSHI_ACCESS_KEY_SECRET";

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let dev = args.dev;
    let mut cfg = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::dev("yaoshi-data".into(), "127.0.0.1:8080".into()),
    };
    if let Some(dir) = args.data_dir {
        cfg.data_dir = dir;
    }
    if let Some(listen) = args.listen {
        cfg.listen = listen;
    }
    if let Some(admin) = args.admin_listen {
        anyhow::ensure!(
            cfg.tls.is_some() || crate::config::is_loopback(&admin),
            "--admin-listen {admin} is not loopback: the admin listener needs [tls] (yaoshi cert)"
        );
        cfg.admin_listen = Some(admin);
    }
    cfg.join |= args.join;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    let domain_key = load_domain_key(&cfg, dev)?;
    let bootstrap_secret = match &args.bootstrap_secret_file {
        Some(path) => Some(read_secret_file(path)?),
        None if args.bootstrap_secret_prompt => Some(prompt_secret()?),
        None => None,
    };
    tracing::info!(fingerprint = %domain_key.fingerprint(), "domain key loaded");

    // Prometheus exposition of the process's counters (no secrets in them), beside the API.
    // Installed before the node starts so the store's counters include the startup re-apply.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    // KMS time: the wall clock, or in test mode a controllable one. The node stamps it on the
    // commands it appends as leader; the API and the scheduler read it too.
    let test_clock = args.test_clock.then(|| {
        let epoch = args.test_clock_epoch_ms.unwrap_or_else(|| SystemClock.now_ms());
        tracing::warn!(
            scale = args.test_clock_scale,
            epoch_ms = epoch,
            "TEST CLOCK ENABLED: KMS time can be advanced without authentication"
        );
        Arc::new(TestClock::scaled(args.test_clock_scale, epoch))
    });
    let clock: Arc<dyn Clock> = match &test_clock {
        Some(tc) => tc.clone(),
        None => Arc::new(SystemClock),
    };
    let node_clock = clock.clone();
    let tls = match &cfg.tls {
        Some(f) => Some(Arc::new(
            yaoshi_raft::ClusterTls::load(&f.ca, &f.cert, &f.key).context("cluster TLS")?,
        )),
        None => None,
    };
    let node = RegionNode::start(RegionConfig {
        region: RegionId::new(cfg.region.clone()),
        node_id: cfg.node_id,
        raft_addr: cfg.raft_listen.clone(),
        initial_members: cfg.member_map(),
        data_dir: cfg.region_dir(),
        heartbeat: Duration::from_millis(cfg.raft.heartbeat_ms),
        election_timeout: cfg.election_timeout(),
        snapshot_logs_since_last: cfg.raft.snapshot_logs_since_last,
        logs_to_keep_after_snapshot: cfg.raft.logs_to_keep_after_snapshot,
        request_timeout: Duration::from_millis(cfg.raft.request_timeout_ms),
        clock: Arc::new(move || node_clock.now_ms()),
        // One minute of real time; KMS time runs `scale` times faster under the test clock.
        max_clock_skew_ms: (MAX_CLOCK_SKEW_MS as f64 * args.test_clock_scale.max(1.0)) as i64,
        tls: tls.clone(),
        nonce_cache_entries: args.limits.limits().nonce_cache_entries,
        nonce_file: Some(cfg.data_dir.join(NONCE_FILE)),
    })
    .await
    .context("starting the region node")?;
    tracing::info!(node_id = cfg.node_id, region = %cfg.region, data_dir = %cfg.data_dir.display(), "node started");

    if !dev {
        let addr =
            cfg.raft_listen.parse().with_context(|| format!("raft_listen {}", cfg.raft_listen))?;
        // Bind before serving so a busy port fails startup instead of leaving a node without its
        // Raft transport.
        let incoming = tonic::transport::server::TcpIncoming::bind(addr)
            .with_context(|| format!("binding raft gRPC listener {addr}"))?;
        let service = RaftGrpc::server(node.clone());
        let feed = yaoshi_raft::feed::FeedGrpc::server(node.clone(), cfg.listen.clone());
        let admin = yaoshi_raft::AdminGrpc::internal(node.clone());
        let mut builder = grpc_server(tls.as_deref())?;
        if tls.is_none() {
            tracing::warn!(raft_listen = %cfg.raft_listen, "the cluster port is plaintext and unauthenticated (no [tls]); loopback only");
        }
        tokio::spawn(async move {
            let server = builder.add_service(service).add_service(feed).add_service(admin);
            if let Err(e) = server.serve_with_incoming(incoming).await {
                tracing::error!(error = %e, "raft gRPC server stopped");
            }
        });
        tracing::info!(raft_listen = %cfg.raft_listen, "raft gRPC listening");
    }
    match &cfg.admin_listen {
        Some(admin_listen) => {
            let addr =
                admin_listen.parse().with_context(|| format!("admin_listen {admin_listen}"))?;
            let incoming = tonic::transport::server::TcpIncoming::bind(addr)
                .with_context(|| format!("binding admin listener {addr}"))?;
            let admin = yaoshi_raft::AdminGrpc::operator(node.clone());
            let access_clock = clock.clone();
            let access = yaoshi_raft::AccessGrpc::operator(
                node.clone(),
                domain_key.clone(),
                cfg.account_id.clone(),
                Arc::new(move || access_clock.now_ms()),
            );
            let mut builder = grpc_server(tls.as_deref())?;
            tokio::spawn(async move {
                let server = builder.add_service(admin).add_service(access);
                if let Err(e) = server.serve_with_incoming(incoming).await {
                    tracing::error!(error = %e, "admin listener stopped");
                }
            });
            tracing::info!(admin_listen = %admin_listen, "admin listener (yaoshi cluster, credential, access-point) listening");
        }
        None => tracing::info!("no admin_listen: this node serves no administration"),
    }
    if cfg.join {
        tracing::info!("joining: waiting to be added to the group (yaoshi cluster add)");
    } else if node.initialize_if_pristine().await? {
        tracing::info!(members = ?cfg.member_map(), "initialized a new region group");
    }
    tokio::spawn(log_leader_changes(node.clone()));
    tokio::spawn(bootstrap_credential(
        node.clone(),
        domain_key.clone(),
        cfg.account_id.clone(),
        bootstrap_secret,
        dev,
    ));

    let scheduler_key = domain_key.clone();
    let limits = args.limits.limits();
    let api = match &test_clock {
        Some(tc) => ApiState::with_test_clock(node.clone(), domain_key, tc.clone(), limits.clone()),
        None => ApiState::new(node.clone(), domain_key, clock.clone(), limits.clone()),
    };
    if !cfg.regions.is_empty() {
        tracing::info!(regions = ?cfg.regions.iter().map(|r| &r.region).collect::<Vec<_>>(), "other regions of the deployment");
    }
    api.set_peer_regions(cfg.peer_regions());
    let rotation_hook = args.secret_rotation_hook.as_ref().map(|program| {
        let timeout = Duration::from_millis(args.secret_rotation_hook_timeout_ms);
        tracing::info!(program = %program.display(), ?timeout, "secret rotation hook configured");
        Arc::new(yaoshi_rotation::RotationHook::new(program, timeout))
    });
    if let Some(hook) = &rotation_hook {
        api.set_rotation_hook(hook.clone());
    }
    let now: yaoshi_scheduler::Now = Arc::new(move || clock.now_ms());
    let scheduler = yaoshi_scheduler::Scheduler::new(
        node.clone(),
        scheduler_key,
        now,
        Duration::from_millis(args.scheduler_tick_ms.max(10)),
    )
    .with_rotation_hook(rotation_hook);
    tokio::spawn(scheduler.run());
    let https = args.https.load(&cfg.listen)?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("binding HTTP listener {}", cfg.listen))?;
    tracing::info!(listen = %listener.local_addr()?, region = %cfg.region, node_id = cfg.node_id, "HTTP API listening");
    let app = yaoshi_api::router(api)
        .route("/metrics", axum::routing::get(move || std::future::ready(metrics.render())));
    yaoshi_api::serve(listener, app, &limits, https, shutdown_signal())
        .await
        .context("HTTP server")?;
    tracing::info!("shutting down");
    // The API has stopped answering: the nonces seen so far are all the next start must know.
    match node.nonces.save(&cfg.data_dir.join(NONCE_FILE)) {
        Ok(()) => tracing::info!(nonces = node.nonces.entries(), "nonce cache saved"),
        Err(e) => {
            tracing::warn!(error = %e, "nonce cache not saved; replays of recent reads are not refused after the restart")
        }
    }
    let _ = node.raft.shutdown().await;
    Ok(())
}

/// A tonic server builder, over mutual TLS when the node has a cluster identity.
fn grpc_server(tls: Option<&yaoshi_raft::ClusterTls>) -> anyhow::Result<tonic::transport::Server> {
    let builder = tonic::transport::Server::builder();
    match tls {
        Some(tls) => builder.tls_config(tls.server()).context("cluster TLS"),
        None => Ok(builder),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The domain key: in dev mode generated at first start into `<data>/domain.key` (mode 0600); in a
/// cluster from the configured environment variable or file, identical on every node.
fn load_domain_key(cfg: &Config, dev: bool) -> anyhow::Result<DomainKey> {
    if dev {
        let path = cfg.data_dir.join("domain.key");
        if !path.exists() {
            write_private(&path, DomainKey::generate().to_hex().as_bytes())?;
            tracing::info!(path = %path.display(), "generated a new domain key");
        }
        return read_key_file(&path);
    }
    if let Some(var) = &cfg.domain_key_env {
        let value = std::env::var(var)
            .with_context(|| format!("domain key environment variable {var} is not set"))?;
        return DomainKey::from_hex(&value)
            .map_err(|e| anyhow::anyhow!("domain key in {var}: {e}"));
    }
    match &cfg.domain_key_file {
        Some(path) => read_key_file(path),
        None => anyhow::bail!("no domain key configured"),
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<DomainKey> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    DomainKey::from_hex(&text)
        .map_err(|e| anyhow::anyhow!("domain key file {}: {e}", path.display()))
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

async fn log_leader_changes(node: Arc<RegionNode>) {
    let mut metrics = node.raft.metrics();
    let mut last = None;
    loop {
        let (leader, term) = {
            let m = metrics.borrow_and_update();
            (m.current_leader, m.current_term)
        };
        if leader != last {
            match leader {
                Some(l) => tracing::info!(
                    leader = l,
                    term,
                    this_node = node.id,
                    is_leader = l == node.id,
                    "leader elected"
                ),
                None => tracing::info!(term, "no leader"),
            }
            last = leader;
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// The secret in `path`: its first line without the line ending, which must not be empty.
fn read_secret_file(path: &Path) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    first_line(std::io::BufReader::new(file))
        .with_context(|| format!("bootstrap secret file {}", path.display()))
}

/// The secret typed at a terminal (no echo) or the first line of a piped standard input.
fn prompt_secret() -> anyhow::Result<zeroize::Zeroizing<String>> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let typed = zeroize::Zeroizing::new(
            rpassword::prompt_password("Bootstrap AccessKey secret: ")
                .context("reading the bootstrap secret from the terminal")?,
        );
        anyhow::ensure!(!typed.is_empty(), "the bootstrap secret is empty");
        return Ok(typed);
    }
    first_line(std::io::stdin().lock()).context("bootstrap secret from standard input")
}

/// The first line of `input` without its line ending; it must not be empty.
fn first_line(mut input: impl std::io::BufRead) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    input.read_line(&mut line)?;
    let secret = line.trim_end_matches(['\n', '\r']);
    anyhow::ensure!(!secret.is_empty(), "is empty");
    Ok(zeroize::Zeroizing::new(secret.to_string()))
}

/// Creates the cluster's bootstrap credential once: its id from the environment and its secret
/// from `--bootstrap-secret-file` or the environment, or in dev mode generated and printed. Every
/// node may propose it; apply keeps only the first.
async fn bootstrap_credential(
    node: Arc<RegionNode>,
    domain_key: DomainKey,
    account_id: String,
    secret_from_file: Option<zeroize::Zeroizing<String>>,
    dev: bool,
) {
    let secret = match secret_from_file {
        Some(secret) => {
            if std::env::var_os(ENV_ACCESS_KEY_SECRET).is_some() {
                tracing::warn!("{ENV_ACCESS_KEY_SECRET} ignored: --bootstrap-secret-file is given");
            }
            Some(secret.to_string())
        }
        None => std::env::var(ENV_ACCESS_KEY_SECRET).ok(),
    };
    let from_env = match (std::env::var(ENV_ACCESS_KEY_ID), secret) {
        (Ok(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        _ => None,
    };
    loop {
        if node.read_barrier().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    match node.state.credentials() {
        Ok(existing) if !existing.is_empty() => {
            if let Some((id, _)) = &from_env
                && !existing.iter().any(|c| c.access_key_id.as_str() == id)
            {
                tracing::warn!(access_key_id = %id, "bootstrap credential from the environment ignored: the cluster already has one");
            }
            tracing::info!(access_key_id = %existing[0].access_key_id, "credential present");
            return;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot read credentials");
            return;
        }
    }
    let generated = from_env.is_none();
    let (id, secret) = match from_env {
        Some(pair) => pair,
        None if dev => {
            let (id, secret) = yaoshi_raft::access::generate_access_key();
            (id.to_string(), secret.to_string())
        }
        None => {
            tracing::warn!(
                "no credential exists and {ENV_ACCESS_KEY_ID}/{ENV_ACCESS_KEY_SECRET} are not set; the API rejects every request until one is created"
            );
            return;
        }
    };
    let access_key_id = AccessKeyId::new(id.clone());
    let wrapped = yaoshi_raft::access::wrap_secret(&domain_key, &access_key_id, &secret);
    let env = CommandEnvelope {
        meta: CommandMeta {
            request_id: uuid::Uuid::new_v4().to_string(),
            principal: None,
            nonce: None,
            at_ms: yaoshi_api::clock::Clock::now_ms(&SystemClock),
        },
        command: Command::BootstrapCredential {
            credential: CredentialV1 {
                access_key_id,
                wrapped_secret: wrapped,
                account_id,
                creation_ms: yaoshi_api::clock::Clock::now_ms(&SystemClock),
            },
        },
    };
    match node.write(env).await {
        Ok(Ok(CommandOutput::None)) => {
            tracing::info!(access_key_id = %id, "bootstrap credential created");
            if generated {
                // Shown once, on stdout only; logs never carry the secret.
                println!("Bootstrap credential (shown once, keep it safe):");
                println!("  {ENV_ACCESS_KEY_ID}={id}");
                println!("  {ENV_ACCESS_KEY_SECRET}={secret}");
            }
        }
        Ok(Ok(_)) => tracing::info!("another node created the bootstrap credential first"),
        Ok(Err(e)) => tracing::error!(code = e.code.as_str(), "bootstrap credential rejected"),
        Err(e) => tracing::error!(error = %e, "bootstrap credential not replicated"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_give_their_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        for (text, secret) in [
            ("abc\n", Some("abc")),
            ("abc\r\nmore", Some("abc")),
            ("abc", Some("abc")),
            ("", None),
            ("\n", None),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                read_secret_file(&path).ok().as_deref().map(String::as_str),
                secret,
                "{text:?}"
            );
        }
        assert!(read_secret_file(&dir.path().join("missing")).is_err());
    }
}
