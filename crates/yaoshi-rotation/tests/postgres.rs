//! Rotation against a real PostgreSQL server (`TempPostgres`, one per test): the password
//! changes and verifies, a wrong current password changes nothing, a failed verification rolls
//! back for real, names needing quotes work, and no error text holds a password.
//!
//! Without PostgreSQL installed each test prints `SKIPPED: …` and passes (unless
//! `YAOSHI_REQUIRE_POSTGRES=1`); `.ci/setup` installs it.

use yaoshi_rotation::testing::{TempPostgres, rotate_single_user_verifying_with};
use yaoshi_rotation::{PgTarget, RotationError, can_login, rotate_single_user};

const OLD: &str = "Old-pass-7c1e!";
const NEW: &str = "New-pass-93ab?";
const WRONG: &str = "Wrong-pass-55d0";

/// Every password of these tests, for the checks that no error text holds one.
const PASSWORDS: &[&str] = &[OLD, NEW, WRONG, "Old", "New-pass", "pass-7c1e", "pass-93ab"];

fn assert_no_password(e: &RotationError) {
    for text in [e.to_string(), format!("{e:?}")] {
        for p in PASSWORDS {
            assert!(!text.contains(p), "error text holds a password ({p}): {text}");
        }
    }
}

async fn logs_in(target: &PgTarget, account: &str, password: &str) -> bool {
    can_login(target, account, password).await.expect("server reachable")
}

#[tokio::test]
async fn rotation_changes_the_password_and_only_a_verifier_reaches_the_server() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    pg.create_role("app", OLD).unwrap();
    // Log every statement of this role, to show the server never sees the new password.
    pg.sql("ALTER ROLE app SET log_statement = 'all'").unwrap();
    assert!(logs_in(&target, "app", OLD).await);

    rotate_single_user(&target, "app", OLD, NEW).await.unwrap();

    assert!(logs_in(&target, "app", NEW).await, "the new password logs in");
    assert!(!logs_in(&target, "app", OLD).await, "the old password no longer does");
    let stored = pg.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'").unwrap();
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    let log = pg.log();
    assert!(
        log.contains("ALTER ROLE \"app\" PASSWORD 'SCRAM-SHA-256$"),
        "statement logged:\n{log}"
    );
    for p in [OLD, NEW] {
        assert!(!log.contains(p), "the server log holds a password:\n{log}");
    }

    // A second rotation starts from the new password.
    rotate_single_user(&target, "app", NEW, OLD).await.unwrap();
    assert!(logs_in(&target, "app", OLD).await);
    assert!(!logs_in(&target, "app", NEW).await);
}

#[tokio::test]
async fn wrong_current_password_is_authentication_failed_and_changes_nothing() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    pg.create_role("app", OLD).unwrap();

    let e = rotate_single_user(&target, "app", WRONG, NEW).await.unwrap_err();

    assert!(
        matches!(&e, RotationError::AuthenticationFailed { account, .. } if account == "app"),
        "{e:?}"
    );
    assert!(e.to_string().contains("28P01"), "{e}");
    assert!(!e.may_have_changed());
    assert_no_password(&e);
    assert!(logs_in(&target, "app", OLD).await, "the old password still logs in");
    assert!(!logs_in(&target, "app", NEW).await, "the new one does not");
}

#[tokio::test]
async fn can_login_answers_true_false_and_errs_only_when_unusable() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    pg.create_role("app", OLD).unwrap();
    pg.sql("CREATE ROLE nologin PASSWORD 'x-y-z-1'").unwrap();

    assert!(logs_in(&target, "app", OLD).await);
    assert!(!logs_in(&target, "app", WRONG).await);
    assert!(!logs_in(&target, "app", "").await);
    assert!(!logs_in(&target, "nobody", OLD).await, "a role that does not exist");
    assert!(!logs_in(&target, "nologin", "x-y-z-1").await, "a role without LOGIN");

    let missing_db = PgTarget::parse(&format!("127.0.0.1:{}/no_such_db", pg.port())).unwrap();
    let e = can_login(&missing_db, "app", OLD).await.unwrap_err();
    assert!(matches!(e, RotationError::BadTarget { .. }), "{e:?}");
    assert!(e.to_string().contains("3D000"), "{e}");
    assert_no_password(&e);
}

#[tokio::test]
async fn a_failed_verification_restores_the_current_password() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    pg.create_role("app", OLD).unwrap();

    // The password really changes to NEW, then verification logs in with WRONG and fails.
    let e = rotate_single_user_verifying_with(&target, "app", OLD, NEW, WRONG).await.unwrap_err();

    assert!(matches!(e, RotationError::VerifyFailed { rolled_back: true, .. }), "{e:?}");
    assert!(!e.may_have_changed());
    assert!(e.to_string().contains("28P01"), "the verify login's failure is reported: {e}");
    assert_no_password(&e);
    assert!(logs_in(&target, "app", OLD).await, "the old password logs in again");
    assert!(!logs_in(&target, "app", NEW).await, "the new one was undone");
    // The server saw two changes (to NEW, then back to OLD): the stored verifier is a fresh one.
    let stored = pg.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'").unwrap();
    assert!(stored.starts_with("SCRAM-SHA-256$"), "{stored}");
}

#[tokio::test]
async fn account_names_needing_quotes_rotate() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    for account in ["app\"user", "App User", "x'; DROP ROLE app; --", "ünï"] {
        pg.create_role(account, OLD).unwrap();
        rotate_single_user(&target, account, OLD, NEW)
            .await
            .unwrap_or_else(|e| panic!("{account}: {e}"));
        assert!(logs_in(&target, account, NEW).await, "{account}");
        assert!(!logs_in(&target, account, OLD).await, "{account}");
    }
    // The lower-case twin of "App User" and an unquoted reading of the others were never made.
    let roles = pg
        .sql("SELECT count(*) FROM pg_roles WHERE rolname LIKE '%app%' OR rolname LIKE '%App%'")
        .unwrap();
    assert_eq!(roles, "3", "only the three roles created");
}

#[tokio::test]
async fn a_refused_change_is_change_refused_and_changes_nothing() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let target = pg.pg_target();
    pg.create_role("app", OLD).unwrap();
    // Every session of this role is read-only, so its ALTER ROLE is refused by the server.
    pg.sql("ALTER ROLE app SET default_transaction_read_only = on").unwrap();

    let e = rotate_single_user(&target, "app", OLD, NEW).await.unwrap_err();

    assert!(matches!(e, RotationError::ChangeRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("25006"), "read_only_sql_transaction: {e}");
    assert!(!e.may_have_changed());
    assert_no_password(&e);
    assert!(logs_in(&target, "app", OLD).await);
    assert!(!logs_in(&target, "app", NEW).await);

    for bad_new in ["", "nul\0byte"] {
        let e = rotate_single_user(&target, "app", OLD, bad_new).await.unwrap_err();
        assert!(matches!(e, RotationError::ChangeRefused { .. }), "{e:?}");
    }
    let e = rotate_single_user(&target, "", OLD, NEW).await.unwrap_err();
    assert!(matches!(e, RotationError::BadTarget { .. }), "{e:?}");
    assert!(logs_in(&target, "app", OLD).await);
}

#[tokio::test]
async fn an_unreachable_server_is_unreachable() {
    // Needs no PostgreSQL: a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = PgTarget::parse(&format!("127.0.0.1:{port}/postgres")).unwrap();

    let e = can_login(&target, "app", OLD).await.unwrap_err();
    assert!(matches!(e, RotationError::Unreachable { .. }), "{e:?}");
    assert_no_password(&e);
    let e = rotate_single_user(&target, "app", OLD, NEW).await.unwrap_err();
    assert!(matches!(e, RotationError::Unreachable { .. }), "{e:?}");
    assert!(!e.may_have_changed());
    assert_no_password(&e);
}

#[test]
fn temp_postgres_removes_its_directory_on_drop() {
    let Some(pg) = TempPostgres::start_or_skip() else { return };
    let dir = pg.dir().to_path_buf();
    assert!(dir.join("data").join("PG_VERSION").is_file());
    assert_eq!(pg.sql("SELECT 1").unwrap(), "1");
    drop(pg);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
