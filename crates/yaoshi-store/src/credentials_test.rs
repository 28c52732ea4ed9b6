//! Credentials and access points in apply: rows of the first release still read, rotation keeps
//! the old secret for exactly its grace period, revocation deletes, the bootstrap is closed once
//! credentials were managed, and access points are checked where they are referenced.

use yaoshi_model::policy::Policy;
use yaoshi_model::{
    AccessKeyId, AccessPoint, Command, Credential, CredentialV1, ErrorCode, RetiringSecret,
};

use crate::StateReader;
use crate::codec::encode;
use crate::db::CF_CREDENTIALS;
use crate::test_support::{DAY, T0, open, run};

fn v1(id: &str) -> CredentialV1 {
    CredentialV1 {
        access_key_id: AccessKeyId::new(id),
        wrapped_secret: vec![1; 40],
        account_id: "1".into(),
        creation_ms: T0,
    }
}

fn scoped(id: &str, access_point: Option<&str>) -> Credential {
    let mut c = v1(id).upgrade();
    c.access_point = access_point.map(str::to_string);
    c
}

fn access_point(name: &str) -> AccessPoint {
    AccessPoint {
        name: name.into(),
        description: String::new(),
        policies: vec![Policy {
            name: "p".into(),
            actions: vec!["Encrypt*".into()],
            resources: vec!["*".into()],
            source_cidrs: vec![],
        }],
    }
}

fn code(r: yaoshi_model::CommandResponse) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn a_first_release_row_reads_as_an_unscoped_credential() {
    let (_dir, db) = open();
    db.db.put_cf(db.cf(CF_CREDENTIALS), "old", encode(&v1("old"))).unwrap();
    let read = StateReader::new(db.clone()).credential("old").unwrap().unwrap();
    assert_eq!(read, v1("old").upgrade());
    assert_eq!(read.access_point, None);
    // And it can be rotated like any other.
    let rotate = Command::RotateCredential {
        access_key_id: AccessKeyId::new("old"),
        wrapped_secret: vec![2; 40],
        grace_ms: DAY,
    };
    assert!(run(&db, T0 + 5, rotate).is_ok());
    let read = StateReader::new(db.clone()).credential("old").unwrap().unwrap();
    assert_eq!(read.wrapped_secret, vec![2; 40]);
    assert_eq!(
        read.retiring,
        Some(RetiringSecret { wrapped_secret: vec![1; 40], until_ms: T0 + 5 + DAY })
    );
    let valid: Vec<&[u8]> = read.valid_secrets(T0 + 5 + DAY - 1).collect();
    assert_eq!(valid, vec![&[2u8; 40][..], &[1u8; 40][..]]);
    assert_eq!(read.valid_secrets(T0 + 5 + DAY).count(), 1);
}

#[test]
fn the_bootstrap_is_closed_once_credentials_were_managed() {
    let (_dir, db) = open();
    let state = StateReader::new(db.clone());
    assert!(run(&db, T0, Command::BootstrapCredential { credential: v1("boot") }).is_ok());
    let second = run(&db, T0, Command::BootstrapCredential { credential: v1("again") });
    assert_eq!(second, Ok(yaoshi_model::CommandOutput::NoOp));
    let revoke = Command::RevokeCredential { access_key_id: AccessKeyId::new("boot") };
    assert!(run(&db, T0, revoke.clone()).is_ok());
    assert!(state.credentials().unwrap().is_empty());
    assert_eq!(code(run(&db, T0, revoke)), ErrorCode::ResourceNotFound);
    // No credential is left, yet a restarted node's bootstrap does not come back.
    let third = run(&db, T0, Command::BootstrapCredential { credential: v1("boot") });
    assert_eq!(third, Ok(yaoshi_model::CommandOutput::NoOp));
    assert!(state.credentials().unwrap().is_empty());
}

#[test]
fn access_points_are_checked_where_referenced() {
    let (_dir, db) = open();
    let state = StateReader::new(db.clone());
    let create = |c| Command::CreateCredential { credential: c };
    assert_eq!(code(run(&db, T0, create(scoped("a", Some("app"))))), ErrorCode::ResourceNotFound);
    assert!(run(&db, T0, Command::PutAccessPoint { access_point: access_point("app") }).is_ok());
    assert!(run(&db, T0, create(scoped("a", Some("app")))).is_ok());
    assert_eq!(code(run(&db, T0, create(scoped("a", None)))), ErrorCode::ResourceExist);
    let delete = Command::DeleteAccessPoint { name: "app".into() };
    assert_eq!(code(run(&db, T0, delete.clone())), ErrorCode::InvalidParameter);
    let unscope = Command::SetCredentialAccessPoint {
        access_key_id: AccessKeyId::new("a"),
        access_point: None,
    };
    assert!(run(&db, T0, unscope).is_ok());
    assert!(run(&db, T0, delete).is_ok());
    assert!(state.access_points().unwrap().is_empty());
    assert_eq!(state.credential("a").unwrap().unwrap().access_point, None);
    // Invalid policies never reach the state, even from a proposer that did not check them.
    let mut bad = access_point("bad");
    bad.policies[0].actions.clear();
    assert_eq!(
        code(run(&db, T0, Command::PutAccessPoint { access_point: bad })),
        ErrorCode::InvalidParameter
    );
    let long = Command::RotateCredential {
        access_key_id: AccessKeyId::new("a"),
        wrapped_secret: vec![3; 40],
        grace_ms: 31 * DAY,
    };
    assert_eq!(code(run(&db, T0, long)), ErrorCode::InvalidParameter);
}
