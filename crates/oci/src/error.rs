//! Registry errors, printed as go-containerregistry prints them (cosign's messages embed
//! them: `GET http://host/v2/repo/manifests/tag: MANIFEST_UNKNOWN: manifest unknown; map[Tag:tag]`).

use std::fmt;

use cosign_core::digest::Digest;

/// One entry of the OCI error body `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    pub code: String,
    pub message: String,
    /// The detail, rendered as Go's `%v` would (`map[Tag:nope]`).
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered with an error status.
    #[error("{}", http_message(method, url, *status, errors, body))]
    Status {
        method: String,
        url: String,
        status: u16,
        errors: Vec<ErrorEntry>,
        body: String,
    },
    /// No answer: connection refused, reset, TLS failure...
    #[error("{method} {url}: {reason}")]
    Transport {
        method: String,
        url: String,
        reason: String,
    },
    /// Neither HTTPS nor (where allowed) HTTP reached the registry.
    #[error("{reason}")]
    Unreachable { registry: String, reason: String },
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    /// The content served under a digest hashes to something else.
    #[error("{url}: content digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        url: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("authenticating to {registry}: {reason}")]
    Authentication { registry: String, reason: String },
    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error("invalid URL {url}: {reason}")]
    Url { url: String, reason: String },
}

impl RegistryError {
    /// The HTTP status, for errors the registry answered with.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

fn http_message(method: &str, url: &str, status: u16, errors: &[ErrorEntry], body: &str) -> String {
    if errors.is_empty() {
        let text = status_text(status);
        let body = body.trim();
        if body.is_empty() {
            return format!("{method} {url}: unexpected status code {status} {text}");
        }
        return format!("{method} {url}: unexpected status code {status} {text}: {body}");
    }
    let entries: Vec<String> = errors
        .iter()
        .map(|entry| match &entry.detail {
            Some(detail) => format!("{}: {}; {}", entry.code, entry.message, detail),
            None => format!("{}: {}", entry.code, entry.message),
        })
        .collect();
    format!("{method} {url}: {}", entries.join("; "))
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Request Entity Too Large",
        416 => "Requested Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Parses an OCI error body; anything else gives no entries.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<ErrorEntry> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<serde_json::Value>,
    }
    let Ok(parsed) = serde_json::from_slice::<Body>(body) else {
        return Vec::new();
    };
    parsed
        .errors
        .into_iter()
        .take(16)
        .map(|entry| ErrorEntry {
            code: entry.code,
            message: entry.message,
            detail: entry.detail.filter(|d| !d.is_null()).map(|d| go_value(&d)),
        })
        .collect()
}

/// Renders a JSON value as Go's `fmt` `%v` renders the decoded `interface{}`.
fn go_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "<nil>".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(go_value).collect::<Vec<_>>().join(" ")
            )
        }
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_value(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

impl fmt::Display for ErrorEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_go_containerregistry() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#;
        let error = RegistryError::Status {
            method: "GET".to_owned(),
            url: "http://127.0.0.1:5123/v2/lab/nginx/manifests/nope".to_owned(),
            status: 404,
            errors: parse_error_body(body),
            body: String::new(),
        };
        assert_eq!(
            error.to_string(),
            "GET http://127.0.0.1:5123/v2/lab/nginx/manifests/nope: MANIFEST_UNKNOWN: manifest unknown; map[Tag:nope]"
        );
        assert!(error.is_not_found());
        let plain = RegistryError::Status {
            method: "GET".to_owned(),
            url: "u".to_owned(),
            status: 503,
            errors: parse_error_body(b"busy"),
            body: "busy".to_owned(),
        };
        assert_eq!(
            plain.to_string(),
            "GET u: unexpected status code 503 Service Unavailable: busy"
        );
    }
}
