//! `cosign bundle upgrade`: a v0.1 or v0.2 Sigstore bundle rewritten as v0.3, as cosign 3.1
//! does: the certificate chain cut to its leaf, the media type changed. A log entry with a
//! promise but no inclusion proof would need the proof fetched from Rekor: refused, offline.

use cosign_core::bundle::{self, Bundle, BUNDLE_SIZE_LIMIT};

use crate::args::BundleUpgradeArgs;
use crate::console::{self, Console};
use crate::error::CliError;
use crate::key_files::{read_limited_to, write_file};

pub fn run(args: &BundleUpgradeArgs, console: &mut Console) -> Result<(), CliError> {
    let bytes = read_limited_to(&args.bundle, BUNDLE_SIZE_LIMIT as u64)
        .map_err(|error| error.context("reading input file"))?;
    let upgraded = upgrade(&bytes).map_err(|error| error.context("upgrading bundle"))?;
    match &args.out {
        Some(path) => {
            write_file(path, &upgraded, 0o600)?;
            console::info(format_args!(
                "Successfully upgraded bundle written to {}",
                path.display()
            ));
            Ok(())
        }
        None => {
            let mut line = upgraded;
            line.push(b'\n');
            console.out(&line)
        }
    }
}

fn upgrade(bytes: &[u8]) -> Result<Vec<u8>, CliError> {
    let mut parsed = Bundle::parse(bytes)
        .map_err(|error| CliError::new(format!("unmarshaling bundle: {error}")))?;
    let material = &mut parsed.verification_material;
    if material.public_key.is_none()
        && material.certificate.is_none()
        && material.x509_certificate_chain.is_none()
    {
        return Err(CliError::new(
            "bundle verification material is missing content (public key or certificate)",
        ));
    }
    match parsed.media_type.as_str() {
        bundle::MEDIA_TYPE_V0_3 | bundle::MEDIA_TYPE_V0_3_LEGACY => {
            console::info("Bundle is already at v0.3, no upgrade needed.");
            return Ok(bytes.to_vec());
        }
        bundle::MEDIA_TYPE_V0_1 => console::info("Upgrading from v0.1 to v0.3..."),
        bundle::MEDIA_TYPE_V0_2 => console::info("Upgrading from v0.2 to v0.3..."),
        other => {
            return Err(CliError::new(format!(
                "unsupported bundle version: {other}"
            )))
        }
    }
    if let Some(chain) = material.x509_certificate_chain.take() {
        if let Some(leaf) = chain.certificates.first().cloned() {
            console::info("Truncating certificate chain to only the leaf certificate...");
            for (index, certificate) in chain.certificates.iter().enumerate() {
                match cosign_core::trust::certificate::Certificate::from_der(&certificate.raw_bytes)
                {
                    Ok(parsed) => {
                        let identity = parsed
                            .subject_alternative_names()
                            .into_iter()
                            .next()
                            .or_else(|| {
                                parsed
                                    .subject_attribute("2.5.4.3")
                                    .map(|cn| format!("CN={cn}"))
                            })
                            .unwrap_or_else(|| "<none>".to_owned());
                        console::info(format_args!("  Certificate {index} Identity: {identity}"));
                    }
                    Err(error) => console::info(format_args!(
                        "  Certificate {index}: <unable to parse: {error}>"
                    )),
                }
            }
            material.certificate = Some(leaf);
        }
    }
    if let Some(entry) = material
        .tlog_entries
        .iter()
        .find(|entry| entry.inclusion_promise.is_some() && entry.inclusion_proof.is_none())
    {
        return Err(CliError::new(format!(
            "the log entry at index {} has no inclusion proof, and fetching it from Rekor needs the network, which cosign-rs does not use",
            entry.log_index
        ))
        .with_hint("upgrade the bundle where Rekor is reachable (cosign 3.1's `bundle upgrade --rekor-url`)"));
    }
    parsed.media_type = bundle::MEDIA_TYPE_V0_3.to_owned();
    Ok(parsed.to_json())
}
