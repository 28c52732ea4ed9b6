//! Rotation backends: the part of an `Rds` secret's rotation that talks to the real database, and
//! the operator's rotation hook that gives Generic secrets their next value ([`hook`]).
//!
//! A managed secret of `SecretType=Rds` holds `{"Accounts":[{"AccountName":…,"AccountPassword":…}]}`
//! and its ExtendedConfig names the database in `DBInstanceId`; for Yaoshi that is a PostgreSQL
//! address, parsed by [`PgTarget::parse`]. The scheduler generates the new password, stores it as
//! the pending version, then calls [`rotate_single_user`]; only when that returns `Ok` does it
//! switch the secret's stages. A leader resuming someone else's interrupted rotation asks
//! [`can_login`] which of the pending and the current password the database accepts.
//!
//! - [`target`]: [`PgTarget`], the parsed `DBInstanceId`.
//! - [`error`]: [`RotationError`]; its texts never hold a password.
//! - [`rotate`]: [`rotate_single_user`] and [`can_login`].
//! - [`hook`]: [`RotationHook`], a program that prints a Generic secret's next value.
//! - `testing` (cargo feature `test-support`): `TempPostgres`, a throwaway PostgreSQL server
//!   for tests of this and other crates, and a rotation whose verify step can be forced to fail.
//!
//! Connections are plain TCP (tokio-postgres with `NoTls`): there is no TLS support yet, so a
//! target asking for `sslmode=require` (or stricter) is refused rather than silently downgraded,
//! and rotation should only be pointed at databases reached over a trusted network. Logins use
//! whatever the server asks for (SCRAM-SHA-256 normally, which never sends the password itself).
//! The new password never appears in SQL: `ALTER ROLE` carries a SCRAM-SHA-256 verifier computed
//! here, so server statement logs and `pg_stat_activity` never show it.

pub mod error;
pub mod hook;
pub mod rotate;
pub mod target;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::RotationError;
pub use hook::{HookError, RotationHook};
pub use rotate::{can_login, rotate_single_user};
pub use target::PgTarget;

#[cfg(test)]
mod hook_test;
#[cfg(test)]
mod rotate_test;
#[cfg(test)]
mod target_test;
