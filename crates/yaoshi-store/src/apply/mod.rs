//! Applying one command to the state, one module per domain, each a deterministic function of
//! (state, command) that fills a write batch and returns the command's response:
//!
//! - `keys.rs`: a key's lifecycle and settings;
//! - `material.rs`: BYOK import tokens and imported material;
//! - `aliases.rs`, `tags.rs`;
//! - `secrets.rs`: secrets, their versions and stages, deletion, rotation and purge;
//! - `certificates.rs`: certificates, their upload, status and deletion;
//! - `schedules.rs`: the leader's scheduled commands (purge, rotation, expiries);
//! - `credentials.rs`: the bootstrap credential;
//! - `nonces.rs`: the replay record of signed commands, which every command passes first.
//!
//! `state_machine.rs` (`apply_command`) runs the replay check and matches each command to its
//! domain's function. Adding a domain (secrets, certificates, replication…) is: a new
//! `<domain>.rs` here with one `pub(crate) fn` per command, its `mod` line below, and one arm per
//! command in that match. A domain module uses only its own items and the crate's shared modules —
//! `crate::rows` (typed row reads and writes, and rules several domains share, such as dropping
//! material), `crate::layout` (storage keys), `crate::rules` (pure rules the queries also need) —
//! never a sibling nor the state machine, so the modules form no import cycle.
//!
//! Determinism (docs/ARCHITECTURE.md, yaoshi-store): apply reads no clock, draws no randomness
//! and does no I/O besides RocksDB reads of the committed state and the entry's write batch; the
//! time it compares against is the proposer's, carried in the command.
//!
//! State-dependent rejections are `Ok(Err(ApiError))`: they change nothing but the nonce record
//! and the audit trail. Storage read failures are the outer `Err`.

pub(crate) mod aliases;
pub(crate) mod certificates;
pub(crate) mod credentials;
pub(crate) mod keys;
pub(crate) mod material;
pub(crate) mod nonces;
pub(crate) mod schedules;
pub(crate) mod secrets;
pub(crate) mod tags;
