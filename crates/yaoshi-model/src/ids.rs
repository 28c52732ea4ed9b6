//! Identifier newtypes.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Wraps an already validated string.
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            /// The string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A customer master key id (a UUID string).
    KeyId
);
string_id!(
    /// A key version id (a UUID string).
    KeyVersionId
);
string_id!(
    /// An AccessKey id of a credential.
    AccessKeyId
);
string_id!(
    /// A region id such as `cn-hangzhou`: one Raft group each.
    RegionId
);

impl RegionId {
    /// Whether `s` is a plausible region id: 1–64 characters of `a-z`, `0-9` and `-`.
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl KeyId {
    /// Whether `s` has the shape of a key id we issue (a hyphenated, lower-case UUID).
    pub fn is_well_formed(s: &str) -> bool {
        s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            })
    }
}
