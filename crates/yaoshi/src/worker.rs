//! `yaoshi worker`: a stateless crypto worker. It serves the same HTTP API as a node: data-plane
//! actions from a cache fed by a node's watch stream (proto/worker.proto), everything else
//! forwarded to that node.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use yaoshi_api::{ApiState, SystemClock};
use yaoshi_crypto::DomainKey;
use yaoshi_model::RegionId;
use yaoshi_worker::KeyCache;

/// Arguments of `yaoshi worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// A node's gRPC address (`host:port`, its `raft_listen`).
    #[arg(long, value_name = "ADDR")]
    cluster: String,
    /// The HTTP listen address.
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// The region served.
    #[arg(long, default_value = "cn-hangzhou")]
    region: String,
    /// Refuse data-plane requests when the feed has been silent this long (milliseconds).
    #[arg(long, default_value_t = 1000)]
    staleness_ms: u64,
    /// The environment variable holding the region's domain key (64 hex digits).
    #[arg(long, default_value = "YAOSHI_DOMAIN_KEY")]
    domain_key_env: String,
    /// A file holding the domain key instead of the environment variable.
    #[arg(long, value_name = "FILE")]
    domain_key_file: Option<PathBuf>,
    /// Request limits of the HTTP API.
    #[command(flatten)]
    limits: crate::limits::LimitArgs,
    /// HTTPS on the HTTP API.
    #[command(flatten)]
    https: crate::https_args::HttpsArgs,
    /// The worker certificate (`yaoshi cert issue --worker NAME`) for the node's gRPC port.
    #[command(flatten)]
    tls: crate::tls_args::TlsArgs,
}

pub(crate) async fn run(args: WorkerArgs) -> anyhow::Result<()> {
    let hex = match &args.domain_key_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading domain key file {}", path.display()))?,
        None => std::env::var(&args.domain_key_env)
            .with_context(|| format!("domain key variable {} is not set", args.domain_key_env))?,
    };
    let domain_key = DomainKey::from_hex(&hex).map_err(|e| anyhow::anyhow!("domain key: {e}"))?;
    tracing::info!(fingerprint = %domain_key.fingerprint(), "domain key loaded");
    let cache = Arc::new(KeyCache::new(Duration::from_millis(args.staleness_ms)));
    let tls = args.tls.load(&args.cluster)?;
    tokio::spawn(yaoshi_worker::run_feed(
        cache.clone(),
        args.cluster.clone(),
        args.region.clone(),
        tls.clone(),
    ));
    let api = ApiState::worker(
        RegionId::new(args.region.clone()),
        cache,
        domain_key,
        Arc::new(SystemClock),
        args.limits.limits(),
        tls,
    );
    let https = args.https.load(&args.listen)?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding HTTP listener {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, cluster = %args.cluster, staleness_ms = args.staleness_ms, "worker HTTP API listening");
    let limits = args.limits.limits();
    yaoshi_api::serve(listener, yaoshi_api::router(api), &limits, https, std::future::pending())
        .await
        .context("HTTP server")?;
    Ok(())
}
