//! The HTTP surface of Yaoshi: the Alibaba Cloud KMS 2016-01-20 RPC protocol.
//!
//! A request goes: parse parameters (query and form body together) → authenticate (RPC v1
//! HMAC-SHA1 or ACS3-HMAC-SHA256, timestamp window, nonce replay) → look the action up in the one
//! dispatch table → run its handler (control-plane writes through Raft, control-plane reads after a
//! linearizable barrier, data-plane operations on the local replica) → render JSON or XML.
//!
//! Architecture invariant: only this crate knows Alibaba field names and JSON/XML shapes.

mod actions;
mod auth;
pub mod clock;
mod context;
mod params;
mod render;
mod server;
mod unwrapped;

pub use actions::ACTIONS;
pub use clock::{Clock, SystemClock, TestClock};
pub use server::{ApiState, router};
