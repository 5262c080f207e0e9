//! cosign-core: the pure, synchronous heart of cosign-rs.
//!
//! Bytes and parsed types in, results out: no network, no filesystem, no clock (the current
//! time, when a check needs it, is a parameter). Everything a registry, a bundle or a file hands
//! us is treated as hostile until checked, and every failure is a typed error.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod bundle_verification;
pub mod certificate;
pub mod der_limits;
pub mod digest;
pub mod dsse;
pub mod go_json;
pub mod in_toto;
pub mod keyless;
pub mod keys;
pub mod legacy_blob_bundle;
pub mod legacy_signature;
pub mod manifest;
pub mod pem;
pub mod reference;
pub mod referrer;
pub mod simple_signing;
pub mod time;
pub mod timestamp;
pub mod transparency_log;
pub mod trusted_root;
pub mod verify;

#[cfg(test)]
mod fuzz_properties;
