//! The payload cosign signs for an image in the legacy format: a "simple signing" JSON
//! document (sigstore `payload.SimpleContainerImage`), byte for byte as cosign writes it:
//!
//! `{"critical":{"identity":{"docker-reference":"<registry/repo>"},"image":{"docker-manifest-digest":"sha256:<hex>"},"type":"cosign container image signature"},"optional":null}`

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::digest::Digest;
use crate::go_json;

/// The `critical.type` cosign writes and expects.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// Builds the payload for `docker_reference` (the repository, without tag: cosign writes
/// `digest.Repository.Name()`) and `manifest_digest`, with the `-a` annotations if any.
pub fn payload(
    docker_reference: &str,
    manifest_digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
    go_json::push_string(&mut out, docker_reference);
    out.push_str(r#"},"image":{"docker-manifest-digest":"#);
    go_json::push_string(&mut out, &manifest_digest.to_string());
    out.push_str(r#"},"type":"#);
    go_json::push_string(&mut out, SIMPLE_SIGNING_TYPE);
    out.push_str(r#"},"optional":"#);
    if annotations.is_empty() {
        out.push_str("null");
    } else {
        out.push('{');
        for (index, (key, value)) in annotations.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            go_json::push_string(&mut out, key);
            out.push(':');
            go_json::push_string(&mut out, value);
        }
        out.push('}');
    }
    out.push('}');
    out.into_bytes()
}

/// A payload as read back: only what verification looks at, everything else ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct SimpleSigningPayload {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Critical {
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub image: Image,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference", default)]
    pub docker_reference: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Image {
    #[serde(rename = "docker-manifest-digest", default)]
    pub docker_manifest_digest: String,
}

impl SimpleSigningPayload {
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// cosign's `correctAnnotations`: every wanted key is in `optional` with the same string.
    pub fn has_annotations(&self, wanted: &BTreeMap<String, String>) -> bool {
        annotations_match(self.optional.as_ref(), wanted)
    }
}

/// cosign's `correctAnnotations`: every wanted key is present with the same string value
/// (a number or any other JSON value never equals a string).
pub fn annotations_match(
    found: Option<&serde_json::Map<String, serde_json::Value>>,
    wanted: &BTreeMap<String, String>,
) -> bool {
    wanted.iter().all(|(key, value)| {
        found
            .and_then(|found| found.get(key))
            .is_some_and(|found| found.as_str() == Some(value.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:b54033c2558ed89c008f468ce5bb18d2c1756dee6f0bacca062c0112bb64476e";

    #[test]
    fn writes_cosigns_bytes() {
        // The payload real cosign 2.5 and 3.1 wrote for this image (captured from a registry).
        let expected = r#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5123/lab/nginx"},"image":{"docker-manifest-digest":"sha256:b54033c2558ed89c008f468ce5bb18d2c1756dee6f0bacca062c0112bb64476e"},"type":"cosign container image signature"},"optional":null}"#;
        let digest: Digest = DIGEST.parse().expect("digest");
        assert_eq!(
            payload("127.0.0.1:5123/lab/nginx", &digest, &BTreeMap::new()),
            expected.as_bytes()
        );
        let annotations: BTreeMap<String, String> = [
            ("z".to_owned(), "1".to_owned()),
            ("a".to_owned(), "<b>".to_owned()),
        ]
        .into_iter()
        .collect();
        let with = String::from_utf8(payload("r/x", &digest, &annotations)).expect("utf-8");
        assert!(
            with.ends_with(r#""optional":{"a":"\u003cb\u003e","z":"1"}}"#),
            "{with}"
        );
    }

    #[test]
    fn reads_back_and_matches_annotations() {
        let digest: Digest = DIGEST.parse().expect("digest");
        let annotations: BTreeMap<String, String> =
            [("foo".to_owned(), "bar".to_owned())].into_iter().collect();
        let parsed =
            SimpleSigningPayload::parse(&payload("r/x", &digest, &annotations)).expect("parses");
        assert_eq!(parsed.critical.image.docker_manifest_digest, DIGEST);
        assert_eq!(parsed.critical.kind, SIMPLE_SIGNING_TYPE);
        assert!(parsed.has_annotations(&annotations));
        assert!(parsed.has_annotations(&BTreeMap::new()));
        let other: BTreeMap<String, String> =
            [("foo".to_owned(), "baz".to_owned())].into_iter().collect();
        assert!(!parsed.has_annotations(&other));
        // skopeo's payloads carry numbers in optional: never equal to a string.
        let skopeo = br#"{"critical":{"identity":{"docker-reference":"r/x:1"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":{"creator":"containers/image 5.34.2","timestamp":1}}"#;
        let parsed = SimpleSigningPayload::parse(skopeo).expect("parses");
        let timestamp: BTreeMap<String, String> = [("timestamp".to_owned(), "1".to_owned())]
            .into_iter()
            .collect();
        assert!(!parsed.has_annotations(&timestamp));
    }
}
