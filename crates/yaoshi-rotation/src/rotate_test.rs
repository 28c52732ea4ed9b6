//! Unit tests of the SQL this crate builds and of the scrubbing of error texts.

use crate::RotationError;
use crate::error::scrub;
use crate::rotate::quote_ident;

#[test]
fn quote_ident_doubles_inner_quotes() {
    assert_eq!(quote_ident("app"), "\"app\"");
    assert_eq!(quote_ident("App"), "\"App\"");
    assert_eq!(quote_ident("app\"user"), "\"app\"\"user\"");
    assert_eq!(quote_ident("\"; DROP ROLE x; --"), "\"\"\"; DROP ROLE x; --\"");
    assert_eq!(quote_ident("a'b"), "\"a'b\"");
}

#[test]
fn verifier_has_no_quote_and_no_clear_password() {
    let v = postgres_protocol::password::scram_sha_256(b"it's a 'pass'word");
    assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
    assert!(!v.contains('\''), "{v}");
    assert!(!v.contains("pass"), "{v}");
}

#[test]
fn scrub_replaces_every_secret() {
    assert_eq!(scrub("a hunter2 b hunter2", &["hunter2", ""]), "a *** b ***");
    assert_eq!(scrub("nothing here", &["hunter2"]), "nothing here");
}

#[test]
fn may_have_changed_only_when_the_outcome_is_unknown() {
    let r = || "r".to_string();
    assert!(RotationError::Interrupted { reason: r() }.may_have_changed());
    assert!(RotationError::VerifyFailed { rolled_back: false, reason: r() }.may_have_changed());
    for e in [
        RotationError::VerifyFailed { rolled_back: true, reason: r() },
        RotationError::Unreachable { reason: r() },
        RotationError::AuthenticationFailed { account: "a".into(), reason: r() },
        RotationError::ChangeRefused { reason: r() },
        RotationError::BadTarget { reason: r() },
    ] {
        assert!(!e.may_have_changed(), "{e}");
    }
}
