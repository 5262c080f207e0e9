//! cosign-oci: talking to OCI registries (auth, manifests, blobs, uploads) and where cosign
//! keeps signatures in them.
#![forbid(unsafe_code)]

pub mod auth;
pub mod bundles;
pub mod candidates;
pub mod client;
pub mod error;
pub mod layout;
pub mod referrers;
pub mod signatures;
mod tls;
pub mod transfer;

pub use client::{Access, ClientOptions, RegistryClient, TlsOptions};
pub use error::RegistryError;
