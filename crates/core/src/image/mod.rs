//! Images and where cosign keeps their signatures: references, manifests and indexes, the
//! simple-signing payload, the legacy `.sig` signature image, OCI 1.1 referrers.

pub mod legacy_signature;
pub mod manifest;
pub mod reference;
pub mod referrer;
pub mod simple_signing;
