//! A `TrustRoot`'s `sigstoreKeys` (policy-controller's own form: PEM certificate chains and
//! keys, base64-encoded) as the trusted root the shared verifier takes: the certificate
//! authorities (Fulcio), the transparency logs (Rekor), the CT logs and the timestamp
//! authorities, each log named by the SHA-256 of its key, every key valid at any time (the
//! resource carries no validity).

use base64::Engine as _;
use cosign_core::keys::PublicKey;
use cosign_core::trust::certificate::Certificate;
use cosign_core::trust::trusted_root::TrustedRoot;
use sha2::Digest as _;

use crate::load::TrustRoot;

const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
const ALWAYS: &str = "1970-01-01T00:00:00Z";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A `[]byte` field of the resource: base64 in JSON, PEM inside.
fn pem_field(value: &serde_json::Value, what: &str) -> Result<Vec<u8>, String> {
    let text = value.as_str().ok_or_else(|| format!("{what} is missing"))?;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| format!("{what} is not base64"))
}

fn authorities(keys: &serde_json::Value, field: &str) -> Result<Vec<serde_json::Value>, String> {
    let Some(list) = keys.get(field).and_then(|v| v.as_array()) else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(index, authority)| {
            let what = format!("sigstoreKeys.{field}[{index}].certChain");
            let pem = pem_field(authority.get("certChain").unwrap_or(&serde_json::Value::Null), &what)?;
            let chain = Certificate::all_from_pem(&pem).map_err(|e| format!("{what}: {e}"))?;
            if chain.is_empty() {
                return Err(format!("{what}: no certificate"));
            }
            let subject = authority.get("subject").cloned().unwrap_or_default();
            Ok(serde_json::json!({
                "subject": {
                    "organization": subject.get("organization").and_then(|v| v.as_str()).unwrap_or_default(),
                    "commonName": subject.get("commonName").and_then(|v| v.as_str()).unwrap_or_default(),
                },
                "uri": authority.get("uri").and_then(|v| v.as_str()).unwrap_or_default(),
                "certChain": {"certificates": chain.iter().map(|c| serde_json::json!({"rawBytes": b64(c.der())})).collect::<Vec<_>>()},
                "validFor": {"start": ALWAYS},
            }))
        })
        .collect()
}

fn logs(keys: &serde_json::Value, field: &str) -> Result<Vec<serde_json::Value>, String> {
    let Some(list) = keys.get(field).and_then(|v| v.as_array()) else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(index, log)| {
            let what = format!("sigstoreKeys.{field}[{index}].publicKey");
            let pem = pem_field(log.get("publicKey").unwrap_or(&serde_json::Value::Null), &what)?;
            let key = PublicKey::from_pem(&pem).map_err(|e| format!("{what}: {e}"))?;
            let der = key.to_der().map_err(|e| format!("{what}: {e}"))?;
            Ok(serde_json::json!({
                "baseUrl": log.get("baseURL").and_then(|v| v.as_str()).unwrap_or_default(),
                "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(&der), "keyDetails": key.key_details(), "validFor": {"start": ALWAYS}},
                "logId": {"keyId": b64(&sha2::Sha256::digest(&der))},
            }))
        })
        .collect()
}

/// The trusted root `root` describes (only `sigstoreKeys` roots: `remote` and `repository` are
/// TUF repositories, which are not fetched).
pub fn trusted_root(root: &TrustRoot) -> Result<TrustedRoot, String> {
    let name = &root.metadata.name;
    let keys = root.spec.get("sigstoreKeys").ok_or_else(|| {
        format!("TrustRoot {name}: only sigstoreKeys are supported (a TUF `remote` or `repository` is not fetched by cosign-rs's policy-controller yet)")
    })?;
    let json = serde_json::json!({
        "mediaType": MEDIA_TYPE,
        "certificateAuthorities": authorities(keys, "certificateAuthorities")?,
        "tlogs": logs(keys, "tLogs")?,
        "ctlogs": logs(keys, "ctLogs")?,
        "timestampAuthorities": authorities(keys, "timestampAuthorities")?,
    });
    TrustedRoot::parse(json.to_string().as_bytes())
        .map_err(|error| format!("TrustRoot {name}: {error}"))
}
