//! Account and service actions: DescribeRegions, OpenKmsService, DescribeAccountKmsStatus.

use serde_json::json;
use yaoshi_model::{ApiError, ErrorCode};

use crate::context::RequestContext;
use crate::params::Params;
use crate::state::ApiState;
use crate::support::{Fields, fields};

/// The regions of the deployment: this node's, then the other regions it is configured with
/// (a worker knows only its own).
pub(super) async fn describe_regions(
    api: &ApiState,
    _ctx: &RequestContext,
    _p: &Params,
) -> Result<Fields, ApiError> {
    let regions: Vec<_> = std::iter::once(api.region())
        .chain(api.peer_regions().iter().map(|p| p.region.as_str()))
        .map(|r| json!({ "RegionId": r }))
        .collect();
    Ok(fields(vec![("Regions", json!({ "Region": regions }))]))
}

/// The service is open for every account with a credential, so opening it again is refused as
/// Alibaba refuses a second OpenKmsService.
pub(super) async fn open_kms_service(
    _api: &ApiState,
    _ctx: &RequestContext,
    _p: &Params,
) -> Result<Fields, ApiError> {
    Err(ApiError::new(ErrorCode::ServiceOpened))
}

pub(super) async fn describe_account_kms_status(
    _api: &ApiState,
    _ctx: &RequestContext,
    _p: &Params,
) -> Result<Fields, ApiError> {
    Ok(fields(vec![("AccountStatus", json!("Enabled"))]))
}
