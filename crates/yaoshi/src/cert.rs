//! `yaoshi cert init|issue`: the cluster CA and the certificates of nodes, workers and operators.
//!
//! `init` creates `ca.pem` and `ca.key` in a directory; `issue` signs a new ECDSA P-256 key for one
//! holder with them. A holder's identity is its DNS names (`yaoshi_raft::tls`): node `N` of region
//! `R` gets `node-N.R.yaoshi` and `R.yaoshi`, a worker `worker-W.R.yaoshi`, an operator
//! `admin.R.yaoshi`. Private keys are written with mode 0600 and never printed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use yaoshi_raft::tls;

/// How long the CA is valid.
const CA_DAYS: i64 = 3650;
/// How long a holder's certificate is valid.
const LEAF_DAYS: i64 = 825;

/// Arguments of `yaoshi cert`.
#[derive(Debug, clap::Args)]
pub(crate) struct CertArgs {
    #[command(subcommand)]
    command: CertCmd,
}

#[derive(Debug, clap::Subcommand)]
enum CertCmd {
    /// Create a cluster CA (`ca.pem`, `ca.key`) in DIR.
    Init {
        /// The directory (created if missing); an existing CA is never overwritten.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Issue a certificate and key signed by the CA in DIR, written next to it.
    Issue {
        /// The CA's directory (from `yaoshi cert init`); the files are written there.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The holder's region.
        #[arg(long, default_value = "cn-hangzhou")]
        region: String,
        #[command(flatten)]
        holder: Holder,
    },
}

/// Exactly one kind of holder.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Holder {
    /// A node: its member id (writes `node-ID.pem`, `node-ID.key`).
    #[arg(long, value_name = "ID")]
    node: Option<u64>,
    /// A crypto worker: its name (writes `worker-NAME.pem`, `worker-NAME.key`).
    #[arg(long, value_name = "NAME")]
    worker: Option<String>,
    /// An operator of `yaoshi cluster` (writes `admin.pem`, `admin.key`).
    #[arg(long)]
    admin: bool,
}

pub(crate) fn run(args: CertArgs) -> anyhow::Result<()> {
    match args.command {
        CertCmd::Init { dir } => init(&dir),
        CertCmd::Issue { dir, region, holder } => issue(&dir, &region, &holder),
    }
}

fn serial() -> SerialNumber {
    let mut bytes = yaoshi_crypto::random_bytes(16);
    bytes[0] &= 0x7f; // a positive INTEGER
    SerialNumber::from_slice(&bytes)
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
    params.serial_number = Some(serial());
}

fn init(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, "Yaoshi cluster CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, CA_DAYS);
    let cert = params.self_signed(&key)?;
    write_new(&dir.join("ca.key"), key.serialize_pem().as_bytes(), true)?;
    write_new(&dir.join("ca.pem"), cert.pem().as_bytes(), false)?;
    println!("cluster CA created: {}", dir.join("ca.pem").display());
    Ok(())
}

fn issue(dir: &Path, region: &str, holder: &Holder) -> anyhow::Result<()> {
    if region.is_empty() || region.contains('.') {
        anyhow::bail!("a region name has no dots");
    }
    let (file, names, client_only) = match (holder.node, &holder.worker, holder.admin) {
        (Some(0), _, _) => anyhow::bail!("node ids start at 1"),
        (Some(id), _, _) => (
            format!("node-{id}"),
            vec![tls::node_name(region, id), tls::region_name(region)],
            false,
        ),
        (_, Some(w), _) => {
            if w.is_empty() || !w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                anyhow::bail!("a worker name is letters, digits and '-'");
            }
            (format!("worker-{w}"), vec![tls::worker_name(region, w)], true)
        }
        _ => ("admin".to_string(), vec![tls::admin_name(region)], true),
    };
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let ca_key = KeyPair::from_pem(&read("ca.key")?).context("ca.key")?;
    let issuer = Issuer::from_ca_cert_pem(&read("ca.pem")?, ca_key).context("ca.pem")?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.clone())?;
    params.distinguished_name.push(DnType::CommonName, names[0].clone());
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = if client_only {
        vec![ExtendedKeyUsagePurpose::ClientAuth]
    } else {
        vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth]
    };
    validity(&mut params, LEAF_DAYS);
    let cert = params.signed_by(&key, &issuer)?;
    write_new(&dir.join(format!("{file}.key")), key.serialize_pem().as_bytes(), true)?;
    write_new(&dir.join(format!("{file}.pem")), cert.pem().as_bytes(), false)?;
    println!("issued {} for {}", dir.join(format!("{file}.pem")).display(), names.join(", "));
    Ok(())
}

/// Writes a file that must not exist yet; `private` ones get mode 0600.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
