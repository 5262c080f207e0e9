//! cosign-services: the network half of keyless signing, one module per Sigstore service.
//! Each client builds its request with `cosign-core`, sends it with bounded retries and a
//! bounded answer, and verifies the answer with `cosign-core` before handing it back: nothing
//! unverified reaches a bundle.

pub mod buildkite;
pub mod fulcio;
pub mod github_actions;
pub mod http;
pub mod oidc;
pub mod rekor;
pub mod timestamp;
pub mod tuf;

pub use http::client;
