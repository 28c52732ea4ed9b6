//! CreateKeyVersion (asymmetric keys, at most one per 7 days of KMS time) and ListKeyVersions
//! paging over 250 versions, on a node whose KMS time the test advances (`--test-clock`).

use std::collections::BTreeSet;

use crate::paging::walk;
use crate::support::{
    advance_clock, assert_api_error, must_call, must_create_key, must_start_dev_test_clock,
};

const WEEK_MS: i64 = 7 * 86_400 * 1000;

#[tokio::test(flavor = "multi_thread")]
async fn create_key_version_and_list_250_versions() {
    let (_dir, node) = must_start_dev_test_clock().await;
    let c = node.client();
    let r =
        must_call(&c, "CreateKey", &[("KeySpec", "EC_P256"), ("KeyUsage", "SIGN/VERIFY")]).await;
    let meta = r.body["KeyMetadata"].clone();
    let id = meta["KeyId"].as_str().unwrap().to_string();
    let first = meta["PrimaryKeyVersion"].as_str().unwrap().to_string();
    must_call(&c, "CreateAlias", &[("AliasName", "alias/versions"), ("KeyId", &id)]).await;

    // Not within 7 days of the key's creation.
    let r = c.call("CreateKeyVersion", &[("KeyId", &id)]).await.unwrap();
    assert_api_error(&r, 400, "Rejected.LimitExceeded");
    advance_clock(&node, WEEK_MS - 60_000).await;
    let r = c.call("CreateKeyVersion", &[("KeyId", &id)]).await.unwrap();
    assert_api_error(&r, 400, "Rejected.LimitExceeded");
    advance_clock(&node, 60_000).await;

    // Seven days later: a new primary version, through the alias.
    let r = must_call(&c, "CreateKeyVersion", &[("KeyId", "alias/versions")]).await;
    let v = &r.body["KeyVersion"];
    assert_eq!(v["KeyId"], id.as_str());
    let second = v["KeyVersionId"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    let m = &d.body["KeyMetadata"];
    assert_eq!(m["PrimaryKeyVersion"], second.as_str());
    assert_eq!(m["LastRotationDate"], v["CreationDate"]);
    assert!(m["LastRotationDate"].as_str().unwrap() > m["CreationDate"].as_str().unwrap());
    let dv =
        must_call(&c, "DescribeKeyVersion", &[("KeyId", &id), ("KeyVersionId", &second)]).await;
    assert_eq!(dv.body["KeyVersion"], *v);
    let r = c.call("CreateKeyVersion", &[("KeyId", &id)]).await.unwrap();
    assert_api_error(&r, 400, "Rejected.LimitExceeded");

    // Symmetric keys have no CreateKeyVersion; the key must be Enabled; unknown keys are 404.
    let aes = must_create_key(&c).await;
    let r = c.call("CreateKeyVersion", &[("KeyId", &aes)]).await.unwrap();
    assert_api_error(&r, 400, "Unsupported.Operation");
    let rsa =
        must_call(&c, "CreateKey", &[("KeySpec", "RSA_2048"), ("KeyUsage", "SIGN/VERIFY")]).await;
    let rsa = rsa.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    advance_clock(&node, WEEK_MS).await;
    must_call(&c, "DisableKey", &[("KeyId", &rsa)]).await;
    let r = c.call("CreateKeyVersion", &[("KeyId", &rsa)]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.Disabled");
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &rsa)]).await;
    let r = c.call("CreateKeyVersion", &[("KeyId", &rsa)]).await.unwrap();
    assert_api_error(&r, 409, "Rejected.PendingDeletion");
    let r = c.call("CreateKeyVersion", &[("KeyId", "00000000-0000-4000-8000-000000000000")]);
    assert_api_error(&r.await.unwrap(), 404, "Forbidden.KeyNotFound");
    let r = c.call("CreateKeyVersion", &[]).await.unwrap();
    assert_api_error(&r, 400, "MissingParameter");

    // 250 versions in all; every page walk sees each exactly once, in creation order.
    let mut created = vec![first, second];
    while created.len() < 250 {
        advance_clock(&node, WEEK_MS).await;
        let r = must_call(&c, "CreateKeyVersion", &[("KeyId", &id)]).await;
        created.push(r.body["KeyVersion"]["KeyVersionId"].as_str().unwrap().to_string());
    }
    let fields = ("KeyVersions", "KeyVersion", "KeyVersionId");
    for size in ["100", "7"] {
        let seen = walk(&c, "ListKeyVersions", &[("KeyId", &id)], fields, size).await;
        assert_eq!(seen.len(), 250, "page size {size}");
        assert_eq!(
            seen.iter().collect::<BTreeSet<_>>(),
            created.iter().collect::<BTreeSet<_>>(),
            "page size {size}"
        );
    }
    let dates = walk(
        &c,
        "ListKeyVersions",
        &[("KeyId", &id)],
        ("KeyVersions", "KeyVersion", "CreationDate"),
        "100",
    )
    .await;
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "versions not in creation order");
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    assert_eq!(d.body["KeyMetadata"]["PrimaryKeyVersion"], created[249].as_str());
}
