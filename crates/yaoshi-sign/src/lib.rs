//! Request signing canonicalization for Alibaba RPC v1, ACS3-HMAC-SHA256 and CTyun EOP.
//!
//! Plain functions over strings, shared by the server (to verify) and the test client (to sign),
//! so both sides build byte-identical strings to sign. The rules and worked vectors are in
//! docs/WIRE.md §4:
//!
//! - RPC v1 (HMAC-SHA1): [`rpc_v1_string_to_sign`], then [`rpc_v1_signature`].
//! - ACS3-HMAC-SHA256: [`parse_acs3_authorization`], [`acs3_canonical_request`],
//!   [`acs3_string_to_sign`], then [`acs3_signature`]; [`acs3_authorization`] does all of it on
//!   the client side.
//! - CTyun EOP: [`parse_eop_authorization`], [`eop_string_to_sign`], then [`eop_signature`];
//!   [`eop_authorization`] on the client side; [`eop_body_params`] reads the JSON body.
//! - [`parse_form`] decodes a query string or form body into those parameters.
//! - [`signatures_match`] compares a computed signature with the given one in constant time.
//!
//! Callers pass *decoded* parameter values (form-style: `+` is a space, `%XX` is UTF-8); this crate
//! re-encodes them with [`percent_encode`], never reusing the wire text.

mod acs3;
mod digest;
mod eop;
mod form;
mod percent;
mod rpc_v1;

pub use acs3::{
    ACS3_ALGORITHM, Acs3Authorization, ParseAuthorizationError, acs3_authorization,
    acs3_canonical_request, acs3_signature, acs3_string_to_sign, parse_acs3_authorization,
};
pub use digest::{sha256_hex, signatures_match};
pub use eop::{
    EOP_SIGNED_HEADERS, EopAuthorization, EopBodyError, ParseEopError, api_name, eop_authorization,
    eop_body_params, eop_name, eop_signature, eop_string_to_sign, parse_eop_authorization,
};
pub use form::parse_form;
pub use percent::percent_encode;
pub use rpc_v1::{rpc_v1_signature, rpc_v1_string_to_sign};

#[cfg(test)]
mod acs3_test;
#[cfg(test)]
mod digest_test;
#[cfg(test)]
mod eop_test;
#[cfg(test)]
mod form_test;
#[cfg(test)]
mod percent_test;
#[cfg(test)]
mod rpc_v1_test;
