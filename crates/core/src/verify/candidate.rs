//! What is offered for verification, as bytes from any source (a registry, an OCI layout, a
//! test): legacy `.sig` layers with their payloads, and bundle referrers with their bundles;
//! either may be "could not be read", with why.

use crate::digest::Digest;
use crate::image::manifest::Descriptor;

/// One signature offered for an image.
#[derive(Debug, Clone)]
pub enum Candidate {
    /// A layer of the image's legacy signature image (`sha256-<hex>.sig`) and its payload.
    Legacy {
        layer: Box<Descriptor>,
        payload: Result<Vec<u8>, Unreadable>,
    },
    /// A Sigstore bundle attached as an OCI referrer: the referrer manifest's digest and the
    /// bundle.
    Bundle {
        manifest_digest: Digest,
        bundle: Result<Vec<u8>, Unreadable>,
    },
}

/// A candidate whose bytes could not be had: what the source said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Unreadable {
    pub reason: String,
}

impl Unreadable {
    pub fn new(reason: impl std::fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

/// Where a signature came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A legacy `.sig` layer (with its annotations: certificate, Rekor bundle, timestamps).
    LegacyLayer(Box<Descriptor>),
    /// A bundle referrer, by its manifest digest.
    Referrer(Digest),
}

impl Candidate {
    pub fn origin(&self) -> Origin {
        match self {
            Self::Legacy { layer, .. } => Origin::LegacyLayer(layer.clone()),
            Self::Bundle {
                manifest_digest, ..
            } => Origin::Referrer(manifest_digest.clone()),
        }
    }
}
