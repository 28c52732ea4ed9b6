//! [`RotationError`]: why a rotation or login check failed, and whether the database's password
//! may have changed anyway.
//!
//! No text of an error holds a password: the reasons are written here or come from the server
//! (SQLSTATE and message) and the client library, and every reason built from a password-bearing
//! operation is scrubbed of the passwords involved before it is stored.

/// Why [`rotate_single_user`](crate::rotate_single_user) or [`can_login`](crate::can_login)
/// failed. Neither `Display` nor `Debug` ever contains a password.
///
/// After [`Unreachable`](Self::Unreachable), [`AuthenticationFailed`](Self::AuthenticationFailed),
/// [`ChangeRefused`](Self::ChangeRefused), [`BadTarget`](Self::BadTarget) and a
/// [`VerifyFailed`](Self::VerifyFailed) that rolled back, the database still has the current
/// password. After [`Interrupted`](Self::Interrupted) and a `VerifyFailed` that did not roll back
/// it may have either: ask [`can_login`](crate::can_login) with both
/// ([`may_have_changed`](Self::may_have_changed) says which case this is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// The server could not be reached or did not answer in time (connect, DNS, TLS refusal,
    /// timeout, server shutting down or out of connections). Nothing was changed.
    #[error("database unreachable: {reason}")]
    Unreachable {
        /// What failed, from the client library or the server.
        reason: String,
    },
    /// The server refused the login of `account` with the password given (the current one, for
    /// a rotation). Nothing was changed.
    #[error("authentication of account {account:?} failed: {reason}")]
    AuthenticationFailed {
        /// The account (role) name.
        account: String,
        /// The server's message (SQLSTATE and text).
        reason: String,
    },
    /// Logged in, but the server refused `ALTER ROLE … PASSWORD` (or the new password is not
    /// acceptable: empty, or containing a NUL byte). Nothing was changed.
    #[error("password change refused: {reason}")]
    ChangeRefused {
        /// The server's message, or which rule the new password broke.
        reason: String,
    },
    /// The password was changed, but a fresh login with the new password failed; the old
    /// password was then set back over the first connection, which succeeded when `rolled_back`.
    #[error("{}: {reason}", if *rolled_back {
        "new password did not verify; the current password was restored"
    } else {
        "new password did not verify and restoring the current password failed; the password in effect is unknown"
    })]
    VerifyFailed {
        /// Whether the current password was set back (the database is as before the rotation).
        rolled_back: bool,
        /// Why verification failed, and why the roll back failed when it did.
        reason: String,
    },
    /// The connection broke or timed out while `ALTER ROLE` was in flight: the server may or may
    /// not have applied the change.
    #[error(
        "connection lost while changing the password; the password in effect is unknown: {reason}"
    )]
    Interrupted {
        /// What failed, from the client library.
        reason: String,
    },
    /// The target or account cannot be used: an unparsable or refused `DBInstanceId`, a database
    /// the server does not have, or an empty account name.
    #[error("bad rotation target: {reason}")]
    BadTarget {
        /// What is wrong with it.
        reason: String,
    },
}

impl RotationError {
    /// Whether the database may now hold the new password: true for
    /// [`Interrupted`](Self::Interrupted) and a [`VerifyFailed`](Self::VerifyFailed) that did
    /// not roll back. When true, a caller must not discard the new password before
    /// [`can_login`](crate::can_login) has told which password is in effect.
    pub fn may_have_changed(&self) -> bool {
        matches!(
            self,
            RotationError::Interrupted { .. }
                | RotationError::VerifyFailed { rolled_back: false, .. }
        )
    }
}

/// `text` with every occurrence of each non-empty secret replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret) {
            out = out.replace(secret, "***");
        }
    }
    out
}
