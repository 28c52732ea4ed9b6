//! The other regions of a deployment (DESIGN.md §3 "Regions and the cluster"): each is its own
//! Raft group with its own state and domain key, reached over HTTP at its nodes' API endpoints.
//!
//! A request names its region with `RegionId` or, failing that, a `kms.<region>.` /
//! `kms-vpc.<region>.` Host (as the SDKs build endpoints). A node forwards a request for another
//! configured region to that region unchanged (its signature covers the request as sent, so the
//! other region authenticates it against its own credentials and nonces) and relays the answer;
//! when no endpoint of that region answers, the client gets `ServiceUnavailableTemporary` (503).
//! A `RegionId` no region of the deployment serves is `InvalidParameter`; a Host naming an
//! unknown region is ignored (the request is this node's). A forwarded request is marked
//! ([`FORWARDED_HEADER`]) and never forwarded a second time.

use axum::http::HeaderMap;
use axum::http::header::HOST;
use yaoshi_model::RegionId;

use crate::params::Params;

/// Marks a request one region forwarded to another (not signed by clients, and not needed to be:
/// it only stops a second cross-region hop). Its presence on a request that names yet another
/// region means the regions are configured in a cycle; the request is refused with
/// `ServiceUnavailableTemporary` instead of bouncing.
pub(crate) const FORWARDED_HEADER: &str = "x-yaoshi-forwarded-region";

/// Another region of the deployment and the HTTP API endpoints of its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRegion {
    /// Its region id (e.g. `cn-shanghai`).
    pub region: RegionId,
    /// Its nodes' API endpoints, tried in order: `host:port` (plain HTTP) or an `http://` /
    /// `https://` URL without a path.
    pub endpoints: Vec<String>,
}

impl PeerRegion {
    /// The base URLs of its endpoints (`http://` added where no scheme is given).
    pub(crate) fn base_urls(&self) -> impl Iterator<Item = String> + '_ {
        self.endpoints.iter().map(|e| {
            let e = e.trim_end_matches('/');
            if e.starts_with("http://") || e.starts_with("https://") {
                e.to_string()
            } else {
                format!("http://{e}")
            }
        })
    }
}

/// Where a request goes, by the region it names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Destination<'a> {
    /// This node's region (or no region named).
    Here,
    /// A configured other region.
    Peer(&'a PeerRegion),
    /// A `RegionId` no configured region serves (a node answers `InvalidParameter`; a worker,
    /// which knows no peers, hands it to its node).
    Unknown,
}

/// The region a Host header names: `kms.<region>.…` or `kms-vpc.<region>.…`.
fn host_region(headers: &HeaderMap) -> Option<&str> {
    let host = headers.get(HOST)?.to_str().ok()?;
    let mut labels = host.split('.');
    match labels.next()? {
        "kms" | "kms-vpc" => {}
        _ => return None,
    }
    let region = labels.next()?;
    labels.next()?;
    Some(region)
}

/// Where the request with these parameters and headers goes, for a node of `own` that knows
/// `peers`.
pub(crate) fn destination<'a>(
    own: &str,
    peers: &'a [PeerRegion],
    params: &Params,
    headers: &HeaderMap,
) -> Destination<'a> {
    let peer = |region: &str| peers.iter().find(|p| p.region.as_str() == region);
    match params.optional("RegionId") {
        Some(region) if region == own => Destination::Here,
        Some(region) => peer(region).map_or(Destination::Unknown, Destination::Peer),
        None => match host_region(headers).and_then(peer) {
            Some(p) if p.region.as_str() != own => Destination::Peer(p),
            _ => Destination::Here,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn region_id_then_host_decide() {
        let peers = vec![PeerRegion {
            region: RegionId::new("cn-shanghai"),
            endpoints: vec!["127.0.0.1:8281".into()],
        }];
        let shanghai = Destination::Peer(&peers[0]);
        let p = |q: &str| Params::parse(Some(q), None);
        let local = headers("127.0.0.1:8081");
        let d = |q: &str, h: &HeaderMap| destination("cn-hangzhou", &peers, &p(q), h);
        assert_eq!(d("", &local), Destination::Here);
        assert_eq!(d("RegionId=cn-hangzhou", &local), Destination::Here);
        assert_eq!(d("RegionId=cn-shanghai", &local), shanghai);
        assert_eq!(d("RegionId=cn-beijing", &local), Destination::Unknown);
        // The Host counts only without a RegionId, and only for a configured region.
        assert_eq!(d("", &headers("kms.cn-shanghai.aliyuncs.com")), shanghai);
        assert_eq!(d("", &headers("kms-vpc.cn-shanghai.aliyuncs.com")), shanghai);
        assert_eq!(d("", &headers("kms.cn-beijing.aliyuncs.com")), Destination::Here);
        assert_eq!(d("", &headers("kms.cn-shanghai")), Destination::Here);
        assert_eq!(d("", &headers("kms.cn-shanghai:8080")), Destination::Here);
        assert_eq!(d("RegionId=cn-hangzhou", &headers("kms.cn-shanghai.x")), Destination::Here);
        assert_eq!(d("", &headers("kms.cn-hangzhou.aliyuncs.com")), Destination::Here);
        let urls: Vec<_> = PeerRegion {
            region: RegionId::new("r"),
            endpoints: vec!["a:1".into(), "https://b:2/".into()],
        }
        .base_urls()
        .collect();
        assert_eq!(urls, ["http://a:1", "https://b:2"]);
    }
}
