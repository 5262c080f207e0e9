//! cosign-core: the pure, synchronous heart of cosign-rs.
//!
//! Bytes and parsed types in, results out: no network, no filesystem, no clock (the current
//! time, when a check needs it, is a parameter). Everything a registry, a bundle or a file hands
//! us is treated as hostile until checked, and every failure is a typed error.
//!
//! Laid out by idea:
//! - [`image`]: references, manifests, simple-signing payloads, legacy `.sig` images, referrers;
//! - [`bundle`]: Sigstore bundles, DSSE, in-toto statements, cosign's legacy blob bundle;
//! - [`trust`]: trust material and the checks against it: certificates (chains, SCTs,
//!   identities), transparency logs, RFC 3161 timestamps, trusted roots;
//! - [`verify`]: verification: a bundle against a key or certificate, a keyless bundle end to
//!   end, and an image's signatures against a policy (the one path `verify` takes);
//! - [`keyless`]: identity tokens and Fulcio requests and answers (keyless signing);
//! - [`keys`], [`digest`], [`time`]; [`go_json`] writes JSON as Go does (cosign's bytes); PEM
//!   and the DER limits are internal.
#![forbid(unsafe_code)]

pub mod bundle;
pub(crate) mod der_limits;
pub mod digest;
pub mod go_json;
pub mod image;
pub mod keyless;
pub mod keys;
pub(crate) mod pem;
pub mod time;
pub mod trust;
pub mod verify;

pub use digest::Digest;
pub use image::manifest::{Descriptor, ImageIndex, ImageManifest};
pub use image::reference::ImageReference;
pub use keys::{PrivateKey, PublicKey};
pub use time::UnixTime;
pub use trust::trusted_root::TrustedRoot;
pub use verify::{verify_image, ImagePolicy, ImageVerification};

#[cfg(test)]
mod fuzz_properties;
