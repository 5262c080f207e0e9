//! Keyless signing's client side, the pure part: identity tokens and Fulcio's API (requests
//! built, answers parsed and checked). The network, the OIDC flows and the clock are the
//! callers'.

pub mod fulcio;
pub mod identity_token;

pub use identity_token::{IdentityToken, TokenError};
