//! The `--tls-ca/--tls-cert/--tls-key` options of the processes that dial a cluster's gRPC port
//! (`yaoshi worker`, `yaoshi cluster`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use yaoshi_raft::ClusterTls;

/// A client certificate from the cluster CA (`yaoshi cert issue`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TlsArgs {
    /// The cluster CA certificate (PEM); with --tls-cert and --tls-key, the gRPC port is dialled
    /// over mutual TLS. Without them only a loopback address is dialled, in plaintext.
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "tls_key"], global = true)]
    pub(crate) tls_ca: Option<PathBuf>,
    /// This process's certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_ca", global = true)]
    pub(crate) tls_cert: Option<PathBuf>,
    /// This process's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_ca", global = true)]
    pub(crate) tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The TLS identity for dialling `addr`; refuses plaintext to a non-loopback address.
    pub(crate) fn load(&self, addr: &str) -> anyhow::Result<Option<Arc<ClusterTls>>> {
        match (&self.tls_ca, &self.tls_cert, &self.tls_key) {
            (Some(ca), Some(cert), Some(key)) => {
                Ok(Some(Arc::new(ClusterTls::load(ca, cert, key).context("cluster TLS")?)))
            }
            _ if crate::config::is_loopback(addr) => Ok(None),
            _ => anyhow::bail!("{addr} is not loopback: pass --tls-ca, --tls-cert and --tls-key"),
        }
    }
}
