//! Who signs a run of `sign` or `attest`: a key (decrypted once, with the certificate the
//! signer brought for it, if any), or a keyless signer (an ephemeral key with its Fulcio
//! certificate, whose signatures are timestamped and logged). One signer serves every image of
//! the run.

use cosign_core::bundle::{Bundle, Envelope};
use cosign_core::keys::PrivateKey;
use cosign_core::Digest;

use crate::args::{SigningCertificateArgs, SigningServicesArgs};
use crate::error::CliError;
use crate::keyless::KeylessSigner;
use crate::signing_certificate::SigningCertificate;

pub enum Signer {
    Key {
        key: Box<PrivateKey>,
        /// `--certificate` (and `--certificate-chain`), checked against the key.
        certificate: Option<Box<SigningCertificate>>,
    },
    Keyless(Box<KeylessSigner>),
}

/// What the command line says about signing, for [`Signer::choose`].
pub struct Choice<'a> {
    /// `--key`.
    pub key: Option<&'a str>,
    pub services: &'a SigningServicesArgs,
    pub certificate: &'a SigningCertificateArgs,
    pub use_signing_config: bool,
    pub tlog_upload: bool,
    /// `-y`: agreed to the privacy statement without being asked.
    pub yes: bool,
    /// `--new-bundle-format=false` where the command cannot sign it keyless (`attest`: its
    /// legacy `.att` layers carry no certificate yet).
    pub refuse_keyless_legacy: bool,
    /// What the command does ("sign", "attest"), for messages.
    pub verb: &'a str,
    /// Where a key that does not decrypt is reported, in cosign's words.
    pub key_context: &'a str,
}

impl Signer {
    /// The key of `--key`, or without it a keyless signer (its certificate asked and verified
    /// now), with the refusals of flags that do not go together.
    pub async fn choose(choice: Choice<'_>) -> Result<Self, CliError> {
        let Some(key_reference) = choice.key else {
            crate::signing_certificate::refuse_without_key(choice.certificate)?;
            if choice.refuse_keyless_legacy {
                return Err(CliError::not_supported(
                    &format!(
                        "keyless {} in the legacy format (--new-bundle-format=false)",
                        choice.verb
                    ),
                    &format!(
                        "{} keyless in cosign 3's bundle format (the default), or with --key",
                        choice.verb
                    ),
                ));
            }
            let signer = KeylessSigner::start(
                choice.services,
                choice.use_signing_config,
                choice.tlog_upload,
                None,
                choice.yes,
            )
            .await?;
            return Ok(Self::Keyless(Box::new(signer)));
        };
        if choice.services.issue_certificate {
            // cosign's --issue-certificate: Fulcio certifies the key, which then signs as a
            // keyless signer would (timestamped and logged as the signing config says).
            crate::signing_certificate::refuse_with_issued(choice.certificate)?;
            let key = crate::key_files::decrypt_key_reference(key_reference, choice.key_context)?;
            let signer = KeylessSigner::start(
                choice.services,
                choice.use_signing_config,
                choice.tlog_upload,
                Some(key),
                choice.yes,
            )
            .await?;
            return Ok(Self::Keyless(Box::new(signer)));
        }
        if choice.services.identity_token.is_some() || choice.services.signing_config.is_some() {
            return Err(CliError::usage(
                "--identity-token and --signing-config are for keyless signing: drop --key, or drop them",
            ));
        }
        if choice.tlog_upload {
            return Err(crate::trust::refuse_tlog_upload(choice.verb));
        }
        crate::trust::check_signing_trusted_root(choice.services)?;
        let key = crate::key_files::decrypt_key_reference(key_reference, choice.key_context)?;
        let certificate = SigningCertificate::load(choice.certificate, &key)?.map(Box::new);
        Ok(Self::Key {
            key: Box::new(key),
            certificate,
        })
    }

    /// The key that signs.
    pub fn key(&self) -> &PrivateKey {
        match self {
            Self::Key { key, .. } => key,
            Self::Keyless(signer) => signer.key(),
        }
    }

    /// The signing certificate, PEM: the keyless signer's, or the one brought for the key.
    pub fn certificate_pem(&self) -> Option<String> {
        match self {
            Self::Key { certificate, .. } => certificate
                .as_ref()
                .map(|certificate| certificate.leaf_pem()),
            Self::Keyless(signer) => Some(signer.leaf_pem()),
        }
    }

    /// What cosign's legacy blob bundle carries in its `cert` field: the signing certificate's
    /// PEM, else the public key's.
    pub fn legacy_bundle_cert(&self) -> Result<String, CliError> {
        match self.certificate_pem() {
            Some(pem) => Ok(pem),
            None => Ok(self.key().public_key().to_pem()?),
        }
    }

    /// A legacy `.att` layer signed with a key and its certificate carries the certificate
    /// and chain annotations, as cosign writes them.
    pub fn annotate_attestation_layer(&self, layer: &mut cosign_core::Descriptor) {
        use cosign_core::image::legacy_signature::{CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION};
        if let Self::Key {
            certificate: Some(certificate),
            ..
        } = self
        {
            let annotations = layer.annotations.get_or_insert_with(Default::default);
            annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), certificate.leaf_pem());
            annotations.insert(CHAIN_ANNOTATION.to_owned(), certificate.chain_pem());
        }
    }

    /// The legacy `.sig` layer of `payload` signed by this signer (`signature`): keyless, the
    /// signature is timestamped and logged first (the legacy format carries Rekor v1's signed
    /// entry timestamp, so it needs a Rekor v1 log), and the layer carries the certificate,
    /// chain, Rekor bundle and timestamp annotations.
    pub async fn legacy_layer(
        &self,
        payload: &[u8],
        signature: &[u8],
    ) -> Result<cosign_core::Descriptor, CliError> {
        use cosign_core::image::legacy_signature::{self, KeylessAnnotations, RekorBundle};
        let signer = match self {
            Self::Key {
                certificate: None, ..
            } => return Ok(legacy_signature::signature_layer(payload, signature)),
            Self::Key {
                certificate: Some(certificate),
                ..
            } => {
                let annotations = KeylessAnnotations {
                    certificate_pem: certificate.leaf_pem(),
                    chain_pem: certificate.chain_pem(),
                    rekor_bundle: None,
                    timestamp: None,
                };
                return Ok(legacy_signature::keyless_signature_layer(
                    payload,
                    signature,
                    &annotations,
                ));
            }
            Self::Keyless(signer) => signer,
        };
        let digest = Digest::sha256(payload);
        let bundle = cosign_services::rekor::message_bundle(&digest, signature)
            .with_certificate(signer.leaf().der().to_vec());
        let bundle = signer.complete(bundle, &digest).await?;
        let material = &bundle.verification_material;
        let rekor_bundle = match material.tlog_entries.first() {
            None => None,
            Some(entry) => Some(RekorBundle::annotation(entry).ok_or_else(|| {
                CliError::new(
                    "the legacy .sig format carries a Rekor v1 entry's signed entry timestamp, and Rekor v2 entries have none",
                )
                .with_hint("sign in the bundle format (drop --new-bundle-format=false), or log to a Rekor v1 instance")
            })?),
        };
        let keyless = KeylessAnnotations {
            certificate_pem: signer.leaf_pem(),
            chain_pem: signer
                .chain
                .chain
                .iter()
                .map(cosign_core::trust::certificate::Certificate::to_pem)
                .collect(),
            rekor_bundle,
            timestamp: material
                .timestamp_verification_data
                .as_ref()
                .and_then(|data| data.rfc3161_timestamps.first())
                .map(|timestamp| timestamp.signed_timestamp.clone()),
        };
        Ok(legacy_signature::keyless_signature_layer(
            payload, signature, &keyless,
        ))
    }

    /// The bundle of `envelope` signed by this signer, complete (keyless: with its
    /// certificate, timestamps and log entries; `subject` is the signed image's digest).
    pub async fn envelope_bundle(
        &self,
        envelope: Envelope,
        subject: &Digest,
    ) -> Result<Bundle, CliError> {
        let bundle = Bundle::for_envelope(&self.key().public_key(), envelope)?;
        match self {
            Self::Key {
                certificate: None, ..
            } => Ok(bundle),
            Self::Key {
                certificate: Some(certificate),
                ..
            } => Ok(bundle.with_certificate(certificate.leaf.der().to_vec())),
            Self::Keyless(signer) => {
                let bundle = bundle.with_certificate(signer.leaf().der().to_vec());
                signer.complete(bundle, subject).await
            }
        }
    }
}

/// `--rekor-entry-type` of `attest` and `attest-blob`: keyless attestations are logged as
/// `dsse` entries (cosign's default); `intoto` is refused.
pub fn check_rekor_entry_type(value: &str) -> Result<(), CliError> {
    match value {
        "dsse" => Ok(()),
        "intoto" => Err(CliError::not_supported(
            "--rekor-entry-type intoto",
            "log attestations as dsse entries (the default)",
        )),
        _ => Err(CliError::new("unknown value for rekor-entry-type")),
    }
}

/// The first RFC 3161 timestamp of `bundle`, as cosign writes it to a file
/// (`{"SignedRFC3161Timestamp":"<base64>"}`).
pub fn timestamp_file(bundle: &Bundle) -> Option<String> {
    bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .and_then(|data| data.rfc3161_timestamps.first())
        .map(|timestamp| {
            cosign_core::image::legacy_signature::timestamp_annotation(&timestamp.signed_timestamp)
        })
}
