//! `cosign trusted-root create`: writes a trusted root (`trusted_root.json`) from services
//! given as `--fulcio`, `--rekor`, `--ctfe` and `--tsa` specifications
//! (`url=...,public-key=FILE|certificate-chain=FILE,start-time=...`), optionally on top of the
//! default root: the TUF repository's once `cosign initialize` set one up, else the public-good
//! root embedded in cosign-rs.

use std::collections::BTreeMap;
use std::path::Path;

use cosign_core::keys::PublicKey;
use cosign_core::trust::certificate::Certificate;
use cosign_core::trust::trusted_root::{
    parse_rfc3339, CertificateAuthority, TransparencyLogInstance, TrustedRoot, PUBLIC_GOOD,
};

use crate::args::TrustedRootCreateArgs;
use crate::console::Console;
use crate::error::CliError;
use crate::key_files::read_limited_to;

const FILE_LIMIT: u64 = 1024 * 1024;

pub fn run(args: &TrustedRootCreateArgs, console: &mut Console) -> Result<(), CliError> {
    let mut root = if args.with_default_services {
        // As cosign: the TUF repository's trusted root (once `cosign initialize` set one up),
        // else the public-good one embedded in cosign-rs.
        let bytes = crate::tuf::target(cosign_services::tuf::TRUSTED_ROOT_TARGET)?
            .unwrap_or_else(|| PUBLIC_GOOD.to_vec());
        let mut root =
            TrustedRoot::parse(&bytes).map_err(|error| CliError::new(error.to_string()))?;
        if args.no_default_fulcio {
            root.certificate_authorities.clear();
        }
        if args.no_default_ctfe {
            root.ct_logs.clear();
        }
        if args.no_default_tsa {
            root.timestamp_authorities.clear();
        }
        if args.no_default_rekor {
            root.tlogs.clear();
        }
        root
    } else {
        TrustedRoot::default()
    };
    for spec in &args.fulcio {
        let authority = authority(spec, "fulcio", false)
            .map_err(|error| CliError::new(format!("parsing fulcio spec: {error}")))?;
        root.certificate_authorities.push(authority);
    }
    for spec in &args.ctfe {
        let log =
            log(spec).map_err(|error| CliError::new(format!("parsing ctfe spec: {error}")))?;
        root.ct_logs.push(log);
    }
    for spec in &args.tsa {
        let authority = authority(spec, "tsa", true)
            .map_err(|error| CliError::new(format!("parsing tsa spec: {error}")))?;
        root.timestamp_authorities.push(authority);
    }
    for spec in &args.rekor {
        let log =
            log(spec).map_err(|error| CliError::new(format!("parsing rekor spec: {error}")))?;
        root.tlogs.push(log);
    }
    let json = root
        .to_json()
        .map_err(|error| CliError::new(error.to_string()))?;
    write_out(args.out.as_deref(), &json, console)
}

/// `--out FILE` (mode 0600, as cosign writes it), else standard output with a newline.
pub(crate) fn write_out(
    out: Option<&Path>,
    json: &str,
    console: &mut Console,
) -> Result<(), CliError> {
    match out {
        Some(path) => {
            std::fs::write(path, json)
                .map_err(|error| crate::error::io_error("writing", path, &error))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
            Ok(())
        }
        None => console.out(format!("{json}\n").as_bytes()),
    }
}

/// `key=value,key=value`: cosign's specification syntax.
pub(crate) fn key_values(spec: &str) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for pair in spec.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("invalid key-value pair: {pair}"))?;
        values.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(values)
}

fn required<'a>(
    values: &'a BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<&'a str, String> {
    values
        .get(key)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("missing or empty required key '{key}' in {what} spec"))
}

fn time(values: &BTreeMap<String, String>, key: &str) -> Result<Option<i64>, String> {
    match values.get(key).filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(text) => parse_rfc3339(text)
            .map(Some)
            .ok_or_else(|| format!("parsing {key}: {text:?} is not an RFC 3339 time")),
    }
}

/// `--rekor` / `--ctfe`: url, public-key, start-time; end-time, origin.
fn log(spec: &str) -> Result<TransparencyLogInstance, String> {
    let values = key_values(spec)?;
    let url = required(&values, "url", "tlog")?;
    let key_file = required(&values, "public-key", "tlog")?;
    required(&values, "start-time", "tlog")?;
    let pem =
        read_limited_to(Path::new(key_file), FILE_LIMIT).map_err(|error| error.to_string())?;
    let key = PublicKey::from_pem(&pem).map_err(|error| format!("parsing public-key: {error}"))?;
    let mut log = TransparencyLogInstance::from_key(url, key.clone())
        .map_err(|error| format!("parsing public-key: {error}"))?;
    if let Some(origin) = values.get("origin").filter(|origin| !origin.is_empty()) {
        log.log_id = TransparencyLogInstance::checkpoint_key_id(origin, &key).ok_or_else(|| {
            "origin is supported by cosign-rs for Ed25519 log keys only".to_owned()
        })?;
    }
    log.valid_from = time(&values, "start-time")?.unwrap_or_default();
    log.valid_until = time(&values, "end-time")?;
    Ok(log)
}

/// `--fulcio` / `--tsa`: url, certificate-chain; start-time, end-time. A TSA chain starts with
/// its leaf.
fn authority(spec: &str, what: &str, tsa: bool) -> Result<CertificateAuthority, String> {
    let values = key_values(spec)?;
    let url = required(&values, "url", what)?;
    let file = required(&values, "certificate-chain", what)?;
    let pem = read_limited_to(Path::new(file), FILE_LIMIT).map_err(|error| error.to_string())?;
    let chain = Certificate::all_from_pem(&pem)
        .map_err(|error| format!("parsing {} certificate-chain: {error}", what.to_uppercase()))?;
    let (first, anchor) = match (chain.first(), chain.last()) {
        (Some(first), Some(anchor)) => (first, anchor),
        _ => return Err(format!("no certificates in file {file}")),
    };
    if tsa && first.is_ca() {
        return Err("first certificate in chain must be a leaf certificate".to_owned());
    }
    // cosign: a CA is valid from its root's notBefore, a TSA from its leaf's.
    let default_start = if tsa {
        first.validity().0
    } else {
        anchor.validity().0
    };
    let start = time(&values, "start-time")?.unwrap_or(default_start);
    let end = time(&values, "end-time")?;
    Ok(CertificateAuthority::new(url, chain, start, end))
}
