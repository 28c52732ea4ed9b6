//! API credentials (AccessKey pairs), replicated with their secret wrapped under the domain key.

use crate::ids::AccessKeyId;
use serde::{Deserialize, Serialize};

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The AccessKey id.
    pub access_key_id: AccessKeyId,
    /// The AccessKey secret, wrapped under the domain key with AAD [`Credential::wrap_aad`].
    pub wrapped_secret: Vec<u8>,
    /// The account the credential belongs to (used in ARNs and as Creator).
    pub account_id: String,
    /// Creation time, Unix milliseconds.
    pub creation_ms: i64,
}

impl Credential {
    /// The associated data binding a wrapped secret to its AccessKey id.
    pub fn wrap_aad(access_key_id: &AccessKeyId) -> Vec<u8> {
        format!("yaoshi-credential:{access_key_id}").into_bytes()
    }
}
