//! Attestations as cosign makes them (`cosign attest --predicate FILE --type T`): an in-toto
//! statement whose subject is the artifact and whose predicate is the file, typed by `--type`
//! (cosign's short names or any URI), signed as a DSSE envelope. cosign 3.1 writes
//! `https://in-toto.io/Statement/v0.1` statements whatever the predicate, keys in the order
//! `_type`, `subject`, `predicateType`, `predicate`; a JSON predicate is re-encoded with its
//! object keys sorted; `custom` wraps the file's text as `{"Data": ..., "Timestamp": ...}`.

use serde::Serialize;

use crate::digest::Digest;
use crate::time::UnixTime;

/// The in-toto statement type cosign 3.1 writes for attestations.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v0.1";
/// The largest predicate read (cosign's attachment cap).
pub const PREDICATE_SIZE_LIMIT: usize = 128 * 1024 * 1024;

/// cosign's short names for predicate types, and the URIs they stand for.
pub const PREDICATE_TYPES: &[(&str, &str)] = &[
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
    ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("link", "https://in-toto.io/Link/v1"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// cosign's words for a `--type` that is neither a short name nor a URI.
    #[error("invalid predicate type: {0}")]
    PredicateType(String),
    #[error("predicate is {size} bytes, over the {PREDICATE_SIZE_LIMIT}-byte limit")]
    TooLarge { size: usize },
    /// A custom predicate must be text.
    #[error("proto: invalid UTF-8 in string")]
    NotText,
    /// A JSON predicate type given something else (cosign's words).
    #[error("invalid JSON payload for predicate type {predicate_type}: {source}")]
    Json {
        predicate_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid JSON payload for predicate type {predicate_type}: json: cannot unmarshal {found} into Go value of type map[string]interface {{}}")]
    NotAnObject {
        predicate_type: String,
        found: &'static str,
    },
}

/// The URI `--type` names: a short name's, or the value itself when it is a URI.
pub fn predicate_type_uri(name: &str) -> Result<String, AttestationError> {
    if let Some((_, uri)) = PREDICATE_TYPES.iter().find(|(short, _)| *short == name) {
        return Ok((*uri).to_owned());
    }
    // Go's url.ParseRequestURI: an absolute URI (a scheme and something after it) or a path.
    let is_uri = match name.split_once(':') {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && scheme
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic())
                && !rest.is_empty()
        }
        None => name.starts_with('/'),
    };
    if is_uri && !name.contains(char::is_whitespace) {
        Ok(name.to_owned())
    } else {
        Err(AttestationError::PredicateType(name.to_owned()))
    }
}

/// A subject of a statement: a name and a SHA-256 digest.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub digest: Digest,
}

/// The statement `cosign attest --type <type_name>` signs for `predicate` (the file's bytes)
/// and `subject`, at `now` (the custom predicate's timestamp).
pub fn statement(
    type_name: &str,
    predicate: &[u8],
    subject: &Subject,
    now: UnixTime,
) -> Result<Vec<u8>, AttestationError> {
    if predicate.len() > PREDICATE_SIZE_LIMIT {
        return Err(AttestationError::TooLarge {
            size: predicate.len(),
        });
    }
    let predicate_type = predicate_type_uri(type_name)?;
    let predicate = match type_name {
        "custom" => {
            let text = std::str::from_utf8(predicate).map_err(|_| AttestationError::NotText)?;
            serde_json::json!({"Data": text, "Timestamp": now.to_string()})
        }
        // SPDX in tag-value form: the text itself.
        "spdx" => serde_json::Value::String(String::from_utf8_lossy(predicate).into_owned()),
        _ => {
            let value: serde_json::Value =
                serde_json::from_slice(predicate).map_err(|source| AttestationError::Json {
                    predicate_type: predicate_type.clone(),
                    source,
                })?;
            let found = match &value {
                serde_json::Value::Object(_) => None,
                serde_json::Value::Array(_) => Some("array"),
                serde_json::Value::String(_) => Some("string"),
                serde_json::Value::Number(_) => Some("number"),
                serde_json::Value::Bool(_) => Some("bool"),
                serde_json::Value::Null => None,
            };
            if let Some(found) = found {
                return Err(AttestationError::NotAnObject {
                    predicate_type,
                    found,
                });
            }
            value
        }
    };
    #[derive(Serialize)]
    struct Statement<'a> {
        #[serde(rename = "_type")]
        kind: &'a str,
        subject: [SubjectJson<'a>; 1],
        #[serde(rename = "predicateType")]
        predicate_type: &'a str,
        predicate: serde_json::Value,
    }
    #[derive(Serialize)]
    struct SubjectJson<'a> {
        name: &'a str,
        digest: std::collections::BTreeMap<&'a str, &'a str>,
    }
    let statement = Statement {
        kind: STATEMENT_TYPE,
        subject: [SubjectJson {
            name: &subject.name,
            digest: [(subject.digest.algorithm().name(), subject.digest.hex())]
                .into_iter()
                .collect(),
        }],
        predicate_type: &predicate_type,
        predicate,
    };
    Ok(serde_json::to_vec(&statement).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Subject {
        Subject {
            name: "registry.test/app".to_owned(),
            digest: Digest::sha256(b"image"),
        }
    }

    #[test]
    fn short_names_and_uris() {
        assert_eq!(
            predicate_type_uri("cyclonedx").unwrap(),
            "https://cyclonedx.org/bom"
        );
        assert_eq!(
            predicate_type_uri("https://example.com/p/v1").unwrap(),
            "https://example.com/p/v1"
        );
        for bad in ["foo", "", "not a uri", "://x"] {
            assert!(predicate_type_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statements_as_cosign_writes_them() {
        let now = UnixTime::from_seconds(1_700_000_000);
        let custom = statement("custom", b"hello\n", &subject(), now).unwrap();
        let text = String::from_utf8(custom).unwrap();
        assert!(text.starts_with(r#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"registry.test/app","digest":{"sha256":""#), "{text}");
        assert!(text.ends_with(r#""predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{"Data":"hello\n","Timestamp":"2023-11-14T22:13:20Z"}}"#), "{text}");
        let sorted = statement(
            "cyclonedx",
            br#"{"z":1,"a":{"y":2,"b":3}}"#,
            &subject(),
            now,
        )
        .unwrap();
        assert!(String::from_utf8(sorted)
            .unwrap()
            .ends_with(r#""predicate":{"a":{"b":3,"y":2},"z":1}}"#));
        assert!(matches!(
            statement("cyclonedx", b"[1]", &subject(), now),
            Err(AttestationError::NotAnObject { .. })
        ));
        assert!(matches!(
            statement("https://example.com/p", b"not json", &subject(), now),
            Err(AttestationError::Json { .. })
        ));
        assert!(statement("custom", &[0xff, 0xfe], &subject(), now).is_err());
    }
}
