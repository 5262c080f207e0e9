//! What an image's signatures must satisfy: any one of the authorities, the kind of content
//! wanted, the annotations and claims, and named requirements; the one insecure switch is
//! spelled out where it is used.

use std::collections::BTreeMap;

use crate::keys::PublicKey;
use crate::trust::certificate::IdentityPolicy;
use crate::trust::trusted_root::TrustedRoot;
use crate::verify::keyless::Requirements;

/// The policy one image is verified against.
#[derive(Debug, Clone)]
pub struct ImagePolicy {
    /// Any of these may vouch for a signature (at least one is needed).
    pub authorities: Vec<Authority>,
    /// What counts: an image signature, or an attestation.
    pub wanted: Wanted,
    /// `-a key=value`: annotations a signature must carry (checked with `check_claims`).
    pub annotations: BTreeMap<String, String>,
    /// cosign's `--check-claims`: a legacy payload must name the image and carry the
    /// annotations. (A bundle's statement must name the image whatever this says.)
    pub check_claims: bool,
}

/// Who may vouch for a signature.
#[derive(Debug, Clone)]
pub enum Authority {
    /// A public key (`--key`).
    Key(KeyAuthority),
    /// A Fulcio certificate chaining to a trusted root, naming one of the identities.
    Keyless(KeylessAuthority),
}

#[derive(Debug, Clone)]
pub struct KeyAuthority {
    pub key: PublicKey,
    /// How the transparency log is treated.
    pub transparency_log: KeyTransparencyLog,
}

/// A key's signatures and the transparency log: checking a key-signed image's log entries
/// against a trusted root is not offered yet, so the only way is to skip it, said out loud
/// (cosign's `--insecure-ignore-tlog`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransparencyLog {
    /// The signature is trusted without any log entry: an insecure practice, chosen by name.
    InsecureIgnored,
}

#[derive(Debug, Clone)]
pub struct KeylessAuthority {
    pub trusted_root: TrustedRoot,
    /// The certificate must name one of these (subject, issuer, GitHub claims).
    pub identities: Vec<IdentityPolicy>,
    /// Named requirements: the embedded SCT, a number of verified RFC 3161 timestamps, the
    /// transparency log.
    pub requirements: Requirements,
    /// cosign's `--certificate`: the certificate the signatures must have been made with
    /// (checked against the trusted root and identities like any other); a signature that
    /// carries another certificate does not count.
    pub certificate: Option<Box<crate::trust::certificate::Certificate>>,
}

/// What a verified signature must be to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// An image signature: a legacy `.sig` layer, or a bundle whose statement has cosign's
    /// signature predicate (`https://sigstore.dev/cosign/sign/v1`).
    Signature,
    /// An attestation in a bundle: a statement with another predicate type, this one if given.
    /// (An attestation of another type never counts.)
    Attestation { predicate_type: Option<String> },
}
