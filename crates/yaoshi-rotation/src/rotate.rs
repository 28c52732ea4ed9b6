//! [`rotate_single_user`] and [`can_login`]: the database side of a SingleUser rotation.
//!
//! Every network step is bounded by [`TIMEOUT`] (connect including authentication, each
//! statement on the client side, and `statement_timeout` on the server side), so nothing waits
//! on a stuck server. Connections are plain TCP (`NoTls`).

use std::time::Duration;

use postgres_protocol::password;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

use crate::error::scrub;
use crate::{PgTarget, RotationError};

/// The bound on each network step: a connection with its authentication, or one statement.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `application_name` of every connection (visible in the server's `pg_stat_activity`).
const APPLICATION_NAME: &str = "yaoshi-rotation";

/// SingleUser rotation: connect as `account` with `current`, set the role's password to `new`,
/// verify a fresh connection with `new` works (`SELECT 1`), and if verification fails set it
/// back to `current` over the still-open first connection and return an error.
///
/// The role changes its own password (`ALTER ROLE "<account>" PASSWORD '<verifier>'`), which
/// PostgreSQL allows any role with LOGIN; no administrator account is involved. The statement
/// carries a SCRAM-SHA-256 verifier computed here with a fresh random salt, never `new` in
/// clear, so server statement logs do not hold the password.
///
/// Errors (see [`RotationError`] for which leave the password unchanged):
/// [`AuthenticationFailed`](RotationError::AuthenticationFailed) when `current` does not log in,
/// [`Unreachable`](RotationError::Unreachable), [`BadTarget`](RotationError::BadTarget) for an
/// empty account or a database the server does not have,
/// [`ChangeRefused`](RotationError::ChangeRefused) when the server refuses the change or `new` is
/// empty or holds a NUL byte, [`VerifyFailed`](RotationError::VerifyFailed), and
/// [`Interrupted`](RotationError::Interrupted) when the connection broke during the change.
///
/// Must be called within a Tokio runtime (the connections' I/O tasks are spawned on it).
pub async fn rotate_single_user(
    target: &PgTarget,
    account: &str,
    current: &str,
    new: &str,
) -> Result<(), RotationError> {
    rotate_verifying_with(target, account, current, new, new).await
}

/// Whether `account` can log in with `password` now (`Ok(false)` for an authentication failure,
/// `Err` for an unreachable server).
///
/// "Log in" means: the server accepts the password and the session answers `SELECT 1`. A role
/// that does not exist, has no LOGIN or is refused by the server's `pg_hba.conf` counts as an
/// authentication failure, as PostgreSQL reports them alike. A database the server does not have
/// is [`BadTarget`](RotationError::BadTarget).
pub async fn can_login(
    target: &PgTarget,
    account: &str,
    password: &str,
) -> Result<bool, RotationError> {
    check_account(account)?;
    let secrets = [password];
    let client = match login(target, account, password, &secrets).await {
        Ok(client) => client,
        Err(LoginError::Auth(_)) => return Ok(false),
        Err(LoginError::Other(e)) => return Err(e),
    };
    select_one(&client, &secrets)
        .await
        .map(|()| true)
        .map_err(|reason| RotationError::Unreachable { reason })
}

/// [`rotate_single_user`] whose verify step logs in with `verify_password` instead of `new`:
/// `verify_password != new` makes verification fail for real, to exercise the roll back.
pub(crate) async fn rotate_verifying_with(
    target: &PgTarget,
    account: &str,
    current: &str,
    new: &str,
    verify_password: &str,
) -> Result<(), RotationError> {
    check_account(account)?;
    check_new_password(new)?;
    let secrets = [current, new, verify_password];

    let client = login(target, account, current, &secrets).await.map_err(|e| match e {
        LoginError::Auth(reason) => {
            RotationError::AuthenticationFailed { account: account.to_string(), reason }
        }
        LoginError::Other(e) => e,
    })?;
    // A server-side bound too, so a statement stuck on a lock is cancelled (and so not applied)
    // rather than left running after the client gave up.
    let limit = format!("SET statement_timeout = {}", TIMEOUT.as_millis());
    execute(&client, &limit, &secrets).await.map_err(|e| match e {
        StatementError::Refused(reason) => RotationError::ChangeRefused { reason },
        StatementError::Lost(reason) => RotationError::Unreachable { reason },
    })?;

    let verifier = password::scram_sha_256(new.as_bytes());
    execute(&client, &alter_role_sql(account, &verifier), &secrets).await.map_err(|e| match e {
        StatementError::Refused(reason) => RotationError::ChangeRefused { reason },
        StatementError::Lost(reason) => RotationError::Interrupted { reason },
    })?;

    let verified = match login(target, account, verify_password, &secrets).await {
        Ok(fresh) => select_one(&fresh, &secrets).await,
        Err(LoginError::Auth(reason)) => Err(format!("login with the new password: {reason}")),
        Err(LoginError::Other(e)) => Err(format!("login with the new password: {e}")),
    };
    let Err(verify_reason) = verified else {
        return Ok(());
    };

    let verifier = password::scram_sha_256(current.as_bytes());
    match execute(&client, &alter_role_sql(account, &verifier), &secrets).await {
        Ok(()) => Err(RotationError::VerifyFailed { rolled_back: true, reason: verify_reason }),
        Err(StatementError::Refused(e) | StatementError::Lost(e)) => {
            Err(RotationError::VerifyFailed {
                rolled_back: false,
                reason: format!("{verify_reason}; restoring the current password: {e}"),
            })
        }
    }
}

/// `ALTER ROLE "<account>" PASSWORD '<verifier>'`. The verifier (`SCRAM-SHA-256$…`, base64 and
/// punctuation) never contains a quote.
fn alter_role_sql(account: &str, verifier: &str) -> String {
    debug_assert!(!verifier.contains('\''));
    format!("ALTER ROLE {} PASSWORD '{verifier}'", quote_ident(account))
}

/// `name` as a PostgreSQL quoted identifier: in double quotes, inner double quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn check_account(account: &str) -> Result<(), RotationError> {
    if account.is_empty() {
        return Err(RotationError::BadTarget { reason: "the account name is empty".into() });
    }
    if account.contains('\0') {
        return Err(RotationError::BadTarget {
            reason: "the account name contains a NUL byte".into(),
        });
    }
    Ok(())
}

fn check_new_password(new: &str) -> Result<(), RotationError> {
    if new.is_empty() {
        return Err(RotationError::ChangeRefused { reason: "the new password is empty".into() });
    }
    if new.contains('\0') {
        return Err(RotationError::ChangeRefused {
            reason: "the new password contains a NUL byte".into(),
        });
    }
    Ok(())
}

/// Why a login failed.
enum LoginError {
    /// The server refused the credentials (SQLSTATE 28P01 or 28000); the server's message.
    Auth(String),
    /// Anything else, already classified.
    Other(RotationError),
}

/// A session as `account`, its connection driven by a spawned task (which ends when the returned
/// client is dropped).
async fn login(
    target: &PgTarget,
    account: &str,
    password: &str,
    secrets: &[&str],
) -> Result<Client, LoginError> {
    let mut config = Config::new();
    config
        .host(target.host())
        .port(target.port())
        .dbname(target.dbname())
        .user(account)
        .password(password)
        .application_name(APPLICATION_NAME)
        .ssl_mode(SslMode::Disable)
        .connect_timeout(TIMEOUT);
    let (client, connection) = match tokio::time::timeout(TIMEOUT, config.connect(NoTls)).await {
        Err(_) => {
            return Err(LoginError::Other(RotationError::Unreachable {
                reason: format!("no session with {target} within {} s", TIMEOUT.as_secs()),
            }));
        }
        Ok(Err(e)) => return Err(classify_login_error(&e, target, secrets)),
        Ok(Ok(pair)) => pair,
    };
    // The connection's errors surface on the client's next request; nothing to do with them here.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn classify_login_error(
    e: &tokio_postgres::Error,
    target: &PgTarget,
    secrets: &[&str],
) -> LoginError {
    let text = scrub(&describe(e), secrets);
    match e.code() {
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            LoginError::Auth(text)
        }
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
            LoginError::Other(RotationError::BadTarget { reason: text })
        }
        _ => LoginError::Other(RotationError::Unreachable { reason: format!("{target}: {text}") }),
    }
}

/// Why a statement failed.
enum StatementError {
    /// The server answered with an error: the statement was not applied.
    Refused(String),
    /// No answer (connection closed, I/O error, client-side timeout): it may have been applied.
    Lost(String),
}

/// Runs `sql` (simple query protocol, no parameters) within [`TIMEOUT`].
async fn execute(client: &Client, sql: &str, secrets: &[&str]) -> Result<(), StatementError> {
    match tokio::time::timeout(TIMEOUT, client.batch_execute(sql)).await {
        Err(_) => Err(StatementError::Lost(format!("no answer within {} s", TIMEOUT.as_secs()))),
        Ok(Err(e)) if e.as_db_error().is_some() => {
            Err(StatementError::Refused(scrub(&describe(&e), secrets)))
        }
        Ok(Err(e)) => Err(StatementError::Lost(scrub(&describe(&e), secrets))),
        Ok(Ok(())) => Ok(()),
    }
}

/// `SELECT 1` answers 1 within [`TIMEOUT`]; else why not.
async fn select_one(client: &Client, secrets: &[&str]) -> Result<(), String> {
    let messages = match tokio::time::timeout(TIMEOUT, client.simple_query("SELECT 1")).await {
        Err(_) => return Err(format!("SELECT 1: no answer within {} s", TIMEOUT.as_secs())),
        Ok(Err(e)) => return Err(format!("SELECT 1: {}", scrub(&describe(&e), secrets))),
        Ok(Ok(messages)) => messages,
    };
    let one = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    });
    match one.as_deref() {
        Some("1") => Ok(()),
        other => Err(format!("SELECT 1 answered {other:?}")),
    }
}

/// The error with its server fields: `SQLSTATE: message` for a server error, else the client
/// library's text with its sources.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({}): {}", db.severity(), db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
