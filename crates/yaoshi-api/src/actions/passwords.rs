//! GetRandomPassword: a random password from the character classes the request keeps.
//!
//! The classes are lowercase and uppercase ASCII letters, digits and ASCII punctuation
//! (`!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`). `Exclude<Class>=true` drops a class, `ExcludeCharacters`
//! drops single characters, and `RequireEachIncludedType=true` puts at least one character of every
//! class that is left. Each character is drawn uniformly (rejection sampling over OS random bytes),
//! so a password of length n from an alphabet of size a carries n·log2(a) bits.

use serde_json::Value;
use yaoshi_crypto::{PASSWORD_CLASSES, random_password};
use yaoshi_model::ApiError;

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, fields};

/// `PasswordLength` bounds and default.
const MIN_LENGTH: i64 = 8;
const MAX_LENGTH: i64 = 128;
const DEFAULT_LENGTH: i64 = 32;

pub(super) async fn get_random_password(
    _api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    let length = p.int_in("PasswordLength", MIN_LENGTH, MAX_LENGTH, DEFAULT_LENGTH)?;
    let excluded = p.get("ExcludeCharacters").unwrap_or_default();
    let mut classes = Vec::new();
    for (param, chars) in PASSWORD_CLASSES {
        if !p.bool_or(param, false)? {
            let kept: Vec<u8> =
                chars.bytes().filter(|c| !excluded.contains(char::from(*c))).collect();
            if !kept.is_empty() {
                classes.push(kept);
            }
        }
    }
    if classes.is_empty() {
        // Every character is excluded: nothing to draw from.
        return Err(ApiError::invalid("ExcludeCharacters"));
    }
    let require_each = p.bool_or("RequireEachIncludedType", false)?;
    let length = usize::try_from(length).unwrap_or(DEFAULT_LENGTH as usize);
    let password = random_password(&classes, length, require_each);
    let text = String::from_utf8_lossy(&password).into_owned();
    Ok(fields(vec![("RandomPassword", Value::String(text))]))
}
