//! HTTP-level helpers of the KMS API shared by the tests and the benches.

use anyhow::Context;
use yaoshi_client::{Client, Response};

/// The `KeyMetadata.KeyId` of a CreateKey (or DescribeKey) response.
pub fn key_id(r: &Response) -> Option<String> {
    r.body["KeyMetadata"]["KeyId"].as_str().map(str::to_string)
}

/// CreateKey with `params`; returns the new key's id.
///
/// # Errors
///
/// A transport error, an answer other than 200, a success body carrying `Code` or without
/// `RequestId`, or no `KeyMetadata.KeyId`.
pub async fn create_key(client: &Client, params: &[(&str, &str)]) -> anyhow::Result<String> {
    let r = client
        .call("CreateKey", params)
        .await
        .with_context(|| format!("CreateKey on {}", client.endpoint()))?;
    anyhow::ensure!(r.status == 200, "CreateKey: HTTP {} {:?}", r.status, r.body);
    anyhow::ensure!(r.body.get("Code").is_none(), "success body carries Code: {:?}", r.body);
    anyhow::ensure!(r.str("RequestId").is_some(), "CreateKey: no RequestId in {:?}", r.body);
    key_id(&r).with_context(|| format!("CreateKey: no KeyMetadata.KeyId in {:?}", r.body))
}
