//! `cosign signing-config create`: writes a signing config (v0.2) from services given as
//! `--fulcio`, `--rekor`, `--oidc-provider` and `--tsa` specifications
//! (`url=...,api-version=N,start-time=...,operator=...[,end-time=...]`), on top of a base
//! config (`--base-config`) or the default one (`--with-default-services`: the TUF
//! repository's when `cosign initialize` set one up, else the public-good config embedded in
//! cosign-rs). The JSON is cosign's: the same fields, in the same order, times as protobuf
//! writes them.

use serde::Serialize;

use cosign_core::keyless::signing_config::{
    self, Selector, Service, SigningConfig, MEDIA_TYPE_V0_2, SIGNING_CONFIG_SIZE_LIMIT,
};
use cosign_core::trust::trusted_root::{format_rfc3339, parse_rfc3339};

use crate::args::SigningConfigCreateArgs;
use crate::commands::trusted_root_create::{key_values, write_out};
use crate::console::Console;
use crate::error::CliError;
use crate::key_files::read_limited_to;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    media_type: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ca_urls: Vec<OutputService>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    oidc_urls: Vec<OutputService>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rekor_tlog_urls: Vec<OutputService>,
    rekor_tlog_config: OutputSelector,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tsa_urls: Vec<OutputService>,
    tsa_config: OutputSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutputService {
    url: String,
    #[serde(skip_serializing_if = "is_zero")]
    major_api_version: u32,
    valid_for: OutputRange,
    #[serde(skip_serializing_if = "String::is_empty")]
    operator: String,
}

#[derive(Serialize)]
struct OutputRange {
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

/// A service selector as protobuf writes it: nothing when unset, no count but for `EXACT`.
#[derive(Serialize, Default)]
struct OutputSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    selector: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl From<Selector> for OutputSelector {
    fn from(selector: Selector) -> Self {
        match selector {
            Selector::All => Self {
                selector: Some("ALL"),
                count: None,
            },
            Selector::Any => Self {
                selector: Some("ANY"),
                count: None,
            },
            Selector::Exact(count) => Self {
                selector: Some("EXACT"),
                count: (count != 0).then_some(count),
            },
            Selector::Undefined => Self::default(),
        }
    }
}

impl From<&Service> for OutputService {
    fn from(service: &Service) -> Self {
        Self {
            url: service.url.clone(),
            major_api_version: service.major_api_version,
            valid_for: OutputRange {
                start: service.valid_from.map(format_rfc3339),
                end: service.valid_until.map(format_rfc3339),
            },
            operator: service.operator.clone(),
        }
    }
}

pub fn run(args: &SigningConfigCreateArgs, console: &mut Console) -> Result<(), CliError> {
    if !args.rekor.is_empty() && args.rekor_config.is_none() {
        return Err(CliError::new(
            "--rekor-config must be provided when --rekor is specified",
        ));
    }
    if !args.tsa.is_empty() && args.tsa_config.is_none() {
        return Err(CliError::new(
            "--tsa-config must be provided when --tsa is specified",
        ));
    }
    let mut output = Output {
        media_type: MEDIA_TYPE_V0_2,
        ca_urls: Vec::new(),
        oidc_urls: Vec::new(),
        rekor_tlog_urls: Vec::new(),
        rekor_tlog_config: OutputSelector::default(),
        tsa_urls: Vec::new(),
        tsa_config: OutputSelector::default(),
    };
    let base = match &args.base_config {
        Some(path) => {
            let bytes = read_limited_to(path, SIGNING_CONFIG_SIZE_LIMIT as u64)?;
            Some(SigningConfig::parse(&bytes).map_err(|error| {
                CliError::new(format!(
                    "loading base config from {}: {error}",
                    path.display()
                ))
            })?)
        }
        None if args.with_default_services => Some(default_config(args.with_default_rekor_v2)?),
        None => None,
    };
    if let Some(base) = base {
        // A base config's services stay unless the flags name others; the defaults' stay
        // unless removed.
        let from_base = args.base_config.is_some();
        let keep = |named: &[String], removed: bool| !removed && (!from_base || named.is_empty());
        if keep(&args.fulcio, args.no_default_fulcio) {
            output.ca_urls = base
                .certificate_authorities
                .iter()
                .map(Into::into)
                .collect();
        }
        if keep(&args.rekor, args.no_default_rekor) {
            output.rekor_tlog_urls = base.transparency_logs.iter().map(Into::into).collect();
            output.rekor_tlog_config = base.transparency_log_selector.into();
        }
        if keep(&args.oidc_provider, args.no_default_oidc) {
            output.oidc_urls = base.oidc_providers.iter().map(Into::into).collect();
        }
        if keep(&args.tsa, args.no_default_tsa) {
            output.tsa_urls = base.timestamp_authorities.iter().map(Into::into).collect();
            output.tsa_config = base.timestamp_authority_selector.into();
        }
    }
    if let Some(mode) = &args.rekor_config {
        output.rekor_tlog_config = selector(mode)
            .map_err(|error| CliError::new(format!("parsing rekor-config: {error}")))?;
    }
    if let Some(mode) = &args.tsa_config {
        output.tsa_config = selector(mode)
            .map_err(|error| CliError::new(format!("parsing tsa-config: {error}")))?;
    }
    for (specs, what, list) in [
        (&args.fulcio, "fulcio", &mut output.ca_urls),
        (&args.rekor, "rekor", &mut output.rekor_tlog_urls),
        (&args.oidc_provider, "oidc-provider", &mut output.oidc_urls),
        (&args.tsa, "tsa", &mut output.tsa_urls),
    ] {
        for spec in specs {
            list.push(
                service(spec)
                    .map_err(|error| CliError::new(format!("parsing {what} spec: {error}")))?,
            );
        }
    }
    let json = serde_json::to_string(&output)
        .map_err(|error| CliError::new(format!("creating signing config: {error}")))?;
    write_out(args.out.as_deref(), &json, console)
}

/// The default services: the TUF repository's signing config once `cosign initialize` set one
/// up, else the embedded public-good one.
fn default_config(rekor_v2: bool) -> Result<SigningConfig, CliError> {
    let target = if rekor_v2 {
        "signing_config_rekor_v2.v0.2.json"
    } else {
        cosign_services::tuf::SIGNING_CONFIG_TARGET
    };
    let bytes = crate::tuf::target(target)
        .map_err(|error| error.context("getting default signing config"))?
        .unwrap_or_else(|| signing_config::PUBLIC_GOOD.to_vec());
    SigningConfig::parse(&bytes)
        .map_err(|error| CliError::new(format!("getting default signing config: {error}")))
}

/// `ANY`, `ALL` or `EXACT:<count>` (any case).
fn selector(mode: &str) -> Result<OutputSelector, String> {
    let (name, count) = match mode.split_once(':') {
        Some((name, count)) => (name, Some(count)),
        None => (mode, None),
    };
    let name = name.to_uppercase();
    match (name.as_str(), count) {
        ("ANY", None) => Ok(Selector::Any.into()),
        ("ALL", None) => Ok(Selector::All.into()),
        ("ANY" | "ALL", Some(_)) => Err(format!("mode {name} does not accept a count")),
        ("EXACT", Some(count)) => count
            .parse::<u32>()
            .map(|count| Selector::Exact(count).into())
            .map_err(|error| format!("invalid count for EXACT mode: {error}")),
        ("EXACT", None) => Err("mode EXACT requires a count, e.g. EXACT:2".to_owned()),
        _ => Err(format!("invalid service config mode: {name}")),
    }
}

/// `url=...,api-version=N,start-time=...,operator=...[,end-time=...]`.
fn service(spec: &str) -> Result<OutputService, String> {
    let values = key_values(spec)?;
    for key in ["url", "api-version", "start-time", "operator"] {
        if values.get(key).is_none_or(String::is_empty) {
            return Err(format!("missing required key '{key}' in service spec"));
        }
    }
    let text = |key: &str| values.get(key).cloned().unwrap_or_default();
    let major_api_version = text("api-version")
        .parse::<u32>()
        .map_err(|error| format!("parsing api-version: {error}"))?;
    let start = protobuf_time(&text("start-time")).ok_or_else(|| {
        format!(
            "parsing start-time: {:?} is not an RFC 3339 time",
            text("start-time")
        )
    })?;
    let end = match values.get("end-time").filter(|value| !value.is_empty()) {
        None => None,
        Some(end) => Some(
            protobuf_time(end)
                .ok_or_else(|| format!("parsing end-time: {end:?} is not an RFC 3339 time"))?,
        ),
    };
    Ok(OutputService {
        url: text("url"),
        major_api_version,
        valid_for: OutputRange {
            start: Some(start),
            end,
        },
        operator: text("operator"),
    })
}

/// An RFC 3339 time as protobuf's JSON writes a timestamp: in UTC, with 0, 3, 6 or 9
/// fractional digits.
fn protobuf_time(text: &str) -> Option<String> {
    let seconds = parse_rfc3339(text)?;
    let fraction = text
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(|rest| {
            rest.bytes()
                .take_while(u8::is_ascii_digit)
                .collect::<Vec<u8>>()
        })
        .unwrap_or_default();
    let mut nanos: u64 = 0;
    for position in 0..9 {
        nanos = nanos * 10 + u64::from(fraction.get(position).map_or(0, |digit| digit - b'0'));
    }
    let whole = format_rfc3339(seconds);
    let digits = if nanos == 0 {
        return Some(whole);
    } else if nanos.is_multiple_of(1_000_000) {
        format!("{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!("{:06}", nanos / 1_000)
    } else {
        format!("{nanos:09}")
    };
    Some(format!("{}.{digits}Z", whole.trim_end_matches('Z')))
}

#[cfg(test)]
mod tests {
    use super::protobuf_time;

    #[test]
    fn times_are_written_as_protobuf_writes_them() {
        assert_eq!(
            protobuf_time("2024-01-01T00:00:00.5+02:00").as_deref(),
            Some("2023-12-31T22:00:00.500Z")
        );
        assert_eq!(
            protobuf_time("2022-04-13T20:06:15.000Z").as_deref(),
            Some("2022-04-13T20:06:15Z")
        );
        assert_eq!(
            protobuf_time("2024-01-01T00:00:00.000001Z").as_deref(),
            Some("2024-01-01T00:00:00.000001Z")
        );
        assert_eq!(protobuf_time("yesterday"), None);
    }
}
