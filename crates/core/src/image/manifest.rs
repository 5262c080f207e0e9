//! OCI and Docker manifests, indexes and descriptors: parsed leniently from what registries
//! serve (after a size cap), and written in go-containerregistry's field order so the bytes we
//! push are the bytes cosign would push.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub mod media_types {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";

    /// Every manifest type we ask for when resolving a reference.
    pub const ACCEPT_MANIFESTS: [&str; 4] = [
        OCI_MANIFEST,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
    ];

    /// Whether a media type is an index (OCI index or Docker manifest list).
    pub fn is_index(media_type: &str) -> bool {
        media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
    }
}

/// The largest manifest we read (distribution's own limit is 4 MiB).
pub const MANIFEST_SIZE_LIMIT: usize = 4 * 1024 * 1024;
/// The most layers a signature image may have (cosign's cap, CVE-2024-29903).
pub const LAYER_COUNT_LIMIT: usize = 1000;
/// The most entries an index may have that we look at.
pub const INDEX_ENTRY_LIMIT: usize = 10_000;

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub size: u64,
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (OCI or Docker v2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIndex {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("manifest is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("manifest has {count} layers, over the {limit}-layer limit")]
    TooManyLayers { count: usize, limit: usize },
    #[error("index has {count} entries, over the {limit}-entry limit")]
    TooManyEntries { count: usize, limit: usize },
    #[error("parsing manifest: {source}")]
    Parse {
        #[source]
        source: serde_json::Error,
    },
}

impl ImageManifest {
    /// Parses a manifest after checking its size, and refuses more layers than cosign allows.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        check_size(bytes)?;
        let manifest: Self =
            serde_json::from_slice(bytes).map_err(|source| ManifestError::Parse { source })?;
        if manifest.layers.len() > LAYER_COUNT_LIMIT {
            return Err(ManifestError::TooManyLayers {
                count: manifest.layers.len(),
                limit: LAYER_COUNT_LIMIT,
            });
        }
        Ok(manifest)
    }

    /// The bytes to push, as go-containerregistry writes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::go_json::to_vec(self).unwrap_or_default()
    }
}

impl ImageIndex {
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        check_size(bytes)?;
        let index: Self =
            serde_json::from_slice(bytes).map_err(|source| ManifestError::Parse { source })?;
        if index.manifests.len() > INDEX_ENTRY_LIMIT {
            return Err(ManifestError::TooManyEntries {
                count: index.manifests.len(),
                limit: INDEX_ENTRY_LIMIT,
            });
        }
        Ok(index)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        crate::go_json::to_vec(self).unwrap_or_default()
    }
}

fn check_size(bytes: &[u8]) -> Result<(), ManifestError> {
    if bytes.len() > MANIFEST_SIZE_LIMIT {
        return Err(ManifestError::TooLarge {
            size: bytes.len(),
            limit: MANIFEST_SIZE_LIMIT,
        });
    }
    Ok(())
}

/// Reads just the `mediaType` of a manifest or index (absent in some Docker and OCI documents:
/// then guessed from the presence of `manifests`).
pub fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
        config: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    probe
        .media_type
        .or_else(|| match (probe.manifests, probe.config) {
            (Some(_), _) => Some(media_types::OCI_INDEX.to_owned()),
            (None, Some(_)) => Some(media_types::OCI_MANIFEST.to_owned()),
            _ => None,
        })
}

impl Platform {
    /// Parses `os/architecture[/variant][:os.version]` (go-containerregistry's
    /// `v1.ParsePlatform`); empty parts match anything.
    pub fn parse(value: &str) -> Result<Self, String> {
        let (main, os_version) = match value.split_once(':') {
            Some((main, version)) => (main, Some(version.to_owned())),
            None => (value, None),
        };
        let parts: Vec<&str> = main.split('/').collect();
        if parts.len() > 3 {
            return Err(format!("too many slashes in platform spec: {value}"));
        }
        let part = |index: usize| parts.get(index).copied().unwrap_or_default().to_owned();
        Ok(Self {
            os: part(0),
            architecture: part(1),
            variant: Some(part(2)).filter(|variant| !variant.is_empty()),
            os_version,
            os_features: None,
        })
    }

    /// Whether `candidate` is what this (wanted) platform asks for: every part given must be
    /// equal (cosign's `matchPlatform`, without its Windows build-number leniency).
    pub fn selects(&self, candidate: &Platform) -> bool {
        let equal_or_any = |wanted: &str, actual: &str| wanted.is_empty() || wanted == actual;
        equal_or_any(&self.os, &candidate.os)
            && equal_or_any(&self.architecture, &candidate.architecture)
            && equal_or_any(
                self.variant.as_deref().unwrap_or_default(),
                candidate.variant.as_deref().unwrap_or_default(),
            )
            && equal_or_any(
                self.os_version.as_deref().unwrap_or_default(),
                candidate.os_version.as_deref().unwrap_or_default(),
            )
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = self
            .variant
            .as_deref()
            .filter(|variant| !variant.is_empty())
        {
            write!(f, "/{variant}")?;
        }
        if let Some(version) = self
            .os_version
            .as_deref()
            .filter(|version| !version.is_empty())
        {
            write!(f, ":{version}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn platforms_select_like_cosign() {
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(arm.to_string(), "linux/arm64/v8");
        let wanted = Platform::parse("linux/arm64").unwrap();
        assert!(wanted.selects(&arm));
        assert!(!Platform::parse("linux/amd64").unwrap().selects(&arm));
        assert!(!Platform::parse("linux/arm64/v7").unwrap().selects(&arm));
        assert!(Platform::parse("linux").unwrap().selects(&arm));
        assert!(Platform::parse("a/b/c/d").is_err());
    }
    use super::*;

    const SIG_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:1c122a7c2e587157569bd5c2a533c99c9e46177aad5a98ef13df3b2bc8f85bdd"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":240,"digest":"sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345","annotations":{"dev.cosignproject.cosign/signature":"MEYCIQCka5XWjozXfUCUAwWDwnGwkRKb+q6QMDanmlgU9tuSIgIhALUwbQny9xQwpFh8Esm6M2TGDYvtjglZTnUlv5W8Hx38"}}]}"#;

    #[test]
    fn round_trips_a_real_cosign_signature_manifest_byte_for_byte() {
        let manifest = ImageManifest::parse(SIG_MANIFEST.as_bytes()).expect("parses");
        assert_eq!(manifest.to_bytes(), SIG_MANIFEST.as_bytes());
        assert_eq!(
            sniff_media_type(SIG_MANIFEST.as_bytes()).as_deref(),
            Some(media_types::OCI_MANIFEST)
        );
    }

    #[test]
    fn refuses_oversized_and_overlong_manifests() {
        let huge = vec![b' '; MANIFEST_SIZE_LIMIT + 1];
        assert!(matches!(
            ImageManifest::parse(&huge),
            Err(ManifestError::TooLarge { .. })
        ));
        let layer = r#"{"mediaType":"x","size":1,"digest":"sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"}"#;
        let layers = vec![layer; LAYER_COUNT_LIMIT + 1].join(",");
        let many = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"x","size":1,"digest":"sha256:51b341f6f4803cc5bc7f0c2c5f4cd8846055607ef02cbfb2591d5fa34e4d4345"}},"layers":[{layers}]}}"#
        );
        assert!(matches!(
            ImageManifest::parse(many.as_bytes()),
            Err(ManifestError::TooManyLayers { .. })
        ));
        assert!(matches!(
            ImageManifest::parse(b"{"),
            Err(ManifestError::Parse { .. })
        ));
    }
}
