//! Trust material and the checks made against it: X.509 certificates (chains to a trusted CA,
//! embedded SCTs, identities), transparency log entries and checkpoints, RFC 3161 timestamps,
//! and the trusted root that names the services to believe.

pub mod certificate;
pub mod timestamp;
pub mod transparency_log;
pub mod trusted_root;
