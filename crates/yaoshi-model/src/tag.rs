//! Tags on resources (keys now; secrets and certificates reuse the same form).

use serde::{Deserialize, Serialize};

use crate::ids::KeyId;

/// At most this many tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 10;

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// 1–128 bytes, not starting with a reserved prefix.
    pub key: String,
    /// 0–256 bytes.
    pub value: String,
}

impl Tag {
    /// Whether `key` is a valid tag key: 1–128 bytes, not starting with `aliyun` or `acs:`.
    pub fn is_valid_key(key: &str) -> bool {
        (1..=128).contains(&key.len()) && !key.starts_with("aliyun") && !key.starts_with("acs:")
    }

    /// Whether `value` is a valid tag value: at most 256 bytes.
    pub fn is_valid_value(value: &str) -> bool {
        value.len() <= 256
    }
}

/// A taggable resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceRef {
    /// A key.
    Key(KeyId),
    /// A secret, by name.
    Secret(String),
    /// A certificate, by id.
    Certificate(String),
}

impl ResourceRef {
    /// The storage prefix of this resource's tags (`<kind>\0<id>\0`).
    pub fn tag_prefix(&self) -> Vec<u8> {
        let (kind, id) = match self {
            ResourceRef::Key(k) => ("key", k.as_str()),
            ResourceRef::Secret(name) => ("secret", name.as_str()),
            ResourceRef::Certificate(id) => ("certificate", id.as_str()),
        };
        let mut p = Vec::with_capacity(kind.len() + id.len() + 2);
        p.extend_from_slice(kind.as_bytes());
        p.push(0);
        p.extend_from_slice(id.as_bytes());
        p.push(0);
        p
    }
}
