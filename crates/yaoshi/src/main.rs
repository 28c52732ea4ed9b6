//! The `yaoshi` binary: `yaoshi serve --dev` (embedded single node) or `yaoshi serve --config FILE`
//! (a member of a region's Raft group), `yaoshi worker` (a stateless crypto worker) and
//! `yaoshi cluster` (membership administration), `yaoshi credential` and `yaoshi access-point`
//! (AccessKeys and their policies) and `yaoshi cert` (the cluster CA and its certificates).

mod cert;
mod cluster;
mod config;
mod credential;
mod https_args;
mod limits;
mod serve;
mod tls_args;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Yaoshi: a distributed key management service speaking the Alibaba Cloud KMS API.
#[derive(Debug, Parser)]
#[command(name = "yaoshi", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run a node.
    Serve(ServeArgs),
    /// Run a stateless crypto worker in front of a cluster.
    Worker(worker::WorkerArgs),
    /// Administer a region's Raft group: status, add a learner, promote, remove.
    Cluster(cluster::ClusterArgs),
    /// Create the cluster CA and issue node, worker and operator certificates.
    Cert(cert::CertArgs),
    /// Create, list, rotate, revoke and scope the region's AccessKeys.
    Credential(credential::CredentialArgs),
    /// Create, list and delete access points (policies that scope AccessKeys).
    AccessPoint(credential::AccessPointArgs),
}

/// Arguments of `yaoshi serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Run the embedded single-node development setup (data in ./yaoshi-data unless --data-dir).
    #[arg(long, conflicts_with = "config", required_unless_present = "config")]
    pub(crate) dev: bool,
    /// A cluster node's configuration file (see cluster-config/).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Overrides the data directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Overrides the HTTP listen address (dev default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Overrides the admin listener (`admin_listen`): `yaoshi cluster`, `yaoshi credential` and
    /// `yaoshi access-point` connect there (loopback only without [tls]; e.g. 127.0.0.1:9191
    /// with --dev).
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin_listen: Option<String>,
    /// Join an existing group (same as `join = true` in the config): never form a group from the
    /// configured members; wait for `yaoshi cluster add`.
    #[arg(long, requires = "config")]
    pub(crate) join: bool,
    /// Read the bootstrap credential's secret from FILE (one line; a trailing newline is dropped)
    /// instead of YAOSHI_ACCESS_KEY_SECRET, which stays readable in /proc/PID/environ. The id is
    /// still YAOSHI_ACCESS_KEY_ID. Used only while the cluster has no credential yet.
    #[arg(long, value_name = "FILE", conflicts_with = "bootstrap_secret_prompt")]
    pub(crate) bootstrap_secret_file: Option<PathBuf>,
    /// Ask for the bootstrap credential's secret: on a terminal without echo, otherwise the first
    /// line of standard input (`printf '%s\n' "$SECRET" | yaoshi serve …`). Like
    /// --bootstrap-secret-file, it keeps the secret out of the environment.
    #[arg(long)]
    pub(crate) bootstrap_secret_prompt: bool,
    /// TESTS ONLY: KMS time becomes controllable through an unauthenticated
    /// `POST /_test/clock?AdvanceMs=N` route. A command-line flag only, so no configuration file
    /// can turn it on; never use it in production.
    #[arg(long)]
    pub(crate) test_clock: bool,
    /// TESTS ONLY, with --test-clock: KMS time runs this many times faster than the wall clock
    /// from --test-clock-epoch-ms (e.g. 20000: a 7-day window passes in 30 seconds).
    #[arg(long, requires = "test_clock", default_value_t = 1.0)]
    pub(crate) test_clock_scale: f64,
    /// TESTS ONLY, with --test-clock: the Unix millisecond from which the scaled clock runs; give
    /// every node of a cluster the same value so they agree on KMS time (default: now).
    #[arg(long, requires = "test_clock")]
    pub(crate) test_clock_epoch_ms: Option<i64>,
    /// How often the scheduler looks for due work on the leader, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub(crate) scheduler_tick_ms: u64,
    /// Generic secrets rotate (automatically and by RotateSecret) to the value PROGRAM prints,
    /// instead of a random password: it runs without a shell with YAOSHI_SECRET_NAME and
    /// YAOSHI_SECRET_VERSION_ID set and the current value on standard input (docs/API.md
    /// "Secrets"). Give every node the same hook.
    #[arg(long, value_name = "PROGRAM")]
    pub(crate) secret_rotation_hook: Option<PathBuf>,
    /// How long the rotation hook may run before it is killed and the rotation fails.
    #[arg(long, requires = "secret_rotation_hook", default_value_t = 10_000)]
    pub(crate) secret_rotation_hook_timeout_ms: u64,
    /// Request limits of the HTTP API.
    #[command(flatten)]
    pub(crate) limits: limits::LimitArgs,
    /// HTTPS on the HTTP API.
    #[command(flatten)]
    pub(crate) https: https_args::HttpsArgs,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,openraft=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if let Cmd::Cert(args) = cli.command {
        return cert::run(args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Cmd::Serve(args) => runtime.block_on(serve::run(args)),
        Cmd::Worker(args) => runtime.block_on(worker::run(args)),
        Cmd::Cluster(args) => runtime.block_on(cluster::run(args)),
        Cmd::Credential(args) => runtime.block_on(credential::run_credential(args)),
        Cmd::AccessPoint(args) => runtime.block_on(credential::run_access_point(args)),
        Cmd::Cert(_) => unreachable!("handled above"),
    }
}
