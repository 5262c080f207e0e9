//! A certificate the signer brings for its key (`--certificate`, `--certificate-chain` with
//! `--key`), checked as cosign checks it before anything is signed: the certificate (PEM or
//! DER) is for the key, and the chain (PEM, ending with the root) links it to its root at the
//! time it was issued, for code signing. The certificate then goes where a keyless signer's
//! would: in the bundle, in the legacy layer's annotations (with the chain), in
//! `--output-certificate`.

use std::path::Path;

use cosign_core::keys::PrivateKey;
use cosign_core::trust::certificate::{self, Certificate, SctRequirement};
use cosign_core::trust::trusted_root::{CertificateAuthority, TrustedRoot};

use crate::args::SigningCertificateArgs;
use crate::error::CliError;
use crate::key_files::read_limited_to;

/// Certificate and chain files are no larger than this.
const CERTIFICATE_FILE_LIMIT: u64 = 1024 * 1024;

/// A chain or CA file holds at most this many certificates (each link costs a signature
/// check, and chains are built over every pair).
pub const CERTIFICATE_COUNT_LIMIT: usize = 64;

#[derive(Debug, Clone)]
pub struct SigningCertificate {
    pub leaf: Certificate,
    /// From the leaf's issuer to the root; empty without `--certificate-chain`.
    pub chain: Vec<Certificate>,
}

impl SigningCertificate {
    /// The certificate of `args` for `key`, checked; `None` without `--certificate`.
    pub fn load(args: &SigningCertificateArgs, key: &PrivateKey) -> Result<Option<Self>, CliError> {
        let Some(path) = &args.certificate else {
            if args.certificate_chain.is_some() {
                return Err(CliError::new(
                    "no leaf certificate found or provided while specifying chain",
                )
                .with_hint("pass the signing certificate with --certificate"));
            }
            return Ok(None);
        };
        let leaf = certificate_file(path)?;
        if leaf.public_key() != &key.public_key() {
            return Err(CliError::new(
                "public key in certificate does not match the provided public key",
            )
            .with_hint(format!(
                "{} certifies another key than --key",
                path.display()
            )));
        }
        let chain = match &args.certificate_chain {
            None => Vec::new(),
            Some(path) => {
                let chain = chain_file(path)?;
                let chain: Vec<Certificate> = chain
                    .into_iter()
                    .filter(|certificate| certificate.der() != leaf.der())
                    .collect();
                verify_chain(&leaf, &chain)?;
                chain
            }
        };
        Ok(Some(Self { leaf, chain }))
    }

    pub fn leaf_pem(&self) -> String {
        self.leaf.to_pem()
    }

    /// The chain, PEM, as the legacy layer's chain annotation carries it.
    pub fn chain_pem(&self) -> String {
        self.chain.iter().map(Certificate::to_pem).collect()
    }
}

/// The refusal of `--certificate`/`--certificate-chain` without `--key`.
pub fn refuse_without_key(args: &SigningCertificateArgs) -> Result<(), CliError> {
    if args.certificate.is_some() || args.certificate_chain.is_some() {
        return Err(CliError::usage(
            "--certificate and --certificate-chain are for the certificate of --key; keyless signing gets its certificate from Fulcio",
        ));
    }
    Ok(())
}

/// `--issue-certificate` asks Fulcio for the key's certificate: a brought one is refused.
pub fn refuse_with_issued(args: &SigningCertificateArgs) -> Result<(), CliError> {
    if args.certificate.is_some() {
        return Err(CliError::usage(
            "--issue-certificate asks Fulcio for the certificate of --key: drop --certificate, or drop --issue-certificate",
        ));
    }
    Ok(())
}

/// A certificate file as cosign reads one: PEM, DER, or either in base64 (what
/// `sign-blob --output-certificate` writes).
pub fn certificate_file(path: &Path) -> Result<Certificate, CliError> {
    let bytes = read_limited_to(path, CERTIFICATE_FILE_LIMIT)?;
    parse_certificate(&bytes).map_err(|error| {
        CliError::new(format!(
            "parse x509 certificate {}: {error}",
            path.display()
        ))
    })
}

fn parse_certificate(bytes: &[u8]) -> Result<Certificate, certificate::CertificateError> {
    use base64::Engine as _;
    let trimmed = bytes.trim_ascii();
    if trimmed.starts_with(b"-----") {
        return Certificate::from_pem(trimmed);
    }
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(trimmed) {
        if decoded.starts_with(b"-----") {
            return Certificate::from_pem(&decoded);
        }
        if let Ok(certificate) = Certificate::from_der(&decoded) {
            return Ok(certificate);
        }
    }
    Certificate::from_der(bytes)
}

fn chain_file(path: &Path) -> Result<Vec<Certificate>, CliError> {
    let bytes = read_limited_to(path, CERTIFICATE_FILE_LIMIT)?;
    let chain = Certificate::all_from_pem(&bytes).map_err(|error| {
        CliError::new(format!(
            "loading certificate chain {}: {error}",
            path.display()
        ))
    })?;
    if chain.is_empty() {
        return Err(CliError::new("no certificates in certificate chain"));
    }
    if chain.len() > CERTIFICATE_COUNT_LIMIT {
        return Err(CliError::new(format!(
            "loading certificate chain {}: more than {CERTIFICATE_COUNT_LIMIT} certificates",
            path.display()
        )));
    }
    Ok(chain)
}

/// The leaf links through `chain` to its last certificate (the root), each certificate valid
/// and every issuer a CA when the leaf was issued, the leaf for code signing (cosign's
/// `TrustedCert`).
fn verify_chain(leaf: &Certificate, chain: &[Certificate]) -> Result<(), CliError> {
    let root = TrustedRoot {
        certificate_authorities: vec![CertificateAuthority::new(
            "--certificate-chain",
            chain.to_vec(),
            i64::MIN,
            None,
        )],
        ..TrustedRoot::default()
    };
    let issued = leaf.validity().0;
    certificate::verify_leaf_requiring(leaf, &root, &[issued], SctRequirement::InsecureIgnore)
        .map(|_| ())
        .map_err(|error| CliError::new(format!("unable to validate certificate chain: {error}")))
}
