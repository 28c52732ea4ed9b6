//! Credentials and access points (proto/access.proto): the operator's service on the admin
//! listener, and [`AccessClient`], what `yaoshi credential` and `yaoshi access-point` use.
//!
//! The node answering a change generates what is secret (AccessKey ids and secrets from the OS
//! random number generator), wraps the secret under the region's domain key and proposes the
//! command; only the reply carries the secret in clear, once. Changes are signed by the operator
//! principal [`OPERATOR`] with a fresh nonce, so a retried proposal applies once.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use yaoshi_crypto::{DomainKey, KeyMaterial};
use yaoshi_model::policy::Policy;
use yaoshi_model::{
    AccessKeyId, AccessPoint, ApiError, Command, CommandEnvelope, CommandMeta, Credential,
};

use crate::node::{Clock, RegionNode};
use crate::pb::access::access_admin_client::AccessAdminClient;
use crate::pb::access::access_admin_server::{AccessAdmin, AccessAdminServer};
use crate::pb::access::{
    AccessPointInfo, AccessPointList, CreateCredentialRequest, CredentialInfo, CredentialList,
    CredentialRequest, Done, ListRequest, NameRequest, PutAccessPointRequest,
    RotateCredentialRequest, ScopeRequest, SecretReply,
};
use crate::tls::{ClusterTls, Need, Peer};

/// The principal the audit trail records for the operator's changes.
pub const OPERATOR: &str = "operator";

/// The longest grace period of a rotation (as apply enforces it).
pub const MAX_GRACE_SECONDS: u64 = 30 * 86_400;

/// The access administration service of one node.
pub struct AccessGrpc {
    node: Arc<RegionNode>,
    domain_key: DomainKey,
    account_id: String,
    clock: Clock,
}

impl std::fmt::Debug for AccessGrpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessGrpc").field("region", &self.node.region).finish()
    }
}

fn hex(n: usize) -> String {
    yaoshi_crypto::random_bytes(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh AccessKey pair from the OS generator: id `LTAI` + 20 hex digits, secret 30 hex digits.
pub fn generate_access_key() -> (AccessKeyId, zeroize::Zeroizing<String>) {
    (AccessKeyId::new(format!("LTAI{}", hex(10))), zeroize::Zeroizing::new(hex(15)))
}

/// `secret` wrapped under `domain_key` with the AAD binding it to `id`
/// ([`Credential::wrap_aad`]): the only form in which a secret is stored.
pub fn wrap_secret(domain_key: &DomainKey, id: &AccessKeyId, secret: &str) -> Vec<u8> {
    domain_key.wrap(&Credential::wrap_aad(id), &KeyMaterial::from_bytes(secret.as_bytes()))
}

fn rejected(e: &ApiError) -> Status {
    Status::failed_precondition(format!("{}: {}", e.code.as_str(), e.message))
}

fn info(c: &Credential) -> CredentialInfo {
    CredentialInfo {
        access_key_id: c.access_key_id.to_string(),
        account_id: c.account_id.clone(),
        creation_ms: c.creation_ms,
        access_point: c.access_point.clone().unwrap_or_default(),
        description: c.description.clone(),
        retiring_until_ms: c.retiring.as_ref().map_or(0, |r| r.until_ms),
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl AccessGrpc {
    /// The service of the admin listener: the region's operator certificate only. Credentials it
    /// creates belong to `account_id`; `clock` is KMS time.
    pub fn operator(
        node: Arc<RegionNode>,
        domain_key: DomainKey,
        account_id: String,
        clock: Clock,
    ) -> AccessAdminServer<AccessGrpc> {
        AccessAdminServer::new(AccessGrpc { node, domain_key, account_id, clock })
    }

    fn admit<T>(&self, req: &Request<T>, region: &str) -> Result<(), Status> {
        let peer = Peer::of(req, self.node.tls.is_some())?;
        Peer::require(peer.as_ref(), self.node.region.as_str(), Need::Operator)?;
        if region != self.node.region.as_str() {
            return Err(Status::invalid_argument(format!(
                "this node serves region {}, not {region}",
                self.node.region
            )));
        }
        Ok(())
    }

    /// Proposes `command` as the operator and waits for its outcome.
    async fn propose(&self, command: Command) -> Result<(), Status> {
        let name = command.name();
        let env = CommandEnvelope {
            meta: CommandMeta {
                request_id: hex(16),
                principal: Some(AccessKeyId::new(OPERATOR)),
                nonce: Some(hex(16)),
                at_ms: (self.clock)(),
            },
            command,
        };
        match self.node.write(env).await {
            Ok(Ok(_)) => {
                tracing::info!(command = name, "access change applied");
                Ok(())
            }
            Ok(Err(e)) => Err(rejected(&e)),
            Err(e) => Err(Status::unavailable(e.to_string())),
        }
    }

    fn wrap(&self, id: &AccessKeyId, secret: &str) -> Vec<u8> {
        wrap_secret(&self.domain_key, id, secret)
    }

    async fn credential(&self, id: &str) -> Result<Credential, Status> {
        self.node.read_barrier().await.map_err(|e| Status::unavailable(e.to_string()))?;
        self.node
            .state
            .credential(id)
            .map_err(|e| Status::internal(e.to_string()))?
            .ok_or_else(|| Status::not_found(format!("no credential {id}")))
    }
}

#[tonic::async_trait]
impl AccessAdmin for AccessGrpc {
    async fn create_credential(
        &self,
        req: Request<CreateCredentialRequest>,
    ) -> Result<Response<SecretReply>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let req = req.into_inner();
        let (id, secret) = generate_access_key();
        let credential = Credential {
            access_key_id: id.clone(),
            wrapped_secret: self.wrap(&id, &secret),
            account_id: self.account_id.clone(),
            creation_ms: (self.clock)(),
            retiring: None,
            access_point: non_empty(&req.access_point),
            description: req.description,
        };
        let shown = info(&credential);
        self.propose(Command::CreateCredential { credential }).await?;
        Ok(Response::new(SecretReply {
            credential: Some(shown),
            access_key_secret: secret.to_string(),
        }))
    }

    async fn list_credentials(
        &self,
        req: Request<ListRequest>,
    ) -> Result<Response<CredentialList>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        self.node.read_barrier().await.map_err(|e| Status::unavailable(e.to_string()))?;
        let all = self.node.state.credentials().map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(CredentialList { credentials: all.iter().map(info).collect() }))
    }

    async fn rotate_credential(
        &self,
        req: Request<RotateCredentialRequest>,
    ) -> Result<Response<SecretReply>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let req = req.into_inner();
        if req.grace_seconds > MAX_GRACE_SECONDS {
            return Err(Status::invalid_argument(format!(
                "the grace period is at most {MAX_GRACE_SECONDS} seconds"
            )));
        }
        let id = AccessKeyId::new(req.access_key_id);
        let (_, secret) = generate_access_key();
        let grace_ms = i64::try_from(req.grace_seconds * 1000).unwrap_or(i64::MAX);
        let command = Command::RotateCredential {
            access_key_id: id.clone(),
            wrapped_secret: self.wrap(&id, &secret),
            grace_ms,
        };
        self.propose(command).await?;
        let credential = self.credential(id.as_str()).await?;
        Ok(Response::new(SecretReply {
            credential: Some(info(&credential)),
            access_key_secret: secret.to_string(),
        }))
    }

    async fn revoke_credential(
        &self,
        req: Request<CredentialRequest>,
    ) -> Result<Response<Done>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let id = AccessKeyId::new(req.into_inner().access_key_id);
        self.propose(Command::RevokeCredential { access_key_id: id }).await?;
        Ok(Response::new(Done {}))
    }

    async fn scope_credential(&self, req: Request<ScopeRequest>) -> Result<Response<Done>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let req = req.into_inner();
        let command = Command::SetCredentialAccessPoint {
            access_key_id: AccessKeyId::new(req.access_key_id),
            access_point: non_empty(&req.access_point),
        };
        self.propose(command).await?;
        Ok(Response::new(Done {}))
    }

    async fn put_access_point(
        &self,
        req: Request<PutAccessPointRequest>,
    ) -> Result<Response<Done>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let info = req.into_inner().access_point.unwrap_or_default();
        let access_point = parse_access_point(info).map_err(Status::invalid_argument)?;
        self.propose(Command::PutAccessPoint { access_point }).await?;
        Ok(Response::new(Done {}))
    }

    async fn list_access_points(
        &self,
        req: Request<ListRequest>,
    ) -> Result<Response<AccessPointList>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        self.node.read_barrier().await.map_err(|e| Status::unavailable(e.to_string()))?;
        let all = self.node.state.access_points().map_err(|e| Status::internal(e.to_string()))?;
        let access_points = all
            .into_iter()
            .map(|a| AccessPointInfo {
                policies_json: serde_json::to_string(&a.policies).unwrap_or_default(),
                name: a.name,
                description: a.description,
            })
            .collect();
        Ok(Response::new(AccessPointList { access_points }))
    }

    async fn delete_access_point(
        &self,
        req: Request<NameRequest>,
    ) -> Result<Response<Done>, Status> {
        self.admit(&req, &req.get_ref().region)?;
        let name = req.into_inner().name;
        self.propose(Command::DeleteAccessPoint { name }).await?;
        Ok(Response::new(Done {}))
    }
}

/// An access point from its wire form: a valid name, policies that parse and validate, unique
/// policy names, at most [`yaoshi_model::policy::MAX_POLICIES`].
///
/// # Errors
///
/// Describes the first problem.
pub fn parse_access_point(info: AccessPointInfo) -> Result<AccessPoint, String> {
    if !yaoshi_model::policy::valid_name(&info.name) {
        return Err("the access point name must be 1-64 of A-Z a-z 0-9 _ . -".into());
    }
    let policies: Vec<Policy> = serde_json::from_str(&info.policies_json)
        .map_err(|e| format!("policies are not a JSON list of policies: {e}"))?;
    if policies.len() > yaoshi_model::policy::MAX_POLICIES {
        return Err(format!("at most {} policies", yaoshi_model::policy::MAX_POLICIES));
    }
    let mut names = std::collections::BTreeSet::new();
    for p in &policies {
        p.validate().map_err(|e| e.to_string())?;
        if !names.insert(p.name.as_str()) {
            return Err(format!("policy name {:?} appears twice", p.name));
        }
    }
    Ok(AccessPoint { name: info.name, description: info.description, policies })
}

/// A client of one node's access administration.
#[derive(Debug, Clone)]
pub struct AccessClient {
    inner: AccessAdminClient<Channel>,
    region: String,
}

impl AccessClient {
    /// Connects to a node's admin listener (`host:port`) for `region`; with `tls`, presenting the
    /// operator certificate and requiring a node of `region`.
    ///
    /// # Errors
    ///
    /// When the address is bad or the node cannot be reached.
    pub async fn connect(
        addr: &str,
        tls: Option<&ClusterTls>,
        region: &str,
    ) -> Result<AccessClient, Status> {
        let endpoint = crate::tls::endpoint(addr, tls, &crate::tls::region_name(region))
            .map_err(|e| Status::invalid_argument(format!("bad address {addr}: {e}")))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(30));
        let channel = endpoint.connect().await.map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(AccessClient { inner: AccessAdminClient::new(channel), region: region.to_string() })
    }

    /// Creates a credential, scoped to `access_point` when given; returns it and its secret.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn create(
        &mut self,
        access_point: Option<&str>,
        description: &str,
    ) -> Result<SecretReply, Status> {
        let req = CreateCredentialRequest {
            region: self.region.clone(),
            access_point: access_point.unwrap_or_default().to_string(),
            description: description.to_string(),
        };
        Ok(self.inner.create_credential(req).await?.into_inner())
    }

    /// Every credential (no secrets).
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn list(&mut self) -> Result<Vec<CredentialInfo>, Status> {
        let req = ListRequest { region: self.region.clone() };
        Ok(self.inner.list_credentials(req).await?.into_inner().credentials)
    }

    /// Gives a credential a new secret; the old one works `grace_seconds` longer.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn rotate(&mut self, id: &str, grace_seconds: u64) -> Result<SecretReply, Status> {
        let req = RotateCredentialRequest {
            region: self.region.clone(),
            access_key_id: id.to_string(),
            grace_seconds,
        };
        Ok(self.inner.rotate_credential(req).await?.into_inner())
    }

    /// Revokes a credential.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn revoke(&mut self, id: &str) -> Result<(), Status> {
        let req = CredentialRequest { region: self.region.clone(), access_key_id: id.to_string() };
        self.inner.revoke_credential(req).await.map(|_| ())
    }

    /// Holds a credential to an access point (`None`: unscoped).
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn scope(&mut self, id: &str, access_point: Option<&str>) -> Result<(), Status> {
        let req = ScopeRequest {
            region: self.region.clone(),
            access_key_id: id.to_string(),
            access_point: access_point.unwrap_or_default().to_string(),
        };
        self.inner.scope_credential(req).await.map(|_| ())
    }

    /// Creates or replaces an access point; `policies_json` is a JSON list of policies.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn put_access_point(
        &mut self,
        name: &str,
        description: &str,
        policies_json: &str,
    ) -> Result<(), Status> {
        let access_point = AccessPointInfo {
            name: name.to_string(),
            description: description.to_string(),
            policies_json: policies_json.to_string(),
        };
        let req =
            PutAccessPointRequest { region: self.region.clone(), access_point: Some(access_point) };
        self.inner.put_access_point(req).await.map(|_| ())
    }

    /// Every access point.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn access_points(&mut self) -> Result<Vec<AccessPointInfo>, Status> {
        let req = ListRequest { region: self.region.clone() };
        Ok(self.inner.list_access_points(req).await?.into_inner().access_points)
    }

    /// Deletes an access point no credential is held to.
    ///
    /// # Errors
    ///
    /// The node's refusal.
    pub async fn delete_access_point(&mut self, name: &str) -> Result<(), Status> {
        let req = NameRequest { region: self.region.clone(), name: name.to_string() };
        self.inner.delete_access_point(req).await.map(|_| ())
    }
}
