//! The change feed: after each applied entry the state machine announces which records it may have
//! changed, so caches (crypto workers) can re-read them instead of polling.

use yaoshi_model::{AccessKeyId, Command, KeyId};

/// A record an applied entry may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A key (its metadata or versions).
    Key(KeyId),
    /// An alias, by name.
    Alias(String),
    /// A credential.
    Credential(AccessKeyId),
    /// An access point, by name.
    AccessPoint(String),
    /// A secret (its metadata or versions), by name.
    Secret(String),
    /// A certificate, by id.
    Certificate(String),
    /// The whole state was replaced (snapshot installed): re-read everything.
    Reset,
}

/// One applied log entry and the records it may have changed (empty for blank and membership
/// entries, which only advance `index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The log index applied.
    pub index: u64,
    /// What to re-read.
    pub changes: Vec<Change>,
}

/// Buffered announcements per subscriber; a subscriber that falls further behind is told it
/// lagged and must re-read everything.
pub(crate) const FEED_CAPACITY: usize = 4096;

/// The records `command` may change, whether or not apply accepted it.
pub(crate) fn changes_of(command: &Command) -> Vec<Change> {
    let mut out = Vec::new();
    match command {
        Command::BootstrapCredential { credential } => {
            out.push(Change::Credential(credential.access_key_id.clone()));
        }
        Command::CreateCredential { credential } => {
            out.push(Change::Credential(credential.access_key_id.clone()));
        }
        Command::RotateCredential { access_key_id, .. }
        | Command::RevokeCredential { access_key_id }
        | Command::SetCredentialAccessPoint { access_key_id, .. } => {
            out.push(Change::Credential(access_key_id.clone()));
        }
        Command::PutAccessPoint { access_point } => {
            out.push(Change::AccessPoint(access_point.name.clone()));
        }
        Command::DeleteAccessPoint { name } => out.push(Change::AccessPoint(name.clone())),
        Command::CreateAlias { alias } => out.push(Change::Alias(alias.name.clone())),
        Command::UpdateAlias { name, .. } | Command::DeleteAlias { name } => {
            out.push(Change::Alias(name.clone()));
        }
        Command::PurgeKey { aliases, .. } => {
            out.extend(aliases.iter().cloned().map(Change::Alias));
        }
        Command::CreateSecret { new_key: Some(new_key), .. } => {
            out.push(Change::Key(new_key.0.key_id.clone()));
        }
        _ => {}
    }
    if let Some(id) = command.certificate_id() {
        out.push(Change::Certificate(id.to_string()));
    }
    if let Some(name) = command.secret_name() {
        out.push(Change::Secret(name.to_string()));
    }
    if let Some(key_id) = command.key_id() {
        out.push(Change::Key(key_id.clone()));
    }
    out
}
