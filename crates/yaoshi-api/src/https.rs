//! HTTPS on the public API: a rustls acceptor from a certificate chain and key (PEM files), and
//! its reload — on SIGHUP, or when either file's modification time changes — without dropping
//! connections. A reload that fails (unreadable or mismatched files) keeps the previous
//! certificate and logs why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How often the files' modification times are checked.
const POLL: Duration = Duration::from_secs(2);

/// A TLS server certificate that can be replaced while serving.
pub struct Https {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<(TlsAcceptor, Option<SystemTime>)>,
}

/// Files that do not make a TLS server certificate.
#[derive(Debug, thiserror::Error)]
#[error("HTTPS certificate {cert} / key {key}: {reason}")]
pub struct HttpsError {
    cert: String,
    key: String,
    reason: String,
}

impl std::fmt::Debug for Https {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Https").field("cert", &self.cert).finish()
    }
}

fn modified(paths: [&Path; 2]) -> Option<SystemTime> {
    paths.iter().filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()).max()
}

impl Https {
    /// Loads the chain (`cert`, leaf first) and its private key (`key`).
    ///
    /// # Errors
    ///
    /// When a file cannot be read or parsed, or the key does not match the certificate.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Https>, HttpsError> {
        let acceptor = Self::acceptor(cert, key)?;
        let stamp = modified([cert, key]);
        Ok(Arc::new(Https {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new((acceptor, stamp)),
        }))
    }

    fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, HttpsError> {
        let fail = |reason: String| HttpsError {
            cert: cert.display().to_string(),
            key: key.display().to_string(),
            reason,
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| fail(format!("certificate: {e}")))?;
        if chain.is_empty() {
            return Err(fail("no certificate in the file".into()));
        }
        // The message of a key parse error names no key bytes.
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| fail(format!("key: {e}")))?;
        // The process's provider: ring, the only one the build enables (as for tonic).
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| fail(e.to_string()))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// The acceptor for a new connection.
    pub fn acceptor_now(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    /// Reads the files again; on failure the previous certificate stays.
    ///
    /// # Errors
    ///
    /// As [`Https::load`].
    pub fn reload(&self) -> Result<(), HttpsError> {
        let acceptor = Self::acceptor(&self.cert, &self.key)?;
        let stamp = modified([&self.cert, &self.key]);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = (acceptor, stamp);
        Ok(())
    }

    fn changed(&self) -> bool {
        let seen = self.current.read().unwrap_or_else(|p| p.into_inner()).1;
        modified([&self.cert, &self.key]) != seen
    }

    /// Reloads on SIGHUP and whenever a file changes, until the process ends.
    pub async fn watch(self: Arc<Https>) {
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(POLL);
        loop {
            #[cfg(unix)]
            let signalled = async {
                match hup.as_mut() {
                    Some(h) => {
                        h.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<()>();
            let why = tokio::select! {
                () = signalled => "SIGHUP",
                _ = tick.tick() => {
                    if !self.changed() {
                        continue;
                    }
                    "file change"
                }
            };
            match self.reload() {
                Ok(()) => {
                    tracing::info!(trigger = why, cert = %self.cert.display(), "HTTPS certificate reloaded")
                }
                Err(e) => {
                    tracing::warn!(trigger = why, error = %e, "HTTPS certificate reload failed; keeping the previous one");
                    // Do not retry a broken file every tick; the next change or SIGHUP retries.
                    let stamp = modified([&self.cert, &self.key]);
                    self.current.write().unwrap_or_else(|p| p.into_inner()).1 = stamp;
                }
            }
        }
    }
}
