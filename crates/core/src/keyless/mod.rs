//! Keyless signing's client side, the pure part: identity tokens, Fulcio's API (requests built,
//! answers parsed and checked), RFC 3161 timestamp requests, Rekor v1 and v2 entry requests and
//! v1 answers, and the signing config with its service selection. The network, the OIDC flows
//! and the clock are the callers'.

pub mod fulcio;
pub mod identity_token;
pub mod oidc;
pub mod rekor_request;
pub mod signing_config;
pub mod timestamp_request;

pub use identity_token::{IdentityToken, TokenError};
