//! Trust material and the checks made against it: X.509 certificates (chains to a trusted CA,
//! embedded SCTs, identities), transparency log entries and checkpoints, RFC 3161 timestamps,
//! and the trusted root that names the services to believe; and the log's side of Merkle trees
//! (roots, proofs, signed checkpoints) for the local Sigstore.

pub mod certificate;
pub mod merkle;
pub mod timestamp;
pub mod transparency_log;
pub mod trusted_root;
