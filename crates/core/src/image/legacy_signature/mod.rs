//! cosign's legacy signature format: a signature image tagged `sha256-<hex>.sig` in the
//! image's repository, one layer per signature (the simple-signing payload), the signature in
//! the layer's `dev.cosignproject.cosign/signature` annotation. Building it (as ggcr's
//! `mutate.Append` over an empty image would: `build`), verifying one layer against a key
//! (`check`), and reading a certificate-signed layer as a bundle (`keyless`).

use crate::digest::Digest;

mod build;
mod check;
mod keyless;

pub use build::{
    append_signature, attestation_layer, is_same_signature, keyless_signature_layer,
    signature_config, signature_layer, AppendError, KeylessAnnotations, ManifestFlavor,
    SignatureImage, PREDICATE_TYPE_ANNOTATION,
};
pub use check::{
    check_payload_claims, verify_layer, AnnotationError, LayerCheck, LayerVerificationError,
};
pub use keyless::{keyless_bundle, timestamp_annotation, RekorBundle};

pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const RFC3161_TIMESTAMP_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";

/// The tag holding the signatures of `digest`: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &Digest) -> String {
    Attachment::Signatures.tag(digest)
}

/// The images cosign attaches to an image under tags derived from its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// `sha256-<hex>.sig`
    Signatures,
    /// `sha256-<hex>.att`
    Attestations,
    /// `sha256-<hex>.sbom`
    Sboms,
}

impl Attachment {
    pub const ALL: [Attachment; 3] = [Self::Signatures, Self::Attestations, Self::Sboms];

    /// The tag suffix, as `copy --only` names it too.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Signatures => "sig",
            Self::Attestations => "att",
            Self::Sboms => "sbom",
        }
    }

    pub fn tag(self, digest: &Digest) -> String {
        format!("{}.{}", digest.tag_form(), self.suffix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::image::manifest::{media_types, Descriptor, LAYER_COUNT_LIMIT};
    use crate::image::simple_signing::payload;
    use crate::keys::PrivateKey;

    #[test]
    fn config_matches_what_cosign_pushed() {
        // Captured from a registry after real cosign 2.5 signed once.
        let expected = r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"]},"config":{}}"#;
        let layer = Descriptor {
            media_type: media_types::SIMPLE_SIGNING.to_owned(),
            size: 240,
            digest: "sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"
                .parse()
                .expect("digest"),
            urls: None,
            annotations: None,
            platform: None,
            artifact_type: None,
        };
        assert_eq!(signature_config(&[layer]), expected.as_bytes());
        assert_eq!(
            Digest::sha256(expected.as_bytes()).to_string(),
            "sha256:1c122a7c2e587157569bd5c2a533c99c9e46177aad5a98ef13df3b2bc8f85bdd"
        );
    }

    fn signed(
        key: &PrivateKey,
        digest: &Digest,
        annotations: &BTreeMap<String, String>,
    ) -> (Vec<u8>, Descriptor) {
        let body = payload("reg/repo", digest, annotations);
        let signature = key.sign(&body).expect("signs");
        let layer = signature_layer(&body, &signature);
        (body, layer)
    }

    #[test]
    fn appends_without_duplicates_and_verifies() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let digest = Digest::sha256(b"image");
        let (body, layer) = signed(&key, &digest, &BTreeMap::new());
        let public = key.public_key();
        let first = append_signature(None, layer.clone(), ManifestFlavor::Oci, |_| false)
            .expect("appends")
            .expect("new");
        assert_eq!(first.manifest.layers.len(), 1);
        assert_eq!(
            first.manifest.media_type.as_deref(),
            Some(media_types::OCI_MANIFEST)
        );
        let again = append_signature(
            Some(&first.manifest),
            layer.clone(),
            ManifestFlavor::Oci,
            |candidate| is_same_signature(candidate, &layer, &body, &public),
        )
        .expect("appends");
        assert!(again.is_none(), "the same signature is not appended twice");

        let check = LayerCheck {
            key: &public,
            image_digest: &digest,
            annotations: None,
            check_claims: true,
        };
        verify_layer(&first.manifest.layers[0], &body, check).expect("verifies");
        // Another image's digest in the claim.
        let other = Digest::sha256(b"other image");
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                image_digest: &other,
                ..check
            },
        )
        .expect_err("mismatch");
        assert!(error
            .to_string()
            .starts_with("invalid or missing digest in claim: sha256:"));
        // Without claim checks, cosign accepts it (and so do we).
        verify_layer(
            &layer,
            &body,
            LayerCheck {
                image_digest: &other,
                check_claims: false,
                ..check
            },
        )
        .expect("unchecked");
        // Wrong key.
        let stranger = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng).public_key();
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                key: &stranger,
                ..check
            },
        )
        .expect_err("wrong key");
        assert_eq!(
            error.to_string(),
            "invalid signature when validating ASN.1 encoded signature"
        );
        // Annotations.
        let wanted: BTreeMap<String, String> = [("env".to_owned(), "prod".to_owned())]
            .into_iter()
            .collect();
        let error = verify_layer(
            &layer,
            &body,
            LayerCheck {
                annotations: Some(&wanted),
                ..check
            },
        )
        .expect_err("missing");
        assert_eq!(error.to_string(), "missing or incorrect annotation");
        // A payload swapped under the layer.
        let tampered = body
            .iter()
            .map(|b| if *b == b'r' { b'R' } else { *b })
            .collect::<Vec<_>>();
        assert!(matches!(
            verify_layer(&layer, &tampered, check),
            Err(LayerVerificationError::PayloadDigestMismatch { .. })
        ));
    }

    #[test]
    fn refuses_to_grow_past_the_layer_limit() {
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        let (_, layer) = signed(&key, &Digest::sha256(b"i"), &BTreeMap::new());
        let mut image = append_signature(None, layer.clone(), ManifestFlavor::Docker, |_| false)
            .expect("ok")
            .expect("new");
        assert_eq!(
            image.manifest.media_type.as_deref(),
            Some(media_types::DOCKER_MANIFEST)
        );
        image.manifest.layers = vec![layer.clone(); LAYER_COUNT_LIMIT];
        assert!(matches!(
            append_signature(Some(&image.manifest), layer, ManifestFlavor::Oci, |_| false),
            Err(AppendError::Full)
        ));
    }
}
