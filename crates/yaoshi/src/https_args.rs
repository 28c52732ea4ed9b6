//! The HTTPS options of the public API (`yaoshi serve`, `yaoshi worker`), and the rule that a
//! non-loopback API is never served in plaintext unless a TLS proxy is said to be in front.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use yaoshi_api::Https;

/// HTTPS on the public API.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct HttpsArgs {
    /// Serve the API over HTTPS with this certificate chain (PEM, leaf first); reloaded on SIGHUP
    /// or when the file changes.
    #[arg(long, value_name = "FILE", requires = "https_key")]
    pub(crate) https_cert: Option<PathBuf>,
    /// The HTTPS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "https_cert")]
    pub(crate) https_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address because a TLS-terminating proxy is in front.
    #[arg(long, conflicts_with = "https_cert")]
    pub(crate) behind_tls_proxy: bool,
}

impl HttpsArgs {
    /// The HTTPS certificate (watched for reloads), or `None` for plain HTTP where that is allowed.
    pub(crate) fn load(&self, listen: &str) -> anyhow::Result<Option<Arc<Https>>> {
        match (&self.https_cert, &self.https_key) {
            (Some(cert), Some(key)) => {
                let https = Https::load(cert, key).context("HTTPS")?;
                tokio::spawn(https.clone().watch());
                Ok(Some(https))
            }
            _ if self.behind_tls_proxy || crate::config::is_loopback(listen) => Ok(None),
            _ => anyhow::bail!(
                "the API would listen on {listen} in plaintext: pass --https-cert and --https-key, or --behind-tls-proxy"
            ),
        }
    }
}
