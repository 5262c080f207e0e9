//! The trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the transparency logs whose
//! keys we trust, each for a window of time. (Certificate authorities, CT logs and timestamp
//! authorities are read with keyless verification.)

use base64::Engine as _;
use serde::Deserialize;

use crate::keys::PublicKey;
use crate::trust::certificate::Certificate;

/// Sigstore's public-good trusted root, embedded so that verification needs no network.
pub const PUBLIC_GOOD: &[u8] = include_bytes!("../../data/public-good-trusted_root.json");

/// The largest trusted root we parse.
pub const TRUSTED_ROOT_SIZE_LIMIT: usize = 4 * 1024 * 1024;

/// A transparency log we trust.
#[derive(Debug, Clone)]
pub struct TransparencyLogInstance {
    pub base_url: String,
    pub public_key: PublicKey,
    /// The log's id: SHA-256 of its public key's PKIX DER.
    pub log_id: Vec<u8>,
    /// Seconds since 1970: the key is trusted for entries integrated in [start, end].
    pub valid_from: i64,
    pub valid_until: Option<i64>,
}

/// A certificate authority we trust: its chain (issuing certificate first, trust anchor
/// last), for certificates issued in [start, end].
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    pub uri: String,
    /// Private: [`CertificateAuthority::links_verify`] caches a verdict about it.
    chain: Vec<Certificate>,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    /// Whether each certificate of the chain is signed by the next: checked once, as it does
    /// not depend on the time.
    links: std::sync::OnceLock<Result<(), String>>,
}

impl CertificateAuthority {
    pub fn new(
        uri: &str,
        chain: Vec<Certificate>,
        valid_from: i64,
        valid_until: Option<i64>,
    ) -> Self {
        Self {
            uri: uri.to_owned(),
            chain,
            valid_from,
            valid_until,
            links: std::sync::OnceLock::new(),
        }
    }

    /// The chain: issuing certificate first, trust anchor last.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// Whether each certificate of the chain is signed by the next (computed once).
    pub fn links_verify(&self) -> Result<(), String> {
        self.links
            .get_or_init(|| {
                for pair in self.chain.windows(2) {
                    if let [child, parent] = pair {
                        child
                            .verify_signed_by(parent)
                            .map_err(|error| error.to_string())?;
                    }
                }
                Ok(())
            })
            .clone()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TrustedRoot {
    pub tlogs: Vec<TransparencyLogInstance>,
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs (same shape as transparency logs).
    pub ct_logs: Vec<TransparencyLogInstance>,
    /// RFC 3161 timestamp authorities: their chains start with the signing (leaf) certificate.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedRootError {
    #[error("trusted root is {size} bytes, over the {TRUSTED_ROOT_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    #[error("parsing trusted root: {source}")]
    Parse {
        #[source]
        source: serde_json::Error,
    },
    #[error("trusted root: transparency log {url}: {reason}")]
    Log { url: String, reason: String },
    #[error("trusted root: certificate authority {uri}: {reason}")]
    Authority { uri: String, reason: String },
}

#[derive(Deserialize)]
struct RawRoot {
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(
        rename = "certificateAuthorities",
        alias = "certificate_authorities",
        default
    )]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(
        rename = "timestampAuthorities",
        alias = "timestamp_authorities",
        default
    )]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    #[serde(rename = "certChain", alias = "cert_chain")]
    cert_chain: RawChain,
    #[serde(rename = "validFor", alias = "valid_for", default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCertificate>,
}

#[derive(Deserialize)]
struct RawCertificate {
    #[serde(rename = "rawBytes", alias = "raw_bytes")]
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawLog {
    #[serde(rename = "baseUrl", alias = "base_url", default)]
    base_url: String,
    #[serde(rename = "publicKey", alias = "public_key")]
    public_key: RawKey,
    #[serde(rename = "logId", alias = "log_id")]
    log_id: RawLogId,
}

#[derive(Deserialize)]
struct RawKey {
    #[serde(rename = "rawBytes", alias = "raw_bytes", default)]
    raw_bytes: String,
    #[serde(rename = "keyDetails", alias = "key_details", default)]
    key_details: String,
    #[serde(rename = "validFor", alias = "valid_for", default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawValidity {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
struct RawLogId {
    #[serde(rename = "keyId", alias = "key_id")]
    key_id: String,
}

impl TrustedRoot {
    pub fn parse(bytes: &[u8]) -> Result<Self, TrustedRootError> {
        if bytes.len() > TRUSTED_ROOT_SIZE_LIMIT {
            return Err(TrustedRootError::TooLarge { size: bytes.len() });
        }
        let raw: RawRoot =
            serde_json::from_slice(bytes).map_err(|source| TrustedRootError::Parse { source })?;
        let tlogs = raw
            .tlogs
            .into_iter()
            .map(parse_log)
            .collect::<Result<Vec<_>, _>>()?;
        let ct_logs = raw
            .ctlogs
            .into_iter()
            .map(parse_log)
            .collect::<Result<Vec<_>, _>>()?;
        let certificate_authorities = raw
            .certificate_authorities
            .into_iter()
            .map(parse_authority)
            .collect::<Result<Vec<_>, _>>()?;
        let timestamp_authorities = raw
            .timestamp_authorities
            .into_iter()
            .map(parse_authority)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            tlogs,
            certificate_authorities,
            ct_logs,
            timestamp_authorities,
        })
    }

    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLogInstance> {
        self.tlogs.iter().find(|log| log.log_id == log_id)
    }

    pub fn ct_log(&self, log_id: &[u8]) -> Option<&TransparencyLogInstance> {
        self.ct_logs.iter().find(|log| log.log_id == log_id)
    }
}

fn parse_authority(authority: RawAuthority) -> Result<CertificateAuthority, TrustedRootError> {
    let error = |reason: String| TrustedRootError::Authority {
        uri: authority.uri.clone(),
        reason,
    };
    let chain = authority
        .cert_chain
        .certificates
        .iter()
        .map(|certificate| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(certificate.raw_bytes.as_bytes())
                .map_err(|e| error(e.to_string()))?;
            Certificate::from_der(&der).map_err(|e| error(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (valid_from, valid_until) = parse_validity(authority.valid_for).map_err(error)?;
    Ok(CertificateAuthority::new(
        &authority.uri,
        chain,
        valid_from,
        valid_until,
    ))
}

fn parse_log(log: RawLog) -> Result<TransparencyLogInstance, TrustedRootError> {
    let error = |reason: String| TrustedRootError::Log {
        url: log.base_url.clone(),
        reason,
    };
    let engine = base64::engine::general_purpose::STANDARD;
    let der = engine
        .decode(log.public_key.raw_bytes.as_bytes())
        .map_err(|e| error(e.to_string()))?;
    // Keys are PKIX, except for `keyDetails` PKCS1_RSA_*: a bare PKCS #1 RSA key.
    let public_key = if log.public_key.key_details.starts_with("PKCS1_RSA") {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        use rsa::pkcs8::EncodePublicKey as _;
        let key = rsa::RsaPublicKey::from_pkcs1_der(&der).map_err(|e| error(e.to_string()))?;
        let spki = key.to_public_key_der().map_err(|e| error(e.to_string()))?;
        PublicKey::from_der(spki.as_bytes()).map_err(|e| error(e.to_string()))?
    } else {
        PublicKey::from_der(&der).map_err(|e| error(e.to_string()))?
    };
    let log_id = engine
        .decode(log.log_id.key_id.as_bytes())
        .map_err(|e| error(e.to_string()))?;
    let (valid_from, valid_until) = parse_validity(log.public_key.valid_for).map_err(error)?;
    Ok(TransparencyLogInstance {
        base_url: log.base_url.clone(),
        public_key,
        log_id,
        valid_from,
        valid_until,
    })
}

/// `validFor`: "start" is required (a key with no start is trusted for nothing).
fn parse_validity(validity: Option<RawValidity>) -> Result<(i64, Option<i64>), String> {
    let validity = validity.ok_or_else(|| "no validity period".to_owned())?;
    let start = validity
        .start
        .ok_or_else(|| "no validity start".to_owned())?;
    let valid_from = parse_rfc3339(&start).ok_or_else(|| format!("bad time {start:?}"))?;
    let valid_until = match validity.end {
        Some(end) => Some(parse_rfc3339(&end).ok_or_else(|| format!("bad time {end:?}"))?),
        None => None,
    };
    Ok((valid_from, valid_until))
}

impl CertificateAuthority {
    /// The chains a pool of CA certificates (roots and intermediates, in any order, as in
    /// cosign's `SIGSTORE_ROOT_FILE`) makes: one per certificate, up through its issuers to a
    /// self-issued root, trusted at any time; `uri` names where they come from in messages.
    pub fn chains_from_pool(pool: &[Certificate], uri: &str) -> Vec<Self> {
        let mut authorities = Vec::new();
        for start in pool {
            let mut chain = vec![start.clone()];
            while let Some(last) = chain.last() {
                if last.is_self_issued() || chain.len() > 8 {
                    break;
                }
                let issuer = last.issuer_der();
                // Names can repeat (Sigstore's two roots share one): the issuer is the one
                // whose key verifies the signature.
                match pool.iter().find(|candidate| {
                    candidate.subject_der() == issuer
                        && !chain.contains(candidate)
                        && last.verify_signed_by(candidate).is_ok()
                }) {
                    Some(parent) => chain.push(parent.clone()),
                    None => break,
                }
            }
            if chain.last().is_some_and(Certificate::is_self_issued) {
                authorities.push(Self::new(uri, chain, i64::MIN, None));
            }
        }
        authorities
    }
}

impl TransparencyLogInstance {
    /// The key id of a log that signs checkpoints (signed notes) under `origin`: SHA-256 of
    /// the origin, a newline, the signature type (1: Ed25519) and the raw key, as the Rekor v2
    /// logs of the public-good root have it. `None` for other key types.
    pub fn checkpoint_key_id(origin: &str, key: &PublicKey) -> Option<Vec<u8>> {
        let PublicKey::Ed25519(raw) = key else {
            return None;
        };
        let mut hasher = crate::digest::Sha256Hasher::default();
        hasher.update(origin.as_bytes());
        hasher.update(b"\n\x01");
        hasher.update(raw.as_bytes());
        Some(hasher.finish().bytes())
    }

    /// A log (or CT log) known only by its key, trusted at any time; its id is the SHA-256 of
    /// the key's DER, as cosign computes it.
    pub fn from_key(base_url: &str, public_key: PublicKey) -> Result<Self, crate::keys::KeyError> {
        use sha2::Digest as _;
        let log_id = sha2::Sha256::digest(public_key.to_der()?).to_vec();
        Ok(Self {
            base_url: base_url.to_owned(),
            public_key,
            log_id,
            valid_from: i64::MIN,
            valid_until: None,
        })
    }

    /// Whether the log's key was valid at `time` (seconds since 1970), both ends included.
    pub fn valid_at(&self, time: i64) -> bool {
        time >= self.valid_from && self.valid_until.is_none_or(|end| time <= end)
    }
}

/// Seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date: Howard Hinnant's method).
pub fn format_rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (hour, minute, second) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The media type of a trusted root.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

impl TrustedRoot {
    /// The trusted root as JSON, as cosign's `trusted-root create` writes it (protobuf JSON:
    /// compact, fields in the proto's order, bytes in base64).
    pub fn to_json(&self) -> Result<String, crate::keys::KeyError> {
        use crate::go_json::string;
        let engine = base64::engine::general_purpose::STANDARD;
        let validity = |from: i64, until: Option<i64>| {
            let mut out = format!(r#"{{"start":{}"#, string(&format_rfc3339(from)));
            if let Some(until) = until {
                out.push_str(&format!(r#","end":{}"#, string(&format_rfc3339(until))));
            }
            out.push('}');
            out
        };
        let log = |log: &TransparencyLogInstance| -> Result<String, crate::keys::KeyError> {
            Ok(format!(
                r#"{{"baseUrl":{},"hashAlgorithm":"SHA2_256","publicKey":{{"rawBytes":{},"keyDetails":{},"validFor":{}}},"logId":{{"keyId":{}}}}}"#,
                string(&log.base_url),
                string(&engine.encode(log.public_key.to_der()?)),
                string(log.public_key.key_details()),
                validity(log.valid_from, log.valid_until),
                string(&engine.encode(&log.log_id)),
            ))
        };
        let authority = |authority: &CertificateAuthority| {
            let mut subject = Vec::new();
            if let Some(anchor) = authority.chain.last() {
                if let Some(organization) = anchor.subject_attribute("2.5.4.10") {
                    subject.push(format!(r#""organization":{}"#, string(&organization)));
                }
                if let Some(common_name) = anchor.subject_attribute("2.5.4.3") {
                    subject.push(format!(r#""commonName":{}"#, string(&common_name)));
                }
            }
            let certificates: Vec<String> = authority
                .chain
                .iter()
                .map(|certificate| {
                    format!(
                        r#"{{"rawBytes":{}}}"#,
                        string(&engine.encode(certificate.der()))
                    )
                })
                .collect();
            format!(
                r#"{{"subject":{{{}}},"uri":{},"certChain":{{"certificates":[{}]}},"validFor":{}}}"#,
                subject.join(","),
                string(&authority.uri),
                certificates.join(","),
                validity(authority.valid_from, authority.valid_until),
            )
        };
        let mut out = format!(r#"{{"mediaType":{}"#, string(MEDIA_TYPE));
        // Each list oldest first, as sigstore-go writes them.
        let mut tlogs: Vec<&TransparencyLogInstance> = self.tlogs.iter().collect();
        tlogs.sort_by_key(|log| log.valid_from);
        let mut ct_logs: Vec<&TransparencyLogInstance> = self.ct_logs.iter().collect();
        ct_logs.sort_by_key(|log| log.valid_from);
        let mut authorities: Vec<&CertificateAuthority> =
            self.certificate_authorities.iter().collect();
        authorities.sort_by_key(|authority| authority.valid_from);
        let mut timestamp_authorities: Vec<&CertificateAuthority> =
            self.timestamp_authorities.iter().collect();
        timestamp_authorities.sort_by_key(|authority| authority.valid_from);
        let tlogs = tlogs.into_iter().map(log).collect::<Result<Vec<_>, _>>()?;
        let ct_logs = ct_logs
            .into_iter()
            .map(log)
            .collect::<Result<Vec<_>, _>>()?;
        let authorities: Vec<String> = authorities.into_iter().map(authority).collect();
        let timestamp_authorities: Vec<String> =
            timestamp_authorities.into_iter().map(authority).collect();
        for (name, items) in [
            ("tlogs", tlogs),
            ("certificateAuthorities", authorities),
            ("ctlogs", ct_logs),
            ("timestampAuthorities", timestamp_authorities),
        ] {
            if !items.is_empty() {
                out.push_str(&format!(r#","{name}":[{}]"#, items.join(",")));
            }
        }
        out.push('}');
        Ok(out)
    }
}

/// Parses RFC 3339 (`2021-01-12T11:53:27Z`, fractions and offsets allowed) to seconds since 1970.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> { text.get(range)?.parse().ok() };
    if bytes.len() < 20
        || bytes.get(4) != Some(&b'-')
        || bytes.get(10).map(u8::to_ascii_uppercase) != Some(b'T')
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = fraction.get(digits..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hours: i64 = rest.get(1..3)?.parse().ok()?;
            let minutes: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from civil (Howard Hinnant).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2021-01-12T11:53:27Z"), Some(1_610_452_407));
        assert_eq!(
            parse_rfc3339("2021-01-12T11:53:27.123Z"),
            Some(1_610_452_407)
        );
        assert_eq!(
            parse_rfc3339("2021-01-12T12:53:27+01:00"),
            Some(1_610_452_407)
        );
        assert_eq!(parse_rfc3339("2021-13-12T11:53:27Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn reads_the_public_good_root_and_refuses_a_log_without_a_start() {
        let root = include_bytes!("../../data/public-good-trusted_root.json");
        let parsed = TrustedRoot::parse(root).expect("parses");
        assert!(parsed.tlogs.len() >= 2);
        let first = &parsed.tlogs[0];
        assert!(first.valid_at(first.valid_from) && !first.valid_at(first.valid_from - 1));
        let broken = String::from_utf8(root.to_vec()).expect("utf-8").replacen(
            "\"start\":",
            "\"begin\":",
            1,
        );
        assert!(TrustedRoot::parse(broken.as_bytes()).is_err());
    }
}
