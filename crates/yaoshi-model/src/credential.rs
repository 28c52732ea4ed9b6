//! API credentials (AccessKey pairs), replicated with their secrets wrapped under the domain key,
//! and the access points whose policies scope them.

use crate::ids::AccessKeyId;
use serde::{Deserialize, Serialize};

/// The bootstrap credential as the first release proposed and stored it: the payload of
/// `Command::BootstrapCredential` (persisted in Raft logs, so its layout never changes) and the
/// form of credential rows written before rotation and access points existed. It reads as an
/// active, unscoped [`Credential`] ([`CredentialV1::upgrade`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialV1 {
    /// The AccessKey id.
    pub access_key_id: AccessKeyId,
    /// The AccessKey secret, wrapped under the domain key with AAD [`Credential::wrap_aad`].
    pub wrapped_secret: Vec<u8>,
    /// The account the credential belongs to (used in ARNs and as Creator).
    pub account_id: String,
    /// Creation time, Unix milliseconds.
    pub creation_ms: i64,
}

impl CredentialV1 {
    /// The same credential in the current form: unscoped, no retiring secret.
    pub fn upgrade(self) -> Credential {
        Credential {
            access_key_id: self.access_key_id,
            wrapped_secret: self.wrapped_secret,
            account_id: self.account_id,
            creation_ms: self.creation_ms,
            retiring: None,
            access_point: None,
            description: String::new(),
        }
    }
}

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The AccessKey id.
    pub access_key_id: AccessKeyId,
    /// The current AccessKey secret, wrapped under the domain key with AAD
    /// [`Credential::wrap_aad`].
    pub wrapped_secret: Vec<u8>,
    /// The account the credential belongs to (used in ARNs and as Creator).
    pub account_id: String,
    /// Creation time, Unix milliseconds.
    pub creation_ms: i64,
    /// The secret the last rotation replaced, still accepted until its time.
    pub retiring: Option<RetiringSecret>,
    /// The access point whose policies scope this credential; `None`: unscoped, may do every
    /// action on every resource (the bootstrap credential, the region's admin).
    pub access_point: Option<String>,
    /// The operator's description.
    pub description: String,
}

/// A rotated-out secret during its grace period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiringSecret {
    /// The old secret, wrapped like [`Credential::wrapped_secret`].
    pub wrapped_secret: Vec<u8>,
    /// It is accepted while KMS time is before this, Unix milliseconds.
    pub until_ms: i64,
}

impl Credential {
    /// The associated data binding a wrapped secret to its AccessKey id.
    pub fn wrap_aad(access_key_id: &AccessKeyId) -> Vec<u8> {
        format!("yaoshi-credential:{access_key_id}").into_bytes()
    }

    /// The wrapped secrets a signature may be made with at `now_ms`: the current one, then the
    /// retiring one while its grace period lasts.
    pub fn valid_secrets(&self, now_ms: i64) -> impl Iterator<Item = &[u8]> {
        let retiring = self.retiring.as_ref().filter(|r| now_ms < r.until_ms);
        std::iter::once(self.wrapped_secret.as_slice())
            .chain(retiring.map(|r| r.wrapped_secret.as_slice()))
    }
}

/// An access point: a named set of policies that the credentials attached to it are held to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPoint {
    /// Its name ([`crate::policy::valid_name`]), unique per region.
    pub name: String,
    /// The operator's description.
    pub description: String,
    /// Its policies: a request is allowed when one of them allows it (none: nothing is).
    pub policies: Vec<crate::policy::Policy>,
}
