//! in-toto statements (v0.1 and v1): cosign 3's image signature is a v1 statement whose
//! subject is the image digest and whose predicate type is `https://sigstore.dev/cosign/sign/v1`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::digest::Digest;
use crate::go_json;

pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";
/// The predicate type of cosign 3's image signatures.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// The most subjects we look at (sigstore-go's cap).
pub const SUBJECT_LIMIT: usize = 1024;

/// The statement cosign 3 signs for an image, byte for byte as it writes it (protojson, in
/// field order, annotations sorted, omitted when there are none).
pub fn image_signature_statement(
    digest: &Digest,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"_type":"#);
    go_json::push_string(&mut out, STATEMENT_V1);
    out.push_str(r#","subject":[{"digest":{"#);
    go_json::push_string(&mut out, digest.algorithm().name());
    out.push(':');
    go_json::push_string(&mut out, digest.hex());
    out.push('}');
    if !annotations.is_empty() {
        out.push_str(r#","annotations":{"#);
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
    out.push_str(r#"}],"predicateType":"#);
    go_json::push_string(&mut out, COSIGN_SIGN_PREDICATE);
    out.push_str(r#","predicate":{}}"#);
    out.into_bytes()
}

/// A statement as read back: what verification needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type", default)]
    pub kind: String,
    #[serde(default)]
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType", default)]
    pub predicate_type: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    #[error("parsing in-toto statement: {source}")]
    Parse {
        #[source]
        source: serde_json::Error,
    },
    #[error("unsupported in-toto statement type {kind:?}")]
    UnknownType { kind: String },
    #[error("in-toto statement has {count} subjects, over the limit of {SUBJECT_LIMIT}")]
    TooManySubjects { count: usize },
    #[error("no matching subject digest found")]
    NoMatchingSubject,
    #[error("missing or incorrect annotation")]
    Annotations,
}

impl Statement {
    pub fn parse(bytes: &[u8]) -> Result<Self, StatementError> {
        let statement: Self =
            serde_json::from_slice(bytes).map_err(|source| StatementError::Parse { source })?;
        if statement.kind != STATEMENT_V1 && statement.kind != STATEMENT_V0_1 {
            return Err(StatementError::UnknownType {
                kind: statement.kind,
            });
        }
        if statement.subject.len() > SUBJECT_LIMIT {
            return Err(StatementError::TooManySubjects {
                count: statement.subject.len(),
            });
        }
        Ok(statement)
    }

    /// The subject naming `digest`, if any.
    pub fn subject_for(&self, digest: &Digest) -> Option<&Subject> {
        self.subject.iter().find(|subject| {
            subject
                .digest
                .get(digest.algorithm().name())
                .is_some_and(|hex| hex == digest.hex())
        })
    }
}

impl Subject {
    /// cosign's `correctAnnotations` over the subject's annotations.
    pub fn has_annotations(&self, wanted: &BTreeMap<String, String>) -> bool {
        crate::image::simple_signing::annotations_match(self.annotations.as_ref(), wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_what_cosign_3_signs() {
        // The statement real cosign 3.1 signed with `-a team=blue` (captured from a registry).
        let expected = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"5dcb2f7b45ae6fbd7194c9c3ca2ae38849ff0449622e8aec40a8247afffe6c46"},"annotations":{"team":"blue"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}"#;
        let digest: Digest =
            "sha256:5dcb2f7b45ae6fbd7194c9c3ca2ae38849ff0449622e8aec40a8247afffe6c46"
                .parse()
                .expect("digest");
        let annotations: BTreeMap<String, String> = [("team".to_owned(), "blue".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(
            image_signature_statement(&digest, &annotations),
            expected.as_bytes()
        );
        let statement = Statement::parse(expected.as_bytes()).expect("parses");
        let subject = statement.subject_for(&digest).expect("subject");
        assert!(subject.has_annotations(&annotations));
        assert!(statement.subject_for(&Digest::sha256(b"other")).is_none());
        let plain =
            String::from_utf8(image_signature_statement(&digest, &BTreeMap::new())).expect("utf-8");
        assert!(!plain.contains("annotations"));
    }

    #[test]
    fn refuses_other_types_and_stuffed_subjects() {
        assert!(matches!(
            Statement::parse(br#"{"_type":"x","subject":[]}"#),
            Err(StatementError::UnknownType { .. })
        ));
        let subjects = vec![r#"{"digest":{"sha256":"00"}}"#; SUBJECT_LIMIT + 1].join(",");
        let stuffed = format!(r#"{{"_type":"{STATEMENT_V1}","subject":[{subjects}]}}"#);
        assert!(matches!(
            Statement::parse(stuffed.as_bytes()),
            Err(StatementError::TooManySubjects { .. })
        ));
    }
}
