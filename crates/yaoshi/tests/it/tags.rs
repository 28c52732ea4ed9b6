//! Tags on keys, and the account/region actions.

use serde_json::Value;

use crate::support::{assert_api_error, must_call, must_start_dev};

fn tags_json(range: std::ops::Range<usize>) -> String {
    let items: Vec<Value> = range
        .map(|i| serde_json::json!({"TagKey": format!("k{i:02}"), "TagValue": format!("v{i}")}))
        .collect();
    Value::Array(items).to_string()
}

async fn tag_keys(c: &yaoshi_client::Client, key: &str) -> Vec<(String, String)> {
    let r = must_call(c, "ListResourceTags", &[("KeyId", key)]).await;
    r.body["Tags"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["KeyId"], key);
            (t["TagKey"].as_str().unwrap().to_string(), t["TagValue"].as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_and_account_actions() {
    let (_dir, mut node) = must_start_dev().await;
    let c = node.client();

    // Tags given at creation.
    let r = must_call(&c, "CreateKey", &[("Tags", &tags_json(0..2))]).await;
    let key = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    assert_eq!(
        tag_keys(&c, &key).await,
        vec![("k00".into(), "v0".into()), ("k01".into(), "v1".into())]
    );

    // Up to 10 per key; the 11th is refused and changes nothing.
    must_call(&c, "TagResource", &[("KeyId", &key), ("Tags", &tags_json(2..10))]).await;
    assert_eq!(tag_keys(&c, &key).await.len(), 10);
    assert_api_error(
        &c.call("TagResource", &[("KeyId", &key), ("Tags", &tags_json(10..11))]).await.unwrap(),
        400,
        "Rejected.LimitExceeded",
    );
    assert_eq!(tag_keys(&c, &key).await.len(), 10);
    // Overwriting an existing key is not a new tag.
    must_call(
        &c,
        "TagResource",
        &[("KeyId", &key), ("Tags", r#"[{"TagKey":"k00","TagValue":"changed"}]"#)],
    )
    .await;
    assert_eq!(tag_keys(&c, &key).await[0], ("k00".into(), "changed".into()));
    assert_api_error(
        &c.call("CreateKey", &[("Tags", &tags_json(0..11))]).await.unwrap(),
        400,
        "Rejected.LimitExceeded",
    );

    // Invalid tags.
    let long = format!(r#"[{{"TagKey":"{}","TagValue":"v"}}]"#, "x".repeat(129));
    for bad in [
        r#"[{"TagKey":"","TagValue":"v"}]"#,
        r#"[{"TagKey":"aliyun-x","TagValue":"v"}]"#,
        long.as_str(),
        "not json",
        r#"{"TagKey":"a"}"#,
    ] {
        assert_api_error(
            &c.call("TagResource", &[("KeyId", &key), ("Tags", bad)]).await.unwrap(),
            400,
            "InvalidParameter",
        );
    }

    // Untag, by id and through an alias.
    must_call(&c, "UntagResource", &[("KeyId", &key), ("TagKeys", r#"["k01","k02","absent"]"#)])
        .await;
    assert_eq!(tag_keys(&c, &key).await.len(), 8);
    must_call(&c, "CreateAlias", &[("AliasName", "alias/tagged"), ("KeyId", &key)]).await;
    must_call(&c, "UntagResource", &[("KeyId", "alias/tagged"), ("TagKeys", r#"["k03"]"#)]).await;
    assert_eq!(tag_keys(&c, &key).await.len(), 7);
    assert_api_error(
        &c.call("UntagResource", &[("KeyId", &key), ("TagKeys", "k1")]).await.unwrap(),
        400,
        "InvalidParameter",
    );

    // Resource selection.
    assert_api_error(
        &c.call("TagResource", &[("Tags", &tags_json(0..1))]).await.unwrap(),
        400,
        "MissingParameter",
    );
    assert_api_error(
        &c.call(
            "TagResource",
            &[("KeyId", &key), ("CertificateId", "c"), ("Tags", &tags_json(0..1))],
        )
        .await
        .unwrap(),
        400,
        "InvalidParameter",
    );
    assert_api_error(
        &c.call("TagResource", &[("SecretName", "s"), ("Tags", &tags_json(0..1))]).await.unwrap(),
        404,
        "Forbidden.ResourceNotFound",
    );
    let ghost = "00000000-0000-4000-8000-000000000000";
    assert_api_error(
        &c.call("TagResource", &[("KeyId", ghost), ("Tags", &tags_json(0..1))]).await.unwrap(),
        404,
        "Forbidden.KeyNotFound",
    );

    // State table: PendingDeletion refuses tag changes but lists them.
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &key)]).await;
    assert_api_error(
        &c.call("TagResource", &[("KeyId", &key), ("Tags", &tags_json(0..1))]).await.unwrap(),
        409,
        "Rejected.PendingDeletion",
    );
    assert_api_error(
        &c.call("UntagResource", &[("KeyId", &key), ("TagKeys", r#"["k00"]"#)]).await.unwrap(),
        409,
        "Rejected.PendingDeletion",
    );
    assert_eq!(tag_keys(&c, &key).await.len(), 7);

    // Account and region actions.
    let r = must_call(&c, "DescribeRegions", &[]).await;
    assert_eq!(r.body["Regions"]["Region"][0]["RegionId"], "cn-hangzhou");
    assert_api_error(&c.call("OpenKmsService", &[]).await.unwrap(), 400, "Forbidden.Opened");
    let r = must_call(&c, "DescribeAccountKmsStatus", &[]).await;
    assert_eq!(r.str("AccountStatus"), Some("Enabled"));
    assert!(node.is_running());
}
