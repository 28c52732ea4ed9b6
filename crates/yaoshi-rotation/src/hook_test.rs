//! The rotation hook against real programs (`/bin/sh` scripts written by the test).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::hook::{HookError, MAX_HOOK_OUTPUT, RotationHook};

fn script(dir: &tempfile::TempDir, name: &str, body: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    path
}

fn hook(dir: &tempfile::TempDir, body: &str) -> RotationHook {
    RotationHook::new(script(dir, "hook", body), Duration::from_secs(5))
}

#[tokio::test]
async fn the_hook_gets_name_version_and_current_value_and_prints_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        &dir,
        r#"read -r current; printf '%s|%s|%s\n' "$YAOSHI_SECRET_NAME" "$YAOSHI_SECRET_VERSION_ID" "$current""#,
    );
    let out = h.next_value("db/app", "v2", b"old value\n").await.unwrap();
    // One trailing newline is dropped.
    assert_eq!(&out[..], b"db/app|v2|old value");
    // Only one: a value may end in a newline of its own.
    let h = hook(&dir, r#"printf 'two\n\n'"#);
    assert_eq!(&h.next_value("s", "v", b"").await.unwrap()[..], b"two\n");
}

#[tokio::test]
async fn a_hook_that_ignores_a_large_input_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(&dir, "echo fixed");
    let current = vec![b'x'; MAX_HOOK_OUTPUT];
    assert_eq!(&h.next_value("s", "v", &current).await.unwrap()[..], b"fixed");
}

#[tokio::test]
async fn failures_give_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let failed = hook(&dir, "echo partial; exit 3").next_value("s", "v", b"c").await;
    assert!(matches!(failed, Err(HookError::Failed { .. })), "{failed:?}");
    let empty = hook(&dir, "printf '\\n'").next_value("s", "v", b"c").await;
    assert!(matches!(empty, Err(HookError::Empty)), "{empty:?}");
    let big = hook(&dir, "head -c 70000 /dev/zero").next_value("s", "v", b"c").await;
    assert!(matches!(big, Err(HookError::TooLarge)), "{big:?}");
    // Exactly the limit (plus the dropped newline) is accepted.
    let limit = hook(&dir, &format!("head -c {MAX_HOOK_OUTPUT} /dev/zero; echo"));
    assert_eq!(limit.next_value("s", "v", b"c").await.unwrap().len(), MAX_HOOK_OUTPUT);
    let endless = hook(&dir, "yes").next_value("s", "v", b"c").await;
    assert!(matches!(endless, Err(HookError::TooLarge)), "{endless:?}");
    let missing = RotationHook::new(dir.path().join("absent"), Duration::from_secs(1));
    let missing = missing.next_value("s", "v", b"c").await;
    assert!(matches!(missing, Err(HookError::Spawn { .. })), "{missing:?}");
}

#[tokio::test]
async fn a_slow_hook_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("finished");
    let body = format!("sleep 1; touch {}; echo late", marker.display());
    let h = RotationHook::new(script(&dir, "slow", &body), Duration::from_millis(200));
    let started = Instant::now();
    let out = h.next_value("s", "v", b"c").await;
    assert!(matches!(out, Err(HookError::Timeout(_))), "{out:?}");
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
    // Killed, so it never finishes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!marker.exists(), "the hook ran on after its timeout");
}
