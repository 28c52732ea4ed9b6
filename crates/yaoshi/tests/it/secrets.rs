//! Secrets through signed HTTP on a dev node with the test clock: versions and stages, the
//! idempotency of PutSecretValue and RotateSecret, deletion with a recovery window then the
//! scheduler's purge, restore, force deletion, automatic rotation, the default master key, and
//! values unreadable while their master key is disabled. The official SDKs and the cache client
//! are driven in `compat.rs` (`*_secrets.py`).

use std::time::{Duration, Instant};

use yaoshi_client::{Client, Response};

use crate::support::{NodeProcess, advance_clock, assert_api_error, must_be_ready, must_call};

const DAY_MS: i64 = 86_400_000;

async fn start() -> (tempfile::TempDir, NodeProcess) {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--test-clock", "--scheduler-tick-ms", "50"],
    );
    must_be_ready(&node.client(), Duration::from_secs(30)).await;
    (dir, node)
}

async fn get(c: &Client, name: &str, extra: &[(&str, &str)]) -> Response {
    let mut params = vec![("SecretName", name)];
    params.extend_from_slice(extra);
    c.call("GetSecretValue", &params).await.unwrap()
}

fn stages(r: &Response) -> Vec<String> {
    r.body["VersionStages"]["VersionStage"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Polls until `done` holds for GetSecretValue / DescribeSecret of `name` (or fails after 10 s).
async fn until(c: &Client, action: &str, name: &str, what: &str, done: impl Fn(&Response) -> bool) {
    let start = Instant::now();
    loop {
        let r = c.call(action, &[("SecretName", name)]).await.unwrap();
        if done(&r) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{what}: {:?}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_stages_and_idempotency() {
    let (_dir, node) = start().await;
    let c = node.client();
    let created = must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "db/app"), ("VersionId", "v1"), ("SecretData", "first & = +value")],
    )
    .await;
    assert_eq!(created.str("SecretName"), Some("db/app"));
    assert_eq!(created.str("VersionId"), Some("v1"));
    assert_eq!(created.str("SecretType"), Some("Generic"));
    assert!(created.str("Arn").unwrap().ends_with(":secret/db/app"), "{:?}", created.body);
    let dup = c
        .call("CreateSecret", &[("SecretName", "db/app"), ("VersionId", "x"), ("SecretData", "y")])
        .await
        .unwrap();
    assert_api_error(&dup, 409, "Rejected.ResourceExist");

    let v1 = must_call(&c, "GetSecretValue", &[("SecretName", "db/app")]).await;
    assert_eq!(v1.str("SecretData"), Some("first & = +value"));
    assert_eq!(stages(&v1), vec!["ACSCurrent"]);

    // The default master key exists and is a normal, deletion-protected key.
    let described = must_call(&c, "DescribeSecret", &[("SecretName", "db/app")]).await;
    let key = described.str("EncryptionKeyId").unwrap().to_string();
    let k = must_call(&c, "DescribeKey", &[("KeyId", &key)]).await;
    assert_eq!(k.body["KeyMetadata"]["DeletionProtection"], "Enabled");

    let put = [("SecretName", "db/app"), ("VersionId", "v2"), ("SecretData", "second")];
    let p2 = must_call(&c, "PutSecretValue", &put).await;
    assert_eq!(p2.body["VersionStages"]["VersionStage"][0], "ACSCurrent");
    // Same id and data: accepted, nothing changes; other data: refused.
    must_call(&c, "PutSecretValue", &put).await;
    let conflict = c
        .call(
            "PutSecretValue",
            &[("SecretName", "db/app"), ("VersionId", "v2"), ("SecretData", "other")],
        )
        .await
        .unwrap();
    assert_api_error(&conflict, 409, "Rejected.ResourceExist");
    assert_eq!(get(&c, "db/app", &[]).await.str("SecretData"), Some("second"));
    let prev = get(&c, "db/app", &[("VersionStage", "ACSPrevious")]).await;
    assert_eq!(prev.str("VersionId"), Some("v1"));
    assert_eq!(prev.str("SecretData"), Some("first & = +value"));

    // A third version: v1 loses its stage and is only listed with IncludeDeprecated.
    must_call(
        &c,
        "PutSecretValue",
        &[("SecretName", "db/app"), ("VersionId", "v3"), ("SecretData", "third")],
    )
    .await;
    let listed = must_call(&c, "ListSecretVersionIds", &[("SecretName", "db/app")]).await;
    assert_eq!(listed.body["TotalCount"], 2, "{:?}", listed.body);
    let all = must_call(
        &c,
        "ListSecretVersionIds",
        &[("SecretName", "db/app"), ("IncludeDeprecated", "true")],
    )
    .await;
    assert_eq!(all.body["TotalCount"], 3, "{:?}", all.body);

    // Stages: ACSCurrent back to v1 makes v3 ACSPrevious; a custom stage moves between versions.
    must_call(
        &c,
        "UpdateSecretVersionStage",
        &[("SecretName", "db/app"), ("VersionStage", "ACSCurrent"), ("MoveToVersion", "v1")],
    )
    .await;
    assert_eq!(get(&c, "db/app", &[]).await.str("VersionId"), Some("v1"));
    assert_eq!(
        get(&c, "db/app", &[("VersionStage", "ACSPrevious")]).await.str("VersionId"),
        Some("v3")
    );
    must_call(
        &c,
        "UpdateSecretVersionStage",
        &[("SecretName", "db/app"), ("VersionStage", "Blue"), ("MoveToVersion", "v2")],
    )
    .await;
    must_call(
        &c,
        "UpdateSecretVersionStage",
        &[
            ("SecretName", "db/app"),
            ("VersionStage", "Blue"),
            ("RemoveFromVersion", "v2"),
            ("MoveToVersion", "v3"),
        ],
    )
    .await;
    assert_eq!(get(&c, "db/app", &[("VersionStage", "Blue")]).await.str("VersionId"), Some("v3"));
    let wrong = c
        .call(
            "UpdateSecretVersionStage",
            &[("SecretName", "db/app"), ("VersionStage", "Blue"), ("RemoveFromVersion", "v1")],
        )
        .await
        .unwrap();
    assert_api_error(&wrong, 400, "InvalidParameter");
    let bare = c
        .call(
            "UpdateSecretVersionStage",
            &[
                ("SecretName", "db/app"),
                ("VersionStage", "ACSCurrent"),
                ("RemoveFromVersion", "v1"),
            ],
        )
        .await
        .unwrap();
    assert_api_error(&bare, 400, "InvalidParameter");

    // Manual rotation: a new random value; the same VersionId again changes nothing.
    let r = must_call(&c, "RotateSecret", &[("SecretName", "db/app"), ("VersionId", "r1")]).await;
    assert_eq!(r.str("VersionId"), Some("r1"));
    let rotated = get(&c, "db/app", &[]).await;
    assert_eq!(rotated.str("VersionId"), Some("r1"));
    assert_eq!(rotated.str("SecretData").unwrap().len(), 32);
    must_call(&c, "RotateSecret", &[("SecretName", "db/app"), ("VersionId", "r1")]).await;
    assert_eq!(get(&c, "db/app", &[]).await.str("SecretData"), rotated.str("SecretData"));

    // Bad input: coded 4xx.
    for (params, code) in [
        (
            vec![("SecretName", "acs/x"), ("VersionId", "v"), ("SecretData", "d")],
            "InvalidParameter",
        ),
        (
            vec![
                ("SecretName", "b"),
                ("VersionId", "v"),
                ("SecretData", "not base64!"),
                ("SecretDataType", "binary"),
            ],
            "InvalidParameter",
        ),
        (vec![("SecretName", "b"), ("VersionId", "v")], "MissingParameter"),
    ] {
        let r = c.call("CreateSecret", &params).await.unwrap();
        assert_api_error(&r, 400, code);
    }
    assert_api_error(&get(&c, "missing", &[]).await, 404, "Forbidden.ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_recovery_purge_rotation_and_master_key_state() {
    let (_dir, node) = start().await;
    let c = node.client();
    let key = must_call(&c, "CreateKey", &[]).await.body["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    must_call(
        &c,
        "CreateSecret",
        &[
            ("SecretName", "s1"),
            ("VersionId", "v1"),
            ("SecretData", "aGVsbG8="),
            ("SecretDataType", "binary"),
            ("EncryptionKeyId", &key),
        ],
    )
    .await;
    let value = get(&c, "s1", &[]).await;
    assert_eq!(
        (value.str("SecretData"), value.str("SecretDataType")),
        (Some("aGVsbG8="), Some("binary"))
    );

    // The master key's state decides readability.
    must_call(&c, "DisableKey", &[("KeyId", &key)]).await;
    assert_api_error(&get(&c, "s1", &[]).await, 409, "Rejected.Disabled");
    must_call(&c, "EnableKey", &[("KeyId", &key)]).await;
    assert_eq!(get(&c, "s1", &[]).await.str("SecretData"), Some("aGVsbG8="));

    // Recovery window: unreadable, restorable, then purged by the scheduler when it ends.
    let d =
        must_call(&c, "DeleteSecret", &[("SecretName", "s1"), ("RecoveryWindowInDays", "7")]).await;
    assert!(d.str("PlannedDeleteTime").is_some());
    assert_api_error(&get(&c, "s1", &[]).await, 409, "Rejected.ResourceInDeleteWindow");
    let again = c
        .call("CreateSecret", &[("SecretName", "s1"), ("VersionId", "v"), ("SecretData", "d")])
        .await
        .unwrap();
    assert_api_error(&again, 409, "Rejected.ResourceInDeleteWindow");
    must_call(&c, "RestoreSecret", &[("SecretName", "s1")]).await;
    assert_eq!(get(&c, "s1", &[]).await.str("SecretData"), Some("aGVsbG8="));
    must_call(&c, "DeleteSecret", &[("SecretName", "s1"), ("RecoveryWindowInDays", "7")]).await;
    let scheduled = must_call(&c, "DescribeScheduledActions", &[]).await;
    let actions = scheduled.body["ScheduledActions"]["ScheduledAction"].as_array().unwrap().clone();
    assert!(
        actions.iter().any(|a| a["Action"] == "PurgeSecret" && a["ResourceId"] == "s1"),
        "{actions:?}"
    );
    advance_clock(&node, 6 * DAY_MS).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(c.call("DescribeSecret", &[("SecretName", "s1")]).await.unwrap().status == 200);
    advance_clock(&node, DAY_MS + 1000).await;
    until(&c, "DescribeSecret", "s1", "purge", |r| r.code() == Some("Forbidden.ResourceNotFound"))
        .await;

    // Force deletion frees the name at once.
    must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "s2"), ("VersionId", "v1"), ("SecretData", "x")],
    )
    .await;
    must_call(&c, "DeleteSecret", &[("SecretName", "s2"), ("ForceDeleteWithoutRecovery", "true")])
        .await;
    assert_api_error(
        &c.call("DescribeSecret", &[("SecretName", "s2")]).await.unwrap(),
        404,
        "Forbidden.ResourceNotFound",
    );
    must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "s2"), ("VersionId", "v1"), ("SecretData", "x")],
    )
    .await;

    // Automatic rotation: due after its interval, then a new ACSCurrent; the old one is previous.
    must_call(
        &c,
        "UpdateSecretRotationPolicy",
        &[("SecretName", "s2"), ("EnableAutomaticRotation", "true"), ("RotationInterval", "6h")],
    )
    .await;
    let described = must_call(&c, "DescribeSecret", &[("SecretName", "s2")]).await;
    assert_eq!(described.str("AutomaticRotation"), Some("Enabled"));
    assert_eq!(described.str("RotationInterval"), Some("21600s"));
    let bad = c
        .call(
            "UpdateSecretRotationPolicy",
            &[
                ("SecretName", "s2"),
                ("EnableAutomaticRotation", "true"),
                ("RotationInterval", "5h"),
            ],
        )
        .await
        .unwrap();
    assert_api_error(&bad, 400, "InvalidParameter");
    advance_clock(&node, 6 * 3_600_000 + 1000).await;
    until(&c, "GetSecretValue", "s2", "rotation", |r| r.str("VersionId") != Some("v1")).await;
    assert_eq!(
        get(&c, "s2", &[("VersionStage", "ACSPrevious")]).await.str("VersionId"),
        Some("v1")
    );
    let after = must_call(&c, "DescribeSecret", &[("SecretName", "s2")]).await;
    assert!(after.str("LastRotationDate").is_some(), "{:?}", after.body);

    // Tags on secrets.
    must_call(
        &c,
        "TagResource",
        &[("SecretName", "s2"), ("Tags", r#"[{"TagKey":"env","TagValue":"prod"}]"#)],
    )
    .await;
    let tags = must_call(&c, "ListResourceTags", &[("SecretName", "s2")]).await;
    assert_eq!(tags.body["Tags"]["Tag"][0]["TagValue"], "prod");
    let listed = must_call(
        &c,
        "ListSecrets",
        &[("Filters", r#"[{"Key":"TagKey","Values":["env"]}]"#), ("FetchTags", "true")],
    )
    .await;
    assert_eq!(listed.body["TotalCount"], 1, "{:?}", listed.body);
    assert_eq!(listed.body["SecretList"]["Secret"][0]["SecretName"], "s2");
    assert_api_error(
        &c.call("ListResourceTags", &[("SecretName", "nope")]).await.unwrap(),
        404,
        "Forbidden.ResourceNotFound",
    );
}

/// `--secret-rotation-hook`: RotateSecret and the automatic rotation of Generic secrets take the
/// value the hook prints (it sees the secret's name, the new version's id and the current value);
/// a failing hook fails RotateSecret with 503 and leaves the secret as it was.
#[tokio::test(flavor = "multi_thread")]
async fn generic_secrets_rotate_to_the_value_of_the_rotation_hook() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let hook = dir.path().join("rotation-hook");
    std::fs::write(
        &hook,
        "#!/bin/sh\ncase \"$YAOSHI_SECRET_NAME\" in *fail*) echo 'refused' >&2; exit 1;; esac\n\
         current=$(cat)\nprintf 'hooked %s %s after [%s]\\n' \"$YAOSHI_SECRET_NAME\" \
         \"$YAOSHI_SECRET_VERSION_ID\" \"$current\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o700)).unwrap();
    let hook = hook.to_str().unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--test-clock", "--scheduler-tick-ms", "50", "--secret-rotation-hook", hook],
    );
    let c = node.client();
    must_be_ready(&c, Duration::from_secs(30)).await;

    must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "app/h"), ("VersionId", "v1"), ("SecretData", "one")],
    )
    .await;
    must_call(&c, "RotateSecret", &[("SecretName", "app/h"), ("VersionId", "v2")]).await;
    let v2 = get(&c, "app/h", &[]).await;
    assert_eq!(v2.str("VersionId"), Some("v2"));
    assert_eq!(v2.str("SecretData"), Some("hooked app/h v2 after [one]"));

    // Automatic rotation runs the hook on the leader.
    must_call(
        &c,
        "UpdateSecretRotationPolicy",
        &[("SecretName", "app/h"), ("EnableAutomaticRotation", "true"), ("RotationInterval", "6h")],
    )
    .await;
    advance_clock(&node, 6 * 3_600_000 + 1000).await;
    until(&c, "GetSecretValue", "app/h", "hooked rotation", |r| r.str("VersionId") != Some("v2"))
        .await;
    let auto = get(&c, "app/h", &[]).await;
    let version = auto.str("VersionId").unwrap();
    let expected = format!("hooked app/h {version} after [hooked app/h v2 after [one]]");
    assert_eq!(auto.str("SecretData"), Some(expected.as_str()));

    // A failing hook: 503, nothing changes, and its reason stays out of the answer.
    must_call(
        &c,
        "CreateSecret",
        &[("SecretName", "app/fail"), ("VersionId", "v1"), ("SecretData", "kept")],
    )
    .await;
    let refused =
        c.call("RotateSecret", &[("SecretName", "app/fail"), ("VersionId", "v2")]).await.unwrap();
    assert_api_error(&refused, 503, "ServiceUnavailableTemporary");
    assert!(!refused.body.to_string().contains("refused"), "{:?}", refused.body);
    let kept = get(&c, "app/fail", &[]).await;
    assert_eq!((kept.str("VersionId"), kept.str("SecretData")), (Some("v1"), Some("kept")));
    let missing =
        c.call("GetSecretValue", &[("SecretName", "app/fail"), ("VersionId", "v2")]).await.unwrap();
    assert_api_error(&missing, 404, "Forbidden.ResourceNotFound");
}
