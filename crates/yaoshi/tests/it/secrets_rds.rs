//! Managed database secrets (`SecretType=Rds`) against a real PostgreSQL started by the test from
//! the Debian package (`yaoshi_rotation::testing::TempPostgres`; the test prints `SKIPPED: …` and
//! passes when PostgreSQL cannot be started, unless `YAOSHI_REQUIRE_POSTGRES=1`): RotateSecret
//! changes the role's real password, the new one logs in and the old one no longer does, and only
//! then does the new version become ACSCurrent; a rotation the database refuses is abandoned and
//! the current value stays; automatic rotation on schedule does the same.

use std::time::{Duration, Instant};

use yaoshi_client::{Client, Response};
use yaoshi_rotation::testing::TempPostgres;
use yaoshi_rotation::{PgTarget, can_login};

use crate::support::{NodeProcess, advance_clock, assert_api_error, must_be_ready, must_call};

fn account(r: &Response) -> (String, String) {
    let value: serde_json::Value = serde_json::from_str(r.str("SecretData").unwrap()).unwrap();
    (
        value["AccountName"].as_str().unwrap().to_string(),
        value["AccountPassword"].as_str().unwrap().to_string(),
    )
}

async fn until_version(
    c: &Client,
    name: &str,
    want: &dyn Fn(&str) -> bool,
    what: &str,
) -> Response {
    let start = Instant::now();
    loop {
        let r = c.call("GetSecretValue", &[("SecretName", name)]).await.unwrap();
        if r.str("VersionId").is_some_and(want) {
            return r;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {:?}", r.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rds_secrets_rotate_a_real_postgres_password() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    pg.create_role("app", "initial-Pa55").unwrap();
    pg.create_role("other", "other-Pa55").unwrap();
    let target: PgTarget = pg.pg_target();
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::dev_with(
        &dir.path().join("node"),
        &["--test-clock", "--scheduler-tick-ms", "50"],
    );
    let c = node.client();
    must_be_ready(&c, Duration::from_secs(30)).await;
    let config = format!(r#"{{"SecretSubType":"SingleUser","DBInstanceId":"{}"}}"#, pg.target());
    let data = r#"{"Accounts":[{"AccountName":"app","AccountPassword":"initial-Pa55"}]}"#;
    let created = must_call(
        &c,
        "CreateSecret",
        &[
            ("SecretName", "rds/app"),
            ("VersionId", "v1"),
            ("SecretType", "Rds"),
            ("SecretData", data),
            ("ExtendedConfig", &config),
        ],
    )
    .await;
    assert_eq!(created.str("SecretType"), Some("Rds"));
    let first = must_call(&c, "GetSecretValue", &[("SecretName", "rds/app")]).await;
    assert_eq!(account(&first), ("app".to_string(), "initial-Pa55".to_string()));
    // Managed secrets take no PutSecretValue.
    let put = c
        .call(
            "PutSecretValue",
            &[("SecretName", "rds/app"), ("VersionId", "v2"), ("SecretData", "x")],
        )
        .await
        .unwrap();
    assert_api_error(&put, 400, "Unsupported.Operation");
    let bad = c
        .call(
            "CreateSecret",
            &[
                ("SecretName", "rds/bad"),
                ("VersionId", "v1"),
                ("SecretType", "Rds"),
                ("SecretData", "not json"),
                ("ExtendedConfig", &config),
            ],
        )
        .await
        .unwrap();
    assert_api_error(&bad, 400, "InvalidParameter");

    // RotateSecret: pending until the database has the new password, then current.
    must_call(&c, "RotateSecret", &[("SecretName", "rds/app"), ("VersionId", "r1")]).await;
    let rotated = until_version(&c, "rds/app", &|v| v == "r1", "manual rotation").await;
    let (user, password) = account(&rotated);
    assert_eq!(user, "app");
    assert_ne!(password, "initial-Pa55");
    assert!(can_login(&target, "app", &password).await.unwrap(), "the new password logs in");
    assert!(!can_login(&target, "app", "initial-Pa55").await.unwrap(), "the old one does not");
    let previous = must_call(
        &c,
        "GetSecretValue",
        &[("SecretName", "rds/app"), ("VersionStage", "ACSPrevious")],
    )
    .await;
    assert_eq!(previous.str("VersionId"), Some("v1"));

    // Automatic rotation on schedule.
    must_call(
        &c,
        "UpdateSecretRotationPolicy",
        &[
            ("SecretName", "rds/app"),
            ("EnableAutomaticRotation", "true"),
            ("RotationInterval", "1d"),
        ],
    )
    .await;
    advance_clock(&node, 86_400_000 + 1000).await;
    let auto = until_version(&c, "rds/app", &|v| v != "r1", "automatic rotation").await;
    let (_, auto_password) = account(&auto);
    assert!(can_login(&target, "app", &auto_password).await.unwrap());
    assert!(!can_login(&target, "app", &password).await.unwrap());

    // A secret whose stored password is wrong: the database refuses, the rotation is abandoned,
    // the current value stays and the pending version is left without a stage.
    let wrong = r#"{"Accounts":[{"AccountName":"other","AccountPassword":"not-the-password"}]}"#;
    must_call(
        &c,
        "CreateSecret",
        &[
            ("SecretName", "rds/other"),
            ("VersionId", "v1"),
            ("SecretType", "Rds"),
            ("SecretData", wrong),
            ("ExtendedConfig", &config),
        ],
    )
    .await;
    must_call(&c, "RotateSecret", &[("SecretName", "rds/other"), ("VersionId", "r1")]).await;
    let start = Instant::now();
    loop {
        let listed = must_call(
            &c,
            "ListSecretVersionIds",
            &[("SecretName", "rds/other"), ("IncludeDeprecated", "true")],
        )
        .await;
        let versions = listed.body["VersionIds"]["VersionId"].as_array().unwrap().clone();
        let r1 = versions.iter().find(|v| v["VersionId"] == "r1");
        if r1.is_some_and(|v| {
            v["VersionStages"]["VersionStage"].as_array().is_some_and(Vec::is_empty)
        }) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "rotation not abandoned: {versions:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let current = must_call(&c, "GetSecretValue", &[("SecretName", "rds/other")]).await;
    assert_eq!(current.str("VersionId"), Some("v1"));
    assert!(
        can_login(&target, "other", "other-Pa55").await.unwrap(),
        "the real password is untouched"
    );
    assert!(
        !node.log().contains(&password) && !node.log().contains("initial-Pa55"),
        "a password in the node log"
    );
}
