//! Sigstore's signing config (v0.2, `application/vnd.dev.sigstore.signingconfig.v0.2+json`):
//! which CA, OIDC provider, transparency logs and timestamp authorities a client signs with, and
//! the selection among them as sigstore-go (`pkg/root/signing_config.go`) makes it: services of
//! the highest API version the client speaks, valid now, newest first, one per operator; `ALL`
//! of them, `ANY` one (the newest: cosign-rs chooses deterministically where sigstore-go draws
//! at random), or `EXACT` n.

use serde::Deserialize;

use crate::trust::trusted_root::parse_rfc3339;

pub const MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// The most of a signing config read (the public-good one is about 2 KiB).
pub const SIGNING_CONFIG_SIZE_LIMIT: usize = 1024 * 1024;

/// The public-good instance's signing config, as its TUF repository publishes it.
pub const PUBLIC_GOOD: &[u8] = include_bytes!("../../data/public-good-signing_config.v0.2.json");

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningConfigError {
    #[error("the signing config is {size} bytes, over the {SIGNING_CONFIG_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    #[error("the signing config does not parse: {reason}")]
    Malformed { reason: String },
    #[error("unsupported SigningConfig media type: {found} (cosign-rs reads {MEDIA_TYPE_V0_2})")]
    MediaType { found: String },
    #[error("invalid service selector {found:?} for {what}")]
    Selector { what: &'static str, found: String },
    #[error("no matching {what} service found for API versions {versions:?} at {time}")]
    NoService {
        what: &'static str,
        versions: Vec<u32>,
        time: String,
    },
    #[error("{what}: service selector count {count} must be between 1 and the {available} services available")]
    Count {
        what: &'static str,
        count: u32,
        available: usize,
    },
}

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub url: String,
    pub major_api_version: u32,
    /// Seconds since 1970; `None`: unbounded.
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub operator: String,
}

impl Service {
    pub fn valid_at(&self, time: i64) -> bool {
        self.valid_from.is_none_or(|start| time >= start)
            && self.valid_until.is_none_or(|end| time <= end)
    }
}

/// How many of the matching services to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    All,
    Any,
    Exact(u32),
    /// A configuration without a selector (protobuf's `SERVICE_SELECTOR_UNDEFINED`, written
    /// as `{}`, as `cosign signing-config create` writes it for a service it was given none
    /// of): the config parses; selecting services with it fails, as in sigstore-go.
    Undefined,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningConfig {
    pub certificate_authorities: Vec<Service>,
    pub oidc_providers: Vec<Service>,
    pub transparency_logs: Vec<Service>,
    pub transparency_log_selector: Selector,
    pub timestamp_authorities: Vec<Service>,
    pub timestamp_authority_selector: Selector,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    media_type: String,
    #[serde(default, alias = "ca_urls")]
    ca_urls: Vec<RawService>,
    #[serde(default, alias = "oidc_urls")]
    oidc_urls: Vec<RawService>,
    #[serde(default, alias = "rekor_tlog_urls")]
    rekor_tlog_urls: Vec<RawService>,
    #[serde(default, alias = "rekor_tlog_config")]
    rekor_tlog_config: Option<RawConfig>,
    #[serde(default, alias = "tsa_urls")]
    tsa_urls: Vec<RawService>,
    #[serde(default, alias = "tsa_config")]
    tsa_config: Option<RawConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawService {
    url: String,
    #[serde(default, alias = "major_api_version")]
    major_api_version: u32,
    #[serde(default, alias = "valid_for")]
    valid_for: Option<RawRange>,
    #[serde(default)]
    operator: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    selector: String,
    #[serde(default)]
    count: u32,
}

fn selector(what: &'static str, config: Option<RawConfig>) -> Result<Selector, SigningConfigError> {
    // No configuration at all (cosign 3.1 crashes on it): one service, as `ANY`.
    let Some(config) = config else {
        return Ok(Selector::Any);
    };
    match config.selector.as_str() {
        "ALL" => Ok(Selector::All),
        "ANY" => Ok(Selector::Any),
        "EXACT" => Ok(Selector::Exact(config.count)),
        "" | "SERVICE_SELECTOR_UNDEFINED" => Ok(Selector::Undefined),
        other => Err(SigningConfigError::Selector {
            what,
            found: other.to_owned(),
        }),
    }
}

fn services(raw: Vec<RawService>) -> Result<Vec<Service>, SigningConfigError> {
    raw.into_iter()
        .map(|service| {
            let time = |text: Option<&String>| match text {
                None => Ok(None),
                Some(text) => {
                    parse_rfc3339(text)
                        .map(Some)
                        .ok_or_else(|| SigningConfigError::Malformed {
                            reason: format!("{text:?} is not an RFC 3339 time"),
                        })
                }
            };
            let range = service.valid_for.as_ref();
            Ok(Service {
                valid_from: time(range.and_then(|range| range.start.as_ref()))?,
                valid_until: time(range.and_then(|range| range.end.as_ref()))?,
                url: service.url,
                major_api_version: service.major_api_version,
                operator: service.operator,
            })
        })
        .collect()
}

impl SigningConfig {
    pub fn parse(bytes: &[u8]) -> Result<Self, SigningConfigError> {
        if bytes.len() > SIGNING_CONFIG_SIZE_LIMIT {
            return Err(SigningConfigError::TooLarge { size: bytes.len() });
        }
        let raw: Raw =
            serde_json::from_slice(bytes).map_err(|error| SigningConfigError::Malformed {
                reason: error.to_string(),
            })?;
        if raw.media_type != MEDIA_TYPE_V0_2 {
            return Err(SigningConfigError::MediaType {
                found: raw.media_type,
            });
        }
        Ok(Self {
            certificate_authorities: services(raw.ca_urls)?,
            oidc_providers: services(raw.oidc_urls)?,
            transparency_logs: services(raw.rekor_tlog_urls)?,
            transparency_log_selector: selector("rekorTlogConfig", raw.rekor_tlog_config)?,
            timestamp_authorities: services(raw.tsa_urls)?,
            timestamp_authority_selector: selector("tsaConfig", raw.tsa_config)?,
        })
    }
}

/// The services of the highest version in `versions` that are valid at `time`, newest first,
/// the newest of each operator.
fn matching<'a>(services: &'a [Service], versions: &[u32], time: i64) -> Vec<&'a Service> {
    let mut sorted: Vec<&Service> = services.iter().collect();
    // Newest first; a stable sort keeps the file's order among equals.
    sorted.sort_by_key(|service| std::cmp::Reverse(service.valid_from.unwrap_or(i64::MIN)));
    let mut versions = versions.to_vec();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    for version in versions {
        let mut operators: Vec<&str> = Vec::new();
        let mut chosen = Vec::new();
        for service in &sorted {
            if service.major_api_version == version
                && service.valid_at(time)
                && !operators.contains(&service.operator.as_str())
            {
                operators.push(&service.operator);
                chosen.push(*service);
            }
        }
        if !chosen.is_empty() {
            return chosen;
        }
    }
    Vec::new()
}

/// The one service to use (the CA, the OIDC provider): the newest valid one of the highest
/// supported version.
pub fn select_service<'a>(
    what: &'static str,
    services: &'a [Service],
    versions: &[u32],
    time: i64,
) -> Result<&'a Service, SigningConfigError> {
    matching(services, versions, time)
        .into_iter()
        .next()
        .ok_or_else(|| no_service(what, versions, time))
}

/// The services to use (transparency logs, timestamp authorities) as `selector` says.
pub fn select_services<'a>(
    what: &'static str,
    services: &'a [Service],
    selector: Selector,
    versions: &[u32],
    time: i64,
) -> Result<Vec<&'a Service>, SigningConfigError> {
    let matched = matching(services, versions, time);
    if matched.is_empty() {
        return Err(no_service(what, versions, time));
    }
    match selector {
        Selector::All => Ok(matched),
        Selector::Any => Ok(matched.into_iter().take(1).collect()),
        Selector::Undefined => Err(SigningConfigError::Selector {
            what,
            found: String::new(),
        }),
        Selector::Exact(count) => {
            if count == 0 || count as usize > matched.len() {
                return Err(SigningConfigError::Count {
                    what,
                    count,
                    available: matched.len(),
                });
            }
            Ok(matched.into_iter().take(count as usize).collect())
        }
    }
}

fn no_service(what: &'static str, versions: &[u32], time: i64) -> SigningConfigError {
    SigningConfigError::NoService {
        what,
        versions: versions.to_vec(),
        time: crate::trust::trusted_root::format_rfc3339(time),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
      "caUrls": [{"url": "https://fulcio.example", "majorApiVersion": 1, "validFor": {"start": "2023-04-14T21:38:40Z"}, "operator": "a"}],
      "oidcUrls": [{"url": "https://oauth2.example/auth", "majorApiVersion": 1, "validFor": {"start": "2025-04-16T00:00:00Z"}, "operator": "a"}],
      "rekorTlogUrls": [
        {"url": "https://old.rekor.example", "majorApiVersion": 1, "validFor": {"start": "2021-01-12T11:53:27Z"}, "operator": "a"},
        {"url": "https://log2025.rekor.example", "majorApiVersion": 2, "validFor": {"start": "2025-09-23T00:00:00Z"}, "operator": "a"},
        {"url": "https://future.rekor.example", "majorApiVersion": 2, "validFor": {"start": "2099-01-01T00:00:00Z"}, "operator": "b"},
        {"url": "https://other.rekor.example", "majorApiVersion": 2, "validFor": {"start": "2025-01-01T00:00:00Z"}, "operator": "b"}
      ],
      "rekorTlogConfig": {"selector": "ANY"},
      "tsaUrls": [{"url": "https://tsa.example/api/v1/timestamp", "majorApiVersion": 1, "validFor": {"start": "2025-07-04T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "operator": "a"}],
      "tsaConfig": {"selector": "ALL"}
    }"#;

    const NOW: i64 = 1_790_000_000; // 2026-09

    #[test]
    fn selects_as_sigstore_go_does() {
        let config = SigningConfig::parse(CONFIG.as_bytes()).expect("config");
        let ca = select_service("CA", &config.certificate_authorities, &[1], NOW).expect("ca");
        assert_eq!(ca.url, "https://fulcio.example");
        // The highest version both sides speak; the newest of each operator; nothing from the
        // future.
        let logs = select_services(
            "Rekor",
            &config.transparency_logs,
            Selector::All,
            &[1, 2],
            NOW,
        )
        .expect("logs");
        let urls: Vec<&str> = logs.iter().map(|service| service.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://log2025.rekor.example",
                "https://other.rekor.example"
            ]
        );
        let any = select_services(
            "Rekor",
            &config.transparency_logs,
            config.transparency_log_selector,
            &[1, 2],
            NOW,
        )
        .expect("any");
        assert_eq!(any.len(), 1);
        // A client of v1 only gets the v1 log.
        let v1 = select_services("Rekor", &config.transparency_logs, Selector::All, &[1], NOW)
            .expect("v1");
        assert_eq!(v1[0].url, "https://old.rekor.example");
        // Past its end: nothing.
        let late = select_services(
            "TSA",
            &config.timestamp_authorities,
            Selector::All,
            &[1],
            2_000_000_000,
        );
        assert!(matches!(late, Err(SigningConfigError::NoService { .. })));
        let exact = select_services(
            "Rekor",
            &config.transparency_logs,
            Selector::Exact(3),
            &[2],
            NOW,
        );
        assert!(matches!(exact, Err(SigningConfigError::Count { .. })));
    }

    #[test]
    fn refuses_what_is_not_a_v0_2_config() {
        let old = CONFIG.replace("v0.2", "v0.1");
        assert!(matches!(
            SigningConfig::parse(old.as_bytes()),
            Err(SigningConfigError::MediaType { .. })
        ));
        let bad_selector = CONFIG.replace(r#""selector": "ANY""#, r#""selector": "SOME""#);
        assert!(matches!(
            SigningConfig::parse(bad_selector.as_bytes()),
            Err(SigningConfigError::Selector { .. })
        ));
        let bad_time = CONFIG.replace("2023-04-14T21:38:40Z", "yesterday");
        assert!(matches!(
            SigningConfig::parse(bad_time.as_bytes()),
            Err(SigningConfigError::Malformed { .. })
        ));
    }
}
