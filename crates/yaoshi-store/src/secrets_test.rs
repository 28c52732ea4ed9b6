//! Apply rules of secrets: stage moves, PutSecretValue idempotency by digest, the scheduled
//! commands' preconditions (a purge or rotation proposed twice applies once), pending rotations
//! of managed secrets, and the bound on deprecated versions.

use yaoshi_model::{
    Command, CommandOutput, ErrorCode, KeyId, MAX_DEPRECATED_VERSIONS, STAGE_CURRENT,
    STAGE_PENDING, STAGE_PREVIOUS, SecretDataType, SecretMetadata, SecretType, SecretVersion,
};

use crate::RegionDb;
use crate::test_support::{DAY, T0, create, open, run};

fn version(id: &str, digest: u8) -> SecretVersion {
    SecretVersion {
        version_id: id.to_string(),
        creation_ms: T0,
        data_type: SecretDataType::Text,
        data_key_blob: vec![1, 2, 3],
        ciphertext: vec![4, 5, 6],
        data_digest: vec![digest],
    }
}

fn metadata(name: &str, secret_type: SecretType, interval_s: Option<u64>) -> SecretMetadata {
    SecretMetadata {
        name: name.to_string(),
        secret_type,
        description: String::new(),
        encryption_key_id: KeyId::new("k1"),
        creation_ms: T0,
        update_ms: T0,
        extended_config: None,
        rotation_interval_s: interval_s,
        last_rotation_ms: None,
        next_rotation_ms: interval_s.map(|s| T0 + s as i64 * 1000),
        planned_delete_ms: None,
        stages: Default::default(),
    }
}

fn new_secret(db: &RegionDb, name: &str, secret_type: SecretType, interval_s: Option<u64>) {
    let command = Command::CreateSecret {
        metadata: Box::new(metadata(name, secret_type, interval_s)),
        version: version("v1", 1),
        tags: Vec::new(),
        new_key: None,
    };
    assert!(run(db, T0, command).is_ok());
}

fn secret(db: &RegionDb, name: &str) -> Option<SecretMetadata> {
    crate::StateReader::new(db.clone()).secret(name).unwrap()
}

fn put(db: &RegionDb, id: &str, digest: u8, stages: &[&str]) -> yaoshi_model::CommandResponse {
    let stages = stages.iter().map(|s| s.to_string()).collect();
    run(
        db,
        T0 + 1,
        Command::PutSecretValue { name: "s".into(), version: version(id, digest), stages },
    )
}

#[test]
fn stages_move_and_put_is_idempotent_by_digest() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    new_secret(&db, "s", SecretType::Generic, None);
    assert!(put(&db, "v2", 2, &[STAGE_CURRENT]).is_ok());
    let s = secret(&db, "s").unwrap();
    assert_eq!(
        (s.version_at(STAGE_CURRENT), s.version_at(STAGE_PREVIOUS)),
        (Some("v2"), Some("v1"))
    );
    // The same version and digest: success without change; another digest: refused.
    assert!(put(&db, "v2", 2, &[STAGE_CURRENT]).is_ok());
    assert_eq!(put(&db, "v2", 9, &[STAGE_CURRENT]).unwrap_err().code, ErrorCode::ResourceExist);
    assert_eq!(secret(&db, "s").unwrap(), s);
    // A custom stage goes to one version only; ACSPending is not the user's.
    assert!(put(&db, "v3", 3, &["Blue"]).is_ok());
    assert_eq!(put(&db, "v4", 4, &[STAGE_PENDING]).unwrap_err().code, ErrorCode::InvalidParameter);
    let move_stage = |stage: &str, from: Option<&str>, to: Option<&str>| {
        run(
            &db,
            T0 + 2,
            Command::UpdateSecretVersionStage {
                name: "s".into(),
                stage: stage.into(),
                remove_from: from.map(str::to_string),
                move_to: to.map(str::to_string),
            },
        )
    };
    assert!(move_stage("Blue", Some("v3"), Some("v1")).is_ok());
    assert_eq!(secret(&db, "s").unwrap().stages_of("v3"), Vec::<String>::new());
    assert_eq!(move_stage("Blue", Some("v3"), None).unwrap_err().code, ErrorCode::InvalidParameter);
    assert_eq!(
        move_stage(STAGE_CURRENT, Some("v2"), None).unwrap_err().code,
        ErrorCode::InvalidParameter
    );
    assert_eq!(
        move_stage(STAGE_CURRENT, None, Some("nope")).unwrap_err().code,
        ErrorCode::ResourceNotFound
    );
    assert!(move_stage(STAGE_CURRENT, None, Some("v3")).is_ok());
    let s = secret(&db, "s").unwrap();
    assert_eq!(
        (s.version_at(STAGE_CURRENT), s.version_at(STAGE_PREVIOUS)),
        (Some("v3"), Some("v2"))
    );
}

#[test]
fn a_purge_applies_once_and_only_when_due() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    new_secret(&db, "s", SecretType::Generic, None);
    let delete = Command::DeleteSecret { name: "s".into(), recovery_window_days: Some(7) };
    assert!(run(&db, T0, delete).is_ok());
    let due = T0 + 7 * DAY;
    assert_eq!(secret(&db, "s").unwrap().planned_delete_ms, Some(due));
    let purge = |at, expected| {
        run(&db, at, Command::PurgeSecret { name: "s".into(), expected_delete_ms: expected })
    };
    assert_eq!(purge(due - 1, due), Ok(CommandOutput::NoOp), "not yet due");
    assert_eq!(purge(due, due + 1), Ok(CommandOutput::NoOp), "another window");
    assert_eq!(purge(due, due), Ok(CommandOutput::None));
    assert!(secret(&db, "s").is_none());
    assert_eq!(purge(due + 5, due), Ok(CommandOutput::NoOp), "a repeated purge");
    // A restored secret is not purged by a purge proposed for its old window.
    new_secret(&db, "s", SecretType::Generic, None);
    let delete = Command::DeleteSecret { name: "s".into(), recovery_window_days: Some(7) };
    assert!(run(&db, T0, delete).is_ok());
    assert!(run(&db, T0 + 1, Command::RestoreSecret { name: "s".into() }).is_ok());
    assert_eq!(purge(due, due), Ok(CommandOutput::NoOp));
    assert!(secret(&db, "s").is_some());
}

#[test]
fn a_scheduled_rotation_applies_once_per_due_date() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    new_secret(&db, "s", SecretType::Generic, Some(86_400));
    let next = T0 + DAY;
    let rotate = |at, id: &str| {
        run(
            &db,
            at,
            Command::AutoRotateSecret {
                name: "s".into(),
                expected_next_rotation_ms: next,
                version: version(id, 7),
            },
        )
    };
    assert_eq!(rotate(next - 1, "r0"), Ok(CommandOutput::NoOp), "not yet due");
    assert!(matches!(rotate(next, "r1"), Ok(CommandOutput::Secret(_))));
    assert_eq!(rotate(next + 5, "r2"), Ok(CommandOutput::NoOp), "the same due date again");
    let s = secret(&db, "s").unwrap();
    assert_eq!(s.version_at(STAGE_CURRENT), Some("r1"));
    assert_eq!((s.last_rotation_ms, s.next_rotation_ms), (Some(next), Some(next + DAY)));
    let versions = crate::StateReader::new(db.clone()).secret_versions("s").unwrap();
    assert_eq!(versions.len(), 2);
}

#[test]
fn a_managed_rotation_waits_for_its_backend() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    new_secret(&db, "m", SecretType::Rds, None);
    let rotate = |id: &str| {
        run(&db, T0 + 1, Command::RotateSecret { name: "m".into(), version: version(id, 5) })
    };
    assert!(rotate("p1").is_ok());
    let s = secret(&db, "m").unwrap();
    assert_eq!(
        (s.version_at(STAGE_CURRENT), s.version_at(STAGE_PENDING)),
        (Some("v1"), Some("p1"))
    );
    assert_eq!(
        rotate("p2").unwrap_err().code,
        ErrorCode::StateModifiedFailed,
        "one pending at a time"
    );
    let finish = |id: &str, ok| {
        run(
            &db,
            T0 + 2,
            Command::FinishSecretRotation {
                name: "m".into(),
                version_id: id.into(),
                succeeded: ok,
            },
        )
    };
    assert_eq!(finish("other", true), Ok(CommandOutput::NoOp));
    assert!(finish("p1", true).is_ok());
    let s = secret(&db, "m").unwrap();
    assert_eq!(
        (s.version_at(STAGE_CURRENT), s.version_at(STAGE_PREVIOUS), s.version_at(STAGE_PENDING)),
        (Some("p1"), Some("v1"), None)
    );
    assert_eq!(finish("p1", true), Ok(CommandOutput::NoOp), "finished once");
    assert!(rotate("p3").is_ok());
    assert!(finish("p3", false).is_ok());
    let s = secret(&db, "m").unwrap();
    assert_eq!((s.version_at(STAGE_CURRENT), s.version_at(STAGE_PENDING)), (Some("p1"), None));
    assert!(s.stages_of("p3").is_empty());
}

#[test]
fn deprecated_versions_are_bounded() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    new_secret(&db, "s", SecretType::Generic, None);
    let extra = MAX_DEPRECATED_VERSIONS + 5;
    for i in 0..extra {
        let mut v = version(&format!("n{i:04}"), 1);
        v.creation_ms = T0 + 1 + i as i64;
        let stages = vec![STAGE_CURRENT.to_string()];
        let command = Command::PutSecretValue { name: "s".into(), version: v, stages };
        assert!(run(&db, T0 + 1 + i as i64, command).is_ok());
    }
    let versions = crate::StateReader::new(db.clone()).secret_versions("s").unwrap();
    // Current and previous, plus at most the limit without a stage.
    assert_eq!(versions.len(), MAX_DEPRECATED_VERSIONS + 2);
    assert!(versions.iter().all(|v| v.version_id != "v1"), "the oldest went first");
}
