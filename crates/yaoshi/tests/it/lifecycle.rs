//! Key lifecycle actions and the key-state table (docs/DESIGN.md §2) for every implemented action
//! in every reachable state.

use yaoshi_client::Client;

use crate::support::{must_call, must_create_key, must_start_dev};

#[derive(Clone, Copy, Debug)]
enum State {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

const STATES: [State; 4] =
    [State::Enabled, State::Disabled, State::PendingDeletion, State::PendingImport];

/// A blob naming `key_id` (a syntactically valid blob with junk crypto), for Decrypt on a key
/// that has never encrypted anything: the state check comes before any cryptography.
fn blob_naming(key_id: &str) -> String {
    use base64::Engine;
    let version = "01a20000-0000-7000-8000-000000000000";
    let mut b = vec![1u8, key_id.len() as u8];
    b.extend_from_slice(key_id.as_bytes());
    b.push(version.len() as u8);
    b.extend_from_slice(version.as_bytes());
    b.extend_from_slice(&[7u8; 32 + 12 + 4 + 16]);
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A fresh key in `state`, with an alias `alias/st-<id>` and a tag made while it was Enabled (or
/// PendingImport), and a blob to Decrypt.
async fn key_in(c: &Client, state: State) -> (String, String) {
    let origin = if matches!(state, State::PendingImport) { "EXTERNAL" } else { "Aliyun_KMS" };
    let r = must_call(c, "CreateKey", &[("Origin", origin)]).await;
    let id = r.body["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    must_call(c, "CreateAlias", &[("KeyId", &id), ("AliasName", &format!("alias/st-{id}"))]).await;
    must_call(c, "TagResource", &[("KeyId", &id), ("Tags", r#"[{"TagKey":"k","TagValue":"v"}]"#)])
        .await;
    let blob = match state {
        State::PendingImport => blob_naming(&id),
        _ => {
            let r = must_call(c, "Encrypt", &[("KeyId", &id), ("Plaintext", "aGVsbG8=")]).await;
            r.str("CiphertextBlob").unwrap().to_string()
        }
    };
    match state {
        State::Enabled | State::PendingImport => {}
        State::Disabled => {
            must_call(c, "DisableKey", &[("KeyId", &id)]).await;
        }
        State::PendingDeletion => {
            must_call(c, "ScheduleKeyDeletion", &[("KeyId", &id), ("PendingWindowInDays", "7")])
                .await;
        }
    }
    (id, blob)
}

/// The key-state table (docs/DESIGN.md §2): every key-management action of this issue in every
/// key state, through real HTTP. `None` = success.
#[tokio::test(flavor = "multi_thread")]
async fn state_table() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let other = must_create_key(&c).await;
    // A public key to export data keys to (ExportDataKey, GenerateAndExportDataKey).
    let r = must_call(&c, "CreateKey", &[("KeySpec", "RSA_2048")]).await;
    let (wk, wv) = (
        r.body["KeyMetadata"]["KeyId"].clone(),
        r.body["KeyMetadata"]["PrimaryKeyVersion"].clone(),
    );
    let r = must_call(
        &c,
        "GetPublicKey",
        &[("KeyId", wk.as_str().unwrap()), ("KeyVersionId", wv.as_str().unwrap())],
    )
    .await;
    let public = r.str("PublicKey").unwrap().to_string();
    let smf = Some("Rejected.StateModifiedFailed");
    let pd = Some("Rejected.PendingDeletion");
    let table: &[(&str, [Option<&str>; 4])] = &[
        ("CreateKey", [None, None, None, None]),
        ("Encrypt", [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")]),
        ("Decrypt", [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")]),
        ("GenerateDataKey", [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")]),
        (
            "GenerateDataKeyWithoutPlaintext",
            [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")],
        ),
        ("ReEncrypt", [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")]),
        ("ExportDataKey", [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")]),
        (
            "GenerateAndExportDataKey",
            [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")],
        ),
        ("ListKeys", [None, None, None, None]),
        ("DescribeKey", [None, None, None, None]),
        ("UpdateKeyDescription", [None, None, pd, None]),
        ("EnableKey", [None, None, smf, smf]),
        ("DisableKey", [None, None, smf, smf]),
        ("ScheduleKeyDeletion", [None, None, smf, None]),
        ("CancelKeyDeletion", [smf, smf, None, smf]),
        ("CreateAlias", [None, None, smf, None]),
        ("DeleteAlias", [None, None, None, None]),
        ("ListAliases", [None, None, None, None]),
        ("ListAliasesByKeyId", [None, None, None, None]),
        ("UpdateAlias", [None, None, pd, None]),
        ("TagResource", [None, None, pd, None]),
        ("UntagResource", [None, None, pd, None]),
        ("ListResourceTags", [None, None, None, None]),
        ("DescribeKeyVersion", [None, None, None, None]),
        ("ListKeyVersions", [None, None, None, None]),
        (
            "UpdateRotationPolicy",
            [None, Some("Rejected.Disabled"), pd, Some("Rejected.PendingImport")],
        ),
    ];
    for (action, expected) in table {
        for (i, state) in STATES.into_iter().enumerate() {
            let (id, blob) = key_in(&c, state).await;
            let alias = format!("alias/st-{id}");
            let fresh_alias = format!("alias/new-{id}");
            let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
            let version = d.body["KeyMetadata"]["PrimaryKeyVersion"].as_str().unwrap().to_string();
            let params: Vec<(&str, &str)> = match *action {
                "CreateKey" | "ListKeys" | "ListAliases" => vec![],
                "Encrypt" => vec![("KeyId", &id), ("Plaintext", "aGk=")],
                "Decrypt" => vec![("CiphertextBlob", &blob)],
                // The source key's state decides; the destination is Enabled.
                "ReEncrypt" => vec![("CiphertextBlob", &blob), ("DestinationKeyId", &other)],
                "ExportDataKey" | "GenerateAndExportDataKey" => vec![
                    if *action == "ExportDataKey" {
                        ("CiphertextBlob", &blob)
                    } else {
                        ("KeyId", &id)
                    },
                    ("PublicKeyBlob", &public),
                    ("WrappingAlgorithm", "RSAES_OAEP_SHA_256"),
                    ("WrappingKeySpec", "RSA_2048"),
                ],
                "UpdateKeyDescription" => vec![("KeyId", &id), ("Description", "new")],
                "UpdateRotationPolicy" => {
                    vec![
                        ("KeyId", &id),
                        ("EnableAutomaticRotation", "true"),
                        ("RotationInterval", "365d"),
                    ]
                }
                "CreateAlias" => vec![("KeyId", &id), ("AliasName", &fresh_alias)],
                "DeleteAlias" => vec![("AliasName", &alias)],
                // Only the target's state matters: move another key's alias onto this key.
                "UpdateAlias" => {
                    must_call(&c, "CreateAlias", &[("KeyId", &other), ("AliasName", &fresh_alias)])
                        .await;
                    vec![("AliasName", &fresh_alias), ("KeyId", &id)]
                }
                "TagResource" => {
                    vec![("KeyId", &id), ("Tags", r#"[{"TagKey":"k2","TagValue":"v"}]"#)]
                }
                "UntagResource" => vec![("KeyId", &id), ("TagKeys", r#"["k"]"#)],
                "DescribeKeyVersion" => vec![("KeyId", &id), ("KeyVersionId", &version)],
                _ => vec![("KeyId", &id)],
            };
            let r = c.call(action, &params).await.unwrap();
            match expected[i] {
                None => assert_eq!(r.status, 200, "{action} in {state:?}: {:?}", r.body),
                Some(code) => assert_eq!(
                    (r.status, r.code()),
                    (409, Some(code)),
                    "{action} in {state:?}: {:?}",
                    r.body
                ),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle() {
    let (_dir, mut node) = must_start_dev().await;
    let c = node.client();

    // Lifecycle details.
    let id = must_create_key(&c).await;
    must_call(&c, "UpdateKeyDescription", &[("KeyId", &id), ("Description", "renamed")]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    assert_eq!(d.body["KeyMetadata"]["Description"], "renamed");
    assert!(d.body["KeyMetadata"].get("DeleteDate").is_none());

    for days in ["6", "31", "x"] {
        let r = c
            .call("ScheduleKeyDeletion", &[("KeyId", &id), ("PendingWindowInDays", days)])
            .await
            .unwrap();
        assert_eq!((r.status, r.code()), (400, Some("InvalidParameter")), "{days}");
    }
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &id), ("PendingWindowInDays", "7")]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    let meta = &d.body["KeyMetadata"];
    assert_eq!(meta["KeyState"], "PendingDeletion");
    let created = meta["CreationDate"].as_str().unwrap();
    let deleted = meta["DeleteDate"].as_str().unwrap();
    assert!(deleted > created, "{deleted} vs {created}");
    must_call(&c, "CancelKeyDeletion", &[("KeyId", &id)]).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    assert_eq!(d.body["KeyMetadata"]["KeyState"], "Enabled");
    assert!(d.body["KeyMetadata"].get("DeleteDate").is_none());

    // Disabled keys refuse crypto; enabling restores it; the ARN works as KeyId.
    must_call(&c, "DisableKey", &[("KeyId", &id)]).await;
    assert_eq!(
        d.body["KeyMetadata"]["Arn"].as_str().unwrap().rsplit('/').next(),
        Some(id.as_str())
    );
    let arn = d.body["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    must_call(&c, "EnableKey", &[("KeyId", &arn)]).await;
    must_call(&c, "Encrypt", &[("KeyId", &id), ("Plaintext", "aGk=")]).await;

    // Unknown keys and missing parameters.
    let ghost = "00000000-0000-4000-8000-000000000000";
    for action in ["EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion"] {
        let r = c.call(action, &[("KeyId", ghost)]).await.unwrap();
        assert_eq!((r.status, r.code()), (404, Some("Forbidden.KeyNotFound")), "{action}");
        let r = c.call(action, &[]).await.unwrap();
        assert_eq!((r.status, r.code()), (400, Some("MissingParameter")), "{action}");
    }
    let r = c.call("UpdateKeyDescription", &[("KeyId", &id)]).await.unwrap();
    assert_eq!((r.status, r.code()), (400, Some("MissingParameter")));

    // Versions: readable in every state.
    for state in STATES {
        let (key, _) = key_in(&c, state).await;
        let d = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
        let primary = d.body["KeyMetadata"]["PrimaryKeyVersion"].as_str().unwrap().to_string();
        let v = must_call(&c, "DescribeKeyVersion", &[("KeyId", &key), ("KeyVersionId", &primary)])
            .await;
        assert_eq!(v.body["KeyVersion"]["KeyId"], key.as_str());
        assert_eq!(v.body["KeyVersion"]["KeyVersionId"], primary.as_str());
        assert_eq!(v.body["KeyVersion"]["CreationDate"], d.body["KeyMetadata"]["CreationDate"]);
        let l = must_call(&c, "ListKeyVersions", &[("KeyId", &key)]).await;
        assert_eq!(l.body["TotalCount"].as_u64(), Some(1), "{state:?}");
        assert_eq!(l.body["KeyVersions"]["KeyVersion"][0]["KeyVersionId"], primary.as_str());
        let r = c
            .call("DescribeKeyVersion", &[("KeyId", &key), ("KeyVersionId", ghost)])
            .await
            .unwrap();
        assert_eq!((r.status, r.code()), (404, Some("Forbidden.KeyVersionNotFound")));
    }
    let r = c.call("ListKeyVersions", &[("KeyId", ghost)]).await.unwrap();
    assert_eq!((r.status, r.code()), (404, Some("Forbidden.KeyNotFound")));

    // Rotation policy: stored at creation or later, reflected in DescribeKey.
    let r = must_call(
        &c,
        "CreateKey",
        &[("EnableAutomaticRotation", "True"), ("RotationInterval", "30d")],
    )
    .await;
    let meta = &r.body["KeyMetadata"];
    assert_eq!(meta["AutomaticRotation"], "Enabled");
    assert_eq!(meta["RotationInterval"], "2592000s");
    assert_eq!(meta["LastRotationDate"], meta["CreationDate"]);
    assert!(meta["NextRotationDate"].as_str().unwrap() > meta["CreationDate"].as_str().unwrap());
    let rotating = meta["KeyId"].as_str().unwrap().to_string();
    must_call(
        &c,
        "UpdateRotationPolicy",
        &[
            ("KeyId", &rotating),
            ("EnableAutomaticRotation", "true"),
            ("RotationInterval", "604800s"),
        ],
    )
    .await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &rotating)]).await;
    assert_eq!(d.body["KeyMetadata"]["RotationInterval"], "604800s");
    must_call(
        &c,
        "UpdateRotationPolicy",
        &[("KeyId", &rotating), ("EnableAutomaticRotation", "false")],
    )
    .await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &rotating)]).await;
    assert_eq!(d.body["KeyMetadata"]["AutomaticRotation"], "Disabled");
    assert!(d.body["KeyMetadata"].get("RotationInterval").is_none());
    assert!(d.body["KeyMetadata"].get("NextRotationDate").is_none());
    for (enable, interval, code) in [
        ("true", "6d", "InvalidParameter"),
        ("true", "731d", "InvalidParameter"),
        ("true", "7w", "InvalidParameter"),
        ("true", "", "MissingParameter"),
        ("maybe", "7d", "InvalidParameter"),
    ] {
        let r = c
            .call(
                "CreateKey",
                &[("EnableAutomaticRotation", enable), ("RotationInterval", interval)],
            )
            .await
            .unwrap();
        assert_eq!((r.status, r.code()), (400, Some(code)), "{enable} {interval}");
        let r = c
            .call(
                "UpdateRotationPolicy",
                &[
                    ("KeyId", &rotating),
                    ("EnableAutomaticRotation", enable),
                    ("RotationInterval", interval),
                ],
            )
            .await
            .unwrap();
        assert_eq!((r.status, r.code()), (400, Some(code)), "{enable} {interval}");
    }
    // A disabled policy ignores the interval.
    must_call(&c, "CreateKey", &[("EnableAutomaticRotation", "false"), ("RotationInterval", "1d")])
        .await;

    // Deletion protection, set by ARN, blocks ScheduleKeyDeletion until lifted.
    let arn_params = [
        ("ProtectedResourceArn", arn.as_str()),
        ("EnableDeletionProtection", "True"),
        ("DeletionProtectionDescription", "used by billing"),
    ];
    must_call(&c, "SetDeletionProtection", &arn_params).await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    assert_eq!(d.body["KeyMetadata"]["DeletionProtection"], "Enabled");
    assert_eq!(d.body["KeyMetadata"]["DeletionProtectionDescription"], "used by billing");
    let r = c.call("ScheduleKeyDeletion", &[("KeyId", &id)]).await.unwrap();
    assert_eq!((r.status, r.code()), (409, Some("Rejected.StateModifiedFailed")));
    must_call(
        &c,
        "SetDeletionProtection",
        &[("ProtectedResourceArn", &arn), ("EnableDeletionProtection", "false")],
    )
    .await;
    let d = must_call(&c, "DescribeKey", &[("KeyId", &id)]).await;
    assert_eq!(d.body["KeyMetadata"]["DeletionProtection"], "Disabled");
    assert!(d.body["KeyMetadata"].get("DeletionProtectionDescription").is_none());
    must_call(&c, "ScheduleKeyDeletion", &[("KeyId", &id)]).await;
    let r = c
        .call(
            "SetDeletionProtection",
            &[("ProtectedResourceArn", &id), ("EnableDeletionProtection", "true")],
        )
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, Some("InvalidParameter")));
    let r = c.call("SetDeletionProtection", &[("ProtectedResourceArn", &arn)]).await.unwrap();
    assert_eq!((r.status, r.code()), (400, Some("MissingParameter")));
    let ghost_arn = arn.replace(&id, ghost);
    let r = c
        .call(
            "SetDeletionProtection",
            &[("ProtectedResourceArn", &ghost_arn), ("EnableDeletionProtection", "true")],
        )
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (404, Some("Forbidden.KeyNotFound")));
    assert!(node.is_running());
}

#[tokio::test(flavor = "multi_thread")]
async fn list_keys_filters() {
    let (_dir, node) = must_start_dev().await;
    let c = node.client();
    let mut not_enabled = std::collections::BTreeSet::new();
    for state in [
        State::Enabled,
        State::Enabled,
        State::Enabled,
        State::Disabled,
        State::Disabled,
        State::PendingDeletion,
        State::PendingDeletion,
    ] {
        let (id, _) = key_in(&c, state).await;
        if !matches!(state, State::Enabled) {
            not_enabled.insert(id);
        }
    }
    let total = |filters: &'static str| {
        let c = c.clone();
        async move {
            let r = must_call(&c, "ListKeys", &[("Filters", filters), ("PageSize", "100")]).await;
            r.body["TotalCount"].as_u64().unwrap()
        }
    };
    assert_eq!(total(r#"[{"Key":"KeyState","Values":["Enabled"]}]"#).await, 3);
    assert_eq!(total(r#"[{"Key":"KeyState","Values":["Disabled","PendingDeletion"]}]"#).await, 4);
    assert_eq!(total(r#"[{"Key":"KeyState","Values":["Enabled"]},{"Key":"KeySpec","Values":["Aliyun_AES_256"]}]"#).await, 3);
    assert_eq!(
        total(
            r#"[{"Key":"KeyState","Values":["Enabled"]},{"Key":"KeySpec","Values":["RSA_2048"]}]"#
        )
        .await,
        0
    );
    assert_eq!(total(r#"[{"Key":"CreatorType","Values":["User"]},{"Key":"KeyUsage","Values":["ENCRYPT/DECRYPT"]}]"#).await, 7);
    assert_eq!(total(r#"[{"Key": "ProtectionLevel", "Values": ["SOFTWARE", "HSM"]}]"#).await, 7);

    // Paging over a filtered list returns each match exactly once.
    let mut seen = Vec::new();
    for page in ["1", "2", "3"] {
        let r = must_call(
            &c,
            "ListKeys",
            &[
                ("Filters", r#"[{"Key":"KeyState","Values":["Disabled","PendingDeletion"]}]"#),
                ("PageSize", "2"),
                ("PageNumber", page),
            ],
        )
        .await;
        for k in r.body["Keys"]["Key"].as_array().unwrap() {
            seen.push(k["KeyId"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(seen.into_iter().collect::<std::collections::BTreeSet<_>>(), not_enabled);

    for bad in [
        r#"[{"Key":"Color","Values":["Red"]}]"#,
        r#"[{"Key":"KeyState","Values":["Bogus"]}]"#,
        "not json",
        r#"{"Key":"KeyState"}"#,
    ] {
        let r = c.call("ListKeys", &[("Filters", bad)]).await.unwrap();
        assert_eq!((r.status, r.code()), (400, Some("InvalidParameter")), "{bad}");
    }
}
