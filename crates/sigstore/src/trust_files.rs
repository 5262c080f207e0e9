//! What a client needs to trust and use the stack, written to `--out` before the first request
//! is answered: `trusted_root.json` (the CA, the CT log, the Rekor v2 log, the TSA),
//! `signing_config.json` (v0.2: this instance's URLs), `trust_config.json` (the two together,
//! as sigstore-python's `--trust-config` takes them) and `ca.pem` (the CA's root). Each file is
//! written whole and renamed into place.

use std::path::Path;

use sha2::Digest as _;

use crate::{b64, Failure, Sigstore};

const OPERATOR: &str = "cosign-rs local sigstore";

fn public_key_der(key: &cosign_core::keys::PrivateKey) -> Result<Vec<u8>, Failure> {
    key.public_key()
        .to_der()
        .map_err(|error| Failure::Internal(error.to_string()))
}

pub(crate) fn trusted_root(sigstore: &Sigstore) -> Result<serde_json::Value, Failure> {
    let identity = &sigstore.identity;
    let since = cosign_core::trust::trusted_root::format_rfc3339(identity.created);
    let valid = serde_json::json!({"start": since});
    let ct_key = public_key_der(&identity.ct_key)?;
    let log_key = public_key_der(&identity.log_key)?;
    let certificates = |chain: &[&[u8]]| {
        chain
            .iter()
            .map(|der| serde_json::json!({"rawBytes": b64(der)}))
            .collect::<Vec<_>>()
    };
    let tsa_chain: Vec<&[u8]> = identity.tsa_chain.iter().map(Vec::as_slice).collect();
    Ok(serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": sigstore.base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(&log_key), "keyDetails": "PKIX_ED25519", "validFor": valid},
            "logId": {"keyId": b64(&sigstore.log.signer().log_id)},
        }],
        "certificateAuthorities": [{
            "subject": {"organization": OPERATOR, "commonName": "local Fulcio root"},
            "uri": sigstore.base_url,
            "certChain": {"certificates": certificates(&[&identity.ca.der])},
            "validFor": valid,
        }],
        "ctlogs": [{
            "baseUrl": sigstore.base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(&ct_key), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid},
            "logId": {"keyId": b64(&sha2::Sha256::digest(&ct_key))},
        }],
        "timestampAuthorities": [{
            "subject": {"organization": OPERATOR, "commonName": "local TSA timestamping"},
            "uri": format!("{}/api/v1/timestamp", sigstore.base_url),
            "certChain": {"certificates": certificates(&tsa_chain)},
            "validFor": valid,
        }],
    }))
}

pub(crate) fn signing_config(sigstore: &Sigstore) -> serde_json::Value {
    let since = cosign_core::trust::trusted_root::format_rfc3339(sigstore.identity.created);
    let service = |url: String, version: u32| {
        serde_json::json!({
            "url": url,
            "majorApiVersion": version,
            "validFor": {"start": since},
            "operator": OPERATOR,
        })
    };
    serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [service(sigstore.base_url.clone(), 1)],
        "oidcUrls": [service(sigstore.issuer.url.clone(), 1)],
        "rekorTlogUrls": [service(sigstore.base_url.clone(), 2)],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [service(format!("{}/api/v1/timestamp", sigstore.base_url), 1)],
        "tsaConfig": {"selector": "ANY"},
    })
}

fn write_file(directory: &Path, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    let path = directory.join(name);
    let scratch = directory.join(format!(".{name}.partial"));
    std::fs::write(&scratch, bytes)
        .and_then(|()| std::fs::rename(&scratch, &path))
        .map_err(|error| Failure::Internal(format!("writing {}: {error}", path.display())))
}

pub(crate) fn write(sigstore: &Sigstore, out: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(out)
        .map_err(|error| Failure::Internal(format!("creating {}: {error}", out.display())))?;
    let root = trusted_root(sigstore)?;
    let config = signing_config(sigstore);
    let pretty = |value: &serde_json::Value| {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        text
    };
    write_file(out, "trusted_root.json", pretty(&root).as_bytes())?;
    write_file(out, "signing_config.json", pretty(&config).as_bytes())?;
    let trust_config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": config,
    });
    write_file(out, "trust_config.json", pretty(&trust_config).as_bytes())?;
    write_file(
        out,
        "ca.pem",
        crate::pem(&sigstore.identity.ca.der).as_bytes(),
    )
}
