//! GenerateRandom (our addition, docs/API.md; CTyun "生成随机数"): `NumberOfBytes` (1–1024) bytes
//! from the OS random number generator, base64 in `Random`. Nothing is stored or logged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use yaoshi_crypto::random_bytes;
use yaoshi_model::ApiError;

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, fields};

/// `NumberOfBytes` bounds.
const MIN_BYTES: i64 = 1;
const MAX_BYTES: i64 = 1024;

pub(super) async fn generate_random(
    _api: &ApiState,
    _ctx: &RequestContext,
    p: &Params,
) -> Result<Fields, ApiError> {
    // Required (the table checks presence), so the default is never used.
    let n = p.int_in("NumberOfBytes", MIN_BYTES, MAX_BYTES, MIN_BYTES)?;
    let bytes = random_bytes(usize::try_from(n).map_err(|_| ApiError::invalid("NumberOfBytes"))?);
    Ok(fields(vec![("Random", Value::String(B64.encode(&*bytes)))]))
}
