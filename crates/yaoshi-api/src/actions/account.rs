//! Account and service actions: DescribeRegions, OpenKmsService, DescribeAccountKmsStatus.

use serde_json::json;
use yaoshi_model::{ApiError, ErrorCode};

use super::Fields;
use super::keys::fields;
use crate::server::ApiState;

/// The regions this cluster serves (one region group per node for now).
pub(super) fn describe_regions(api: &ApiState) -> Fields {
    fields(vec![("Regions", json!({ "Region": [{ "RegionId": api.region() }] }))])
}

/// The service is open for every account with a credential, so opening it again is refused as
/// Alibaba refuses a second OpenKmsService.
pub(super) fn open_kms_service() -> Result<Fields, ApiError> {
    Err(ApiError::new(ErrorCode::ServiceOpened))
}

pub(super) fn describe_account_kms_status() -> Fields {
    fields(vec![("AccountStatus", json!("Enabled"))])
}
