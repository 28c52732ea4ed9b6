//! Unit tests of [`PgTarget::parse`]: the accepted forms, the defaults and every refusal.

use crate::{PgTarget, RotationError};

fn ok(s: &str) -> (String, u16, String) {
    let t = PgTarget::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    (t.host().to_string(), t.port(), t.dbname().to_string())
}

fn refused(s: &str) -> String {
    match PgTarget::parse(s) {
        Err(RotationError::BadTarget { reason }) => reason,
        other => panic!("{s:?} parsed as {other:?}"),
    }
}

fn owned(host: &str, port: u16, db: &str) -> (String, u16, String) {
    (host.to_string(), port, db.to_string())
}

#[test]
fn accepts_host_port_dbname() {
    assert_eq!(ok("db.internal:6432/app"), owned("db.internal", 6432, "app"));
    assert_eq!(ok("127.0.0.1:5433/postgres"), owned("127.0.0.1", 5433, "postgres"));
    assert_eq!(ok("  db:5432/app \n"), owned("db", 5432, "app"));
}

#[test]
fn accepts_postgres_urls() {
    assert_eq!(ok("postgres://db.internal:6432/app"), owned("db.internal", 6432, "app"));
    assert_eq!(ok("postgresql://db:1/app"), owned("db", 1, "app"));
    assert_eq!(ok("POSTGRES://db:1/app"), owned("db", 1, "app"));
    assert_eq!(ok("postgres://db/app?sslmode=disable"), owned("db", 5432, "app"));
    assert_eq!(ok("postgres://db/app?sslmode=prefer"), owned("db", 5432, "app"));
}

#[test]
fn port_defaults_to_5432() {
    assert_eq!(ok("db/app"), owned("db", 5432, "app"));
    assert_eq!(ok("postgres://db/app"), owned("db", 5432, "app"));
}

#[test]
fn accepts_bracketed_ipv6() {
    assert_eq!(ok("[::1]:5433/app"), owned("::1", 5433, "app"));
    assert_eq!(ok("postgres://[fe80::1]/app"), owned("fe80::1", 5432, "app"));
}

#[test]
fn display_round_trips() {
    for s in ["db.internal:6432/app", "[::1]:5433/app", "db/app"] {
        let t = PgTarget::parse(s).unwrap();
        assert_eq!(PgTarget::parse(&t.to_string()).unwrap(), t, "{s}");
    }
    assert_eq!(PgTarget::parse("db/app").unwrap().to_string(), "postgres://db:5432/app");
    assert_eq!(PgTarget::parse("[::1]/app").unwrap().to_string(), "postgres://[::1]:5432/app");
}

#[test]
fn refuses_credentials_without_repeating_them() {
    for s in [
        "postgres://app:Secret123@db:5432/app",
        "app:Secret123@db:5432/app",
        "postgres://app@db/app",
        "postgresql://:Secret123@db/app",
    ] {
        let reason = refused(s);
        assert!(reason.contains("credentials"), "{s}: {reason}");
        assert!(!reason.contains("Secret123"), "{s}: {reason}");
        let err = PgTarget::parse(s).unwrap_err();
        assert!(!err.to_string().contains("Secret123"), "{err}");
        assert!(!format!("{err:?}").contains("Secret123"), "{err:?}");
    }
}

#[test]
fn refuses_malformed_addresses() {
    for (s, why) in [
        ("", "empty"),
        ("   ", "empty"),
        ("db:5432", "no database"),
        ("db:5432/", "no database"),
        (":5432/app", "no host"),
        ("/app", "no host"),
        ("db:0/app", "port"),
        ("db:65536/app", "port"),
        ("db:+5432/app", "port"),
        ("db:abc/app", "port"),
        ("db:/app", "port"),
        ("db:5432/app/extra", "'/'"),
        ("db:5432/a%20b", "percent"),
        ("db one:5432/app", "whitespace"),
        ("db:5432/app\u{0}", "control"),
        ("db,db2:5432/app", "several hosts"),
        ("mysql://db:3306/app", "scheme"),
        ("[::1/app", "unclosed"),
        ("[db]:5432/app", "IPv6"),
        ("[::1]5432/app", "after ']'"),
        ("db$:5432/app", "characters"),
        ("db:5432/app#x", "fragment"),
        ("db/app?sslmode=require", "sslmode=require"),
        ("db/app?sslmode=verify-full", "sslmode=verify-full"),
        ("db/app?sslmode=bogus", "unknown sslmode"),
        ("db/app?user=app", "query parameter"),
        ("db/app?password=x", "query parameter"),
    ] {
        let reason = refused(s);
        assert!(reason.contains(why), "{s:?}: {reason:?} lacks {why:?}");
    }
}
