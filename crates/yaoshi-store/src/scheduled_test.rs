//! The preconditions of scheduled commands (PurgeKey, RotateKey, ExpireKeyMaterial,
//! PurgeImportTokens): due commands apply once; early, duplicate, late and overtaken ones are
//! recorded no-ops; rotation dates follow the schedule; `due_work` finds exactly what is due.

use yaoshi_model::fixtures::KeyFixture;
use yaoshi_model::{
    Alias, Command, CommandOutput, CommandResponse, ImportToken, KeyId, KeyOrigin, KeySpec,
    KeyState, KeyVersion, KeyVersionId, ResourceRef,
};

use crate::rules::rotation_slot;
use crate::test_support::{DAY, T0, create, key, open, run};
use crate::{RegionDb, StateReader};

/// Version `v` of key `key`, made at `at_ms`.
fn version(key: &str, v: &str, at_ms: i64) -> KeyVersion {
    KeyFixture::new(key).version_id(v).at(at_ms).build().1
}

fn versions(db: &RegionDb, id: &str) -> usize {
    StateReader::new(db.clone()).list_key_versions(&KeyId::new(id), 0, 1000).unwrap().1
}

fn purge(id: &str, expected: i64) -> Command {
    Command::PurgeKey { key_id: KeyId::new(id), expected_delete_ms: expected, aliases: vec![] }
}

fn rotate(id: &str, expected: i64, v: &str) -> Command {
    Command::RotateKey {
        key_id: KeyId::new(id),
        expected_next_rotation_ms: expected,
        version: version(id, v, expected),
    }
}

const NOOP: CommandResponse = Ok(CommandOutput::NoOp);

#[test]
fn purge_applies_once_and_only_when_due() {
    let (_dir, db) = open();
    create(&db, "k1", None);
    create(&db, "other", None);
    let alias = Alias { name: "alias/k1".into(), key_id: KeyId::new("k1"), account_id: "1".into() };
    assert!(run(&db, T0, Command::CreateAlias { alias }).is_ok());
    // Not PendingDeletion yet.
    assert_eq!(run(&db, T0 + 8 * DAY, purge("k1", T0 + 7 * DAY)), NOOP);
    let delete_ms = T0 + 7 * DAY;
    let schedule =
        Command::ScheduleKeyDeletion { key_id: KeyId::new("k1"), pending_window_days: 7 };
    assert!(run(&db, T0, schedule).is_ok());
    // Early, and a different DeleteDate than the key's: no-ops, the key is untouched.
    assert_eq!(run(&db, delete_ms - 1, purge("k1", delete_ms)), NOOP);
    assert_eq!(run(&db, delete_ms + 1, purge("k1", delete_ms + 1)), NOOP);
    assert!(key(&db, "k1").is_some());
    // Due: key, versions, alias and tags go; the other key stays.
    assert_eq!(run(&db, delete_ms, purge("k1", delete_ms)), Ok(CommandOutput::None));
    let reader = StateReader::new(db.clone());
    assert!(key(&db, "k1").is_none());
    assert_eq!(versions(&db, "k1"), 0);
    assert!(reader.alias("alias/k1").unwrap().is_none());
    assert!(reader.tags(&ResourceRef::Key(KeyId::new("k1"))).unwrap().is_empty());
    assert!(key(&db, "other").is_some());
    assert_eq!(reader.tags(&ResourceRef::Key(KeyId::new("other"))).unwrap().len(), 1);
    // A duplicate (a retry after failover) is a no-op.
    assert_eq!(run(&db, delete_ms + DAY, purge("k1", delete_ms)), NOOP);
}

#[test]
fn purge_overtaken_by_cancel_or_reschedule_is_a_noop() {
    let (_dir, db) = open();
    create(&db, "k", None);
    let first = T0 + 7 * DAY;
    assert!(
        run(
            &db,
            T0,
            Command::ScheduleKeyDeletion { key_id: KeyId::new("k"), pending_window_days: 7 }
        )
        .is_ok()
    );
    assert!(run(&db, T0, Command::CancelKeyDeletion { key_id: KeyId::new("k") }).is_ok());
    assert_eq!(run(&db, first, purge("k", first)), NOOP);
    let second = T0 + 30 * DAY;
    assert!(
        run(
            &db,
            T0,
            Command::ScheduleKeyDeletion { key_id: KeyId::new("k"), pending_window_days: 30 }
        )
        .is_ok()
    );
    assert_eq!(run(&db, second, purge("k", first)), NOOP);
    assert_eq!(key(&db, "k").unwrap().state, KeyState::PendingDeletion);
    assert_eq!(run(&db, second, purge("k", second)), Ok(CommandOutput::None));
}

#[test]
fn rotation_follows_the_schedule_exactly_once() {
    let (_dir, db) = open();
    create(&db, "r", Some(7));
    let first = T0 + 7 * DAY;
    assert_eq!(key(&db, "r").unwrap().next_rotation_ms(), Some(first));
    assert_eq!(run(&db, first - 1, rotate("r", first, "v2")), NOOP);
    // Applied 5 s late: LastRotationDate is the scheduled time, not the apply time.
    assert!(run(&db, first + 5_000, rotate("r", first, "v2")).is_ok());
    let k = key(&db, "r").unwrap();
    assert_eq!((k.primary_version.as_str(), k.last_rotation_ms), ("v2", first));
    assert_eq!(k.next_rotation_ms(), Some(first + 7 * DAY));
    // The same slot again (a duplicate proposal after a failover) is a no-op.
    assert_eq!(run(&db, first + 6_000, rotate("r", first, "v3")), NOOP);
    assert_eq!(versions(&db, "r"), 2);
    // A leader that slept through two and a half intervals rotates once, onto the latest slot.
    let second = first + 7 * DAY;
    assert!(run(&db, second + 17 * DAY, rotate("r", second, "v3")).is_ok());
    let k = key(&db, "r").unwrap();
    assert_eq!(k.last_rotation_ms, second + 14 * DAY);
    assert_eq!(versions(&db, "r"), 3);
    // Disabled keys and keys whose policy changed are not rotated.
    let next = k.next_rotation_ms().unwrap();
    assert!(
        run(&db, next, Command::SetKeyEnabled { key_id: KeyId::new("r"), enabled: false }).is_ok()
    );
    assert_eq!(run(&db, next, rotate("r", next, "v4")), NOOP);
    assert!(
        run(&db, next, Command::SetKeyEnabled { key_id: KeyId::new("r"), enabled: true }).is_ok()
    );
    let policy =
        Command::UpdateRotationPolicy { key_id: KeyId::new("r"), interval_s: Some(30 * 86_400) };
    assert!(run(&db, next, policy).is_ok());
    assert_eq!(run(&db, next, rotate("r", next, "v4")), NOOP);
    // A version id that exists already is never overwritten.
    let next = key(&db, "r").unwrap().next_rotation_ms().unwrap();
    assert_eq!(run(&db, next, rotate("r", next, "v2")), NOOP);
    assert!(run(&db, next, rotate("r", next, "v4")).is_ok());
    assert_eq!(versions(&db, "r"), 4);
    // Unknown key.
    assert_eq!(run(&db, next, rotate("nope", next, "x")), NOOP);
}

#[test]
fn rotation_slot_arithmetic() {
    let (mut k, _) =
        KeyFixture::new("k").spec(KeySpec::Sm4).at(T0).rotation(Some(7 * 86_400)).build();
    let due = T0 + 7 * DAY;
    assert_eq!(rotation_slot(&k, due, due - 1), None);
    assert_eq!(rotation_slot(&k, due, due), Some(due));
    assert_eq!(rotation_slot(&k, due, due + 7 * DAY - 1), Some(due));
    assert_eq!(rotation_slot(&k, due, due + 7 * DAY), Some(due + 7 * DAY));
    assert_eq!(rotation_slot(&k, due + 1, due + 1), None);
    k.origin = KeyOrigin::External;
    assert_eq!(rotation_slot(&k, due, due), None);
    k.origin = KeyOrigin::AliyunKms;
    k.spec = KeySpec::Rsa2048;
    assert_eq!(rotation_slot(&k, due, due), None);
    // HMAC keys rotate like symmetric keys.
    for spec in [KeySpec::HmacSm3, KeySpec::HmacSha256] {
        k.spec = spec;
        assert_eq!(rotation_slot(&k, due, due), Some(due));
    }
    k.spec = KeySpec::Aes128;
    k.rotation_interval_s = None;
    assert_eq!(rotation_slot(&k, due, due), None);
}

#[test]
fn material_expiry_and_token_purge() {
    let (_dir, db) = open();
    create(&db, "x", None);
    let expire = T0 + DAY;
    let command = KeyFixture::new("ext")
        .at(T0)
        .origin(KeyOrigin::External)
        .material_expire(Some(expire))
        .create_command();
    assert!(run(&db, T0, command).is_ok());
    let expire_cmd =
        |at: i64| Command::ExpireKeyMaterial { key_id: KeyId::new("ext"), expected_expire_ms: at };
    assert_eq!(run(&db, expire - 1, expire_cmd(expire)), NOOP);
    assert_eq!(run(&db, expire, expire_cmd(expire + 1)), NOOP);
    assert!(run(&db, expire, expire_cmd(expire)).is_ok());
    let k = key(&db, "ext").unwrap();
    assert_eq!((k.state, k.material_expire_ms), (KeyState::PendingImport, None));
    let v = StateReader::new(db.clone())
        .key_version(&KeyId::new("ext"), &KeyVersionId::new("v1"))
        .unwrap()
        .unwrap();
    assert!(v.wrapped_material.is_empty());
    assert_eq!(run(&db, expire + 1, expire_cmd(expire)), NOOP);

    let token = ImportToken {
        token: "t1".into(),
        key_id: KeyId::new("ext"),
        wrapping_spec: KeySpec::Rsa2048,
        wrapping_algorithm: "RSAES_OAEP_SHA_256".into(),
        wrapped_private_key: vec![9],
        expire_ms: T0 + ImportToken::VALIDITY_MS,
    };
    assert!(run(&db, T0, Command::CreateImportToken { token: token.clone() }).is_ok());
    let purge_tokens = Command::PurgeImportTokens { tokens: vec!["t1".into(), "unknown".into()] };
    assert_eq!(run(&db, token.expire_ms - 1, purge_tokens.clone()), NOOP);
    assert!(StateReader::new(db.clone()).import_token("t1").unwrap().is_some());
    assert_eq!(run(&db, token.expire_ms, purge_tokens.clone()), Ok(CommandOutput::None));
    assert!(StateReader::new(db.clone()).import_token("t1").unwrap().is_none());
    assert_eq!(run(&db, token.expire_ms, purge_tokens), NOOP);
}

#[test]
fn due_work_finds_exactly_what_is_due() {
    let (_dir, db) = open();
    create(&db, "plain", None);
    create(&db, "rot", Some(7));
    create(&db, "del", None);
    let alias =
        Alias { name: "alias/del".into(), key_id: KeyId::new("del"), account_id: "1".into() };
    assert!(run(&db, T0, Command::CreateAlias { alias }).is_ok());
    let delete_ms = T0 + 10 * DAY;
    assert!(
        run(
            &db,
            T0,
            Command::ScheduleKeyDeletion { key_id: KeyId::new("del"), pending_window_days: 10 }
        )
        .is_ok()
    );
    let reader = StateReader::new(db.clone());
    assert!(reader.due_work(T0 + 7 * DAY - 1, 100).unwrap().is_empty());
    let due = reader.due_work(T0 + 7 * DAY, 100).unwrap();
    assert_eq!(due.rotations.len(), 1);
    assert_eq!((due.rotations[0].0.key_id.as_str(), due.rotations[0].1), ("rot", T0 + 7 * DAY));
    assert!(due.purges.is_empty());
    let due = reader.due_work(delete_ms, 100).unwrap();
    assert_eq!(due.purges, vec![(KeyId::new("del"), delete_ms, vec!["alias/del".to_string()])]);
    assert_eq!(reader.due_work(delete_ms, 0).unwrap(), Default::default());
}

#[test]
fn a_deletion_window_outside_7_to_30_days_is_refused_in_apply() {
    let (_dir, db) = open();
    create(&db, "k", None);
    for days in [0, 1, 6, 31, u32::MAX] {
        let forged =
            Command::ScheduleKeyDeletion { key_id: KeyId::new("k"), pending_window_days: days };
        let r = run(&db, T0, forged);
        assert_eq!(r.unwrap_err().code, yaoshi_model::ErrorCode::InvalidParameter, "{days}");
        assert_eq!(key(&db, "k").unwrap().state, KeyState::Enabled, "{days}");
    }
    // The purge time is the command's (leader-stamped) time plus the window, never the caller's.
    let ok = Command::ScheduleKeyDeletion { key_id: KeyId::new("k"), pending_window_days: 7 };
    assert!(run(&db, T0, ok).is_ok());
    assert_eq!(key(&db, "k").unwrap().delete_ms, Some(T0 + 7 * DAY));
    assert_eq!(run(&db, T0 + 7 * DAY - 1, purge("k", T0 + 7 * DAY)), NOOP);
}
