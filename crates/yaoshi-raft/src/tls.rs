//! Mutual TLS on the internal gRPC port: who a peer is, and the channels and server that prove it.
//!
//! Every node, worker and operator holds a certificate from the cluster CA (`yaoshi cert`). Its
//! DNS names say what it is:
//!
//! | holder | names | may call |
//! |---|---|---|
//! | node `N` of region `R` | `node-N.R.yaoshi`, `R.yaoshi` | Raft RPCs as `N`, ClientWrite, ReadIndex, the feed, admin (forwarding) |
//! | worker `W` of region `R` | `worker-W.R.yaoshi` | the feed |
//! | operator of region `R` | `admin.R.yaoshi` | admin (membership, status) |
//!
//! A client verifies the server it reaches the same way: a node dials `node-N.R.yaoshi` for the
//! peer it means, a worker or operator dials `R.yaoshi` (any node of the region, never a worker).
//! The server reads the client's certificate ([`Peer::of`]) and each service checks it against the
//! table above ([`Peer::require`]); a plaintext node (loopback only, no `[tls]`) skips the checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};
use tonic::{Request, Status};
use yaoshi_store::NodeId;

/// The DNS suffix of every cluster name.
pub const NAME_SUFFIX: &str = "yaoshi";

/// A certificate's PEM files: the cluster CA, this holder's certificate and its private key.
#[derive(Clone)]
pub struct ClusterTls {
    ca: Certificate,
    identity: Identity,
}

impl std::fmt::Debug for ClusterTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterTls")
    }
}

/// TLS files that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("TLS file {path}: {source}")]
pub struct TlsFileError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|source| TlsFileError { path: path.to_path_buf(), source })
}

impl ClusterTls {
    /// Reads the CA certificate, the holder's certificate and its key (PEM files).
    ///
    /// # Errors
    ///
    /// Fails when a file cannot be read.
    pub fn load(ca: &Path, cert: &Path, key: &Path) -> Result<ClusterTls, TlsFileError> {
        Ok(ClusterTls {
            ca: Certificate::from_pem(read(ca)?),
            identity: Identity::from_pem(read(cert)?, read(key)?),
        })
    }

    /// The server side: present this certificate, require a client certificate from the CA.
    pub fn server(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(self.identity.clone()).client_ca_root(self.ca.clone())
    }

    fn client(&self, server_name: &str) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.ca.clone())
            .identity(self.identity.clone())
            .domain_name(server_name)
    }
}

/// The name node `id` of `region` presents as a server.
pub fn node_name(region: &str, id: NodeId) -> String {
    format!("node-{id}.{region}.{NAME_SUFFIX}")
}

/// The name every node of `region` presents (what workers and operators dial).
pub fn region_name(region: &str) -> String {
    format!("{region}.{NAME_SUFFIX}")
}

/// The name of worker `name` of `region`.
pub fn worker_name(region: &str, name: &str) -> String {
    format!("worker-{name}.{region}.{NAME_SUFFIX}")
}

/// The name of an operator (admin client) of `region`.
pub fn admin_name(region: &str) -> String {
    format!("admin.{region}.{NAME_SUFFIX}")
}

/// An endpoint for `addr` (`host:port`): TLS verifying `server_name` when `tls` is set, else
/// plaintext.
///
/// # Errors
///
/// Fails on a malformed address.
pub fn endpoint(
    addr: &str,
    tls: Option<&ClusterTls>,
    server_name: &str,
) -> Result<Endpoint, tonic::transport::Error> {
    match tls {
        Some(tls) => {
            Endpoint::from_shared(format!("https://{addr}"))?.tls_config(tls.client(server_name))
        }
        None => Endpoint::from_shared(format!("http://{addr}")),
    }
}

/// What a client's certificate says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A region node.
    Node {
        /// Its region.
        region: String,
        /// Its member id.
        id: NodeId,
    },
    /// A crypto worker.
    Worker {
        /// Its region.
        region: String,
    },
    /// An operator.
    Admin {
        /// Its region.
        region: String,
    },
}

/// What a call needs of its caller.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// Node `id` of the region (Raft RPCs carry the sender's id).
    Member(NodeId),
    /// Any node of the region.
    AnyNode,
    /// A node or a worker of the region.
    Feed,
    /// An operator of the region (the admin listener only).
    Operator,
}

impl Peer {
    /// Parses one DNS name of a cluster certificate.
    pub fn parse(name: &str) -> Option<Peer> {
        let rest = name.strip_suffix(NAME_SUFFIX)?.strip_suffix('.')?;
        let (first, region) = rest.split_once('.')?;
        if region.is_empty() || region.contains('.') {
            return None;
        }
        let region = region.to_string();
        if first == "admin" {
            return Some(Peer::Admin { region });
        }
        if let Some(id) = first.strip_prefix("node-") {
            let id: NodeId = id.parse().ok().filter(|id| *id != 0)?;
            return Some(Peer::Node { region, id });
        }
        first.strip_prefix("worker-").filter(|w| !w.is_empty()).map(|_| Peer::Worker { region })
    }

    /// The identity of the TLS client that sent `req`: `Ok(None)` on a plaintext server.
    ///
    /// # Errors
    ///
    /// `Unauthenticated` when a TLS client presented no certificate naming a cluster identity.
    pub fn of<T>(req: &Request<T>, tls: bool) -> Result<Option<Peer>, Status> {
        if !tls {
            return Ok(None);
        }
        let certs =
            req.peer_certs().ok_or_else(|| Status::unauthenticated("no client certificate"))?;
        let leaf = certs.first().ok_or_else(|| Status::unauthenticated("no client certificate"))?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
            .map_err(|_| Status::unauthenticated("unreadable client certificate"))?;
        let names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| san.value.general_names.clone())
            .unwrap_or_default();
        names
            .iter()
            .find_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Peer::parse(d),
                _ => None,
            })
            .map(Some)
            .ok_or_else(|| {
                Status::unauthenticated("the client certificate names no cluster member")
            })
    }

    /// Checks that `peer` (from [`Peer::of`]) may make a call needing `need` in `region`;
    /// `None` (a plaintext server) passes.
    ///
    /// # Errors
    ///
    /// `PermissionDenied` naming what was required.
    pub fn require(peer: Option<&Peer>, region: &str, need: Need) -> Result<(), Status> {
        let Some(peer) = peer else { return Ok(()) };
        let same = |r: &str| r == region;
        let ok = match (need, peer) {
            (Need::Member(want), Peer::Node { region: r, id }) => same(r) && *id == want,
            (Need::AnyNode | Need::Feed, Peer::Node { region: r, .. }) => same(r),
            (Need::Feed, Peer::Worker { region: r })
            | (Need::Operator, Peer::Admin { region: r }) => same(r),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Status::permission_denied(format!(
                "{peer:?} may not make this call (needs {need:?} of region {region})"
            )))
        }
    }
}

/// A shared, optional TLS configuration.
pub type SharedTls = Option<Arc<ClusterTls>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_identities() {
        let node = |id| Some(Peer::Node { region: "cn-hangzhou".into(), id });
        assert_eq!(Peer::parse(&node_name("cn-hangzhou", 3)), node(3));
        assert_eq!(
            Peer::parse(&worker_name("cn-hangzhou", "w1")),
            Some(Peer::Worker { region: "cn-hangzhou".into() })
        );
        assert_eq!(
            Peer::parse(&admin_name("cn-hangzhou")),
            Some(Peer::Admin { region: "cn-hangzhou".into() })
        );
        for bad in [
            "cn-hangzhou.yaoshi",
            "node-0.cn-hangzhou.yaoshi",
            "node-x.cn-hangzhou.yaoshi",
            "node-1.a.b.yaoshi",
            "node-1.cn-hangzhou.example",
            "worker-.cn-hangzhou.yaoshi",
            "node-1..yaoshi",
        ] {
            assert_eq!(Peer::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_call_admits_exactly_its_holders() {
        let r = "cn-hangzhou";
        let n1 = Peer::Node { region: r.into(), id: 1 };
        let other = Peer::Node { region: "cn-beijing".into(), id: 1 };
        let w = Peer::Worker { region: r.into() };
        let a = Peer::Admin { region: r.into() };
        let ok = |p: &Peer, need| Peer::require(Some(p), r, need).is_ok();
        assert!(ok(&n1, Need::Member(1)));
        assert!(!ok(&n1, Need::Member(2)));
        assert!(!ok(&other, Need::Member(1)));
        assert!(ok(&n1, Need::AnyNode) && ok(&n1, Need::Feed) && !ok(&n1, Need::Operator));
        assert!(ok(&w, Need::Feed));
        assert!(!ok(&w, Need::AnyNode) && !ok(&w, Need::Member(1)) && !ok(&w, Need::Operator));
        assert!(ok(&a, Need::Operator));
        assert!(!ok(&a, Need::AnyNode) && !ok(&a, Need::Feed) && !ok(&a, Need::Member(1)));
        assert!(!ok(&other, Need::Feed));
        assert!(Peer::require(None, r, Need::Member(1)).is_ok());
    }
}
