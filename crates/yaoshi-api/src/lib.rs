//! The HTTP surface of Yaoshi: the Alibaba Cloud KMS 2016-01-20 RPC protocol.
//!
//! A request goes (`server.rs`): parse parameters (`params.rs`, query and form body together) →
//! authenticate (`auth.rs`: RPC v1 HMAC-SHA1 or ACS3-HMAC-SHA256, timestamp window, nonce replay
//! with `nonces.rs`) → look the action up in the one action table (`actions/mod.rs`) → check the
//! credential's access-point policies (`access.rs`) → run its
//! handler (`actions/<domain>.rs`: control-plane writes propose a command through Raft,
//! control-plane reads run after a linearizable barrier, data-plane operations use the local
//! replica and `material.rs`) → render JSON or XML (`server.rs`).
//!
//! Handlers share `state.rs` (`ApiState`), `context.rs` (who is calling) and `support.rs`
//! (proposing, resolving a `KeyId`, fresh reads, paging, dates).
//!
//! A request for another region of the deployment is forwarded there unchanged (`regions.rs`).
//!
//! Architecture invariant: only this crate knows Alibaba field names and JSON/XML shapes.

mod access;
mod actions;
mod auth;
pub mod clock;
mod context;
mod eop;
mod https;
mod limits;
mod listener;
mod material;
mod params;
mod policies;
mod regions;
mod server;
mod state;
mod support;
mod unwrapped;

pub use actions::{ACTIONS, Action, ActionInfo, Plane};
pub use clock::{Clock, SystemClock, TestClock};
pub use https::{Https, HttpsError};
pub use limits::ApiLimits;
pub use listener::serve;
pub use regions::PeerRegion;
pub use server::router;
pub use state::ApiState;
