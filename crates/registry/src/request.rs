//! Which endpoint a request path names, with every name, tag, digest and upload id in it checked
//! before any handler sees it. Pure: a path in, a [`Route`] or a refusal out.

use cosign_core::digest::Digest;

use crate::names::{NameError, Reference, RepositoryName};

/// The endpoints of the distribution spec (and the OCI 1.1 referrers API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/v2/`
    Ping,
    /// `/v2/<name>/blobs/<digest>`
    Blob {
        name: RepositoryName,
        digest: Digest,
    },
    /// `/v2/<name>/blobs/uploads/`
    StartUpload { name: RepositoryName },
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload { name: RepositoryName, id: String },
    /// `/v2/<name>/manifests/<reference>`
    Manifest {
        name: RepositoryName,
        reference: Reference,
    },
    /// `/v2/<name>/referrers/<digest>`
    Referrers {
        name: RepositoryName,
        subject: Digest,
    },
    /// `/v2/<name>/tags/list`
    Tags { name: RepositoryName },
}

/// Why a path names no endpoint; each maps to the spec's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RouteError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Name(NameError),
    #[error("invalid digest")]
    Digest,
    #[error("blob upload unknown to registry")]
    UploadId,
}

impl RouteError {
    /// The OCI error code for this refusal.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::Name(NameError::Repository) => "NAME_INVALID",
            Self::Name(NameError::Tag) => "TAG_INVALID",
            Self::Name(NameError::Digest) | Self::Digest => "DIGEST_INVALID",
            Self::UploadId => "BLOB_UPLOAD_UNKNOWN",
        }
    }
}

/// The longest path looked at (a name, an endpoint and a reference fit well within it).
const PATH_MAX: usize = 1024;

pub(crate) fn route(path: &str) -> Result<Route, RouteError> {
    if path == "/v2/" || path == "/v2" {
        return Ok(Route::Ping);
    }
    if path.len() > PATH_MAX {
        return Err(RouteError::NotFound);
    }
    let rest = path.strip_prefix("/v2/").ok_or(RouteError::NotFound)?;
    let name = |name: &str| name.parse::<RepositoryName>().map_err(RouteError::Name);
    let digest = |digest: &str| digest.parse::<Digest>().map_err(|_| RouteError::Digest);
    if let Some(name_part) = rest.strip_suffix("/tags/list") {
        return Ok(Route::Tags {
            name: name(name_part)?,
        });
    }
    if let Some(name_part) = rest.strip_suffix("/blobs/uploads/") {
        return Ok(Route::StartUpload {
            name: name(name_part)?,
        });
    }
    if let Some((name_part, id)) = rest.rsplit_once("/blobs/uploads/") {
        let name = name(name_part)?;
        if !crate::uploads::valid_id(id) {
            return Err(RouteError::UploadId);
        }
        return Ok(Route::Upload {
            name,
            id: id.to_owned(),
        });
    }
    // The last segment is a reference or digest; what precedes it names the endpoint.
    let (head, last) = rest.rsplit_once('/').ok_or(RouteError::NotFound)?;
    let (name_part, endpoint) = head.rsplit_once('/').ok_or(RouteError::NotFound)?;
    match endpoint {
        "manifests" => Ok(Route::Manifest {
            name: name(name_part)?,
            reference: last.parse::<Reference>().map_err(RouteError::Name)?,
        }),
        "blobs" => Ok(Route::Blob {
            name: name(name_part)?,
            digest: digest(last)?,
        }),
        "referrers" => Ok(Route::Referrers {
            name: name(name_part)?,
            subject: digest(last)?,
        }),
        _ => Err(RouteError::NotFound),
    }
}

/// The value of `key` in a query string, percent-decoded.
pub(crate) fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            if let Some(hex) = value
                .get(index + 1..index + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(hex);
                index += 3;
                continue;
            }
        }
        out.push(if byte == b'+' { b' ' } else { byte });
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn routes_the_spec_endpoints() {
        assert_eq!(route("/v2/"), Ok(Route::Ping));
        assert!(matches!(
            route("/v2/lab/app/tags/list"),
            Ok(Route::Tags { .. })
        ));
        assert!(matches!(
            route("/v2/lab/app/blobs/uploads/"),
            Ok(Route::StartUpload { .. })
        ));
        assert!(matches!(
            route(&format!("/v2/lab/app/blobs/uploads/{}", "0".repeat(32))),
            Ok(Route::Upload { .. })
        ));
        assert!(matches!(
            route(&format!("/v2/lab/app/blobs/{DIGEST}")),
            Ok(Route::Blob { .. })
        ));
        assert!(matches!(
            route("/v2/lab/app/manifests/v1"),
            Ok(Route::Manifest { .. })
        ));
        assert!(matches!(
            route(&format!("/v2/lab/app/manifests/{DIGEST}")),
            Ok(Route::Manifest {
                reference: Reference::Digest(_),
                ..
            })
        ));
        assert!(matches!(
            route(&format!("/v2/lab/app/referrers/{DIGEST}")),
            Ok(Route::Referrers { .. })
        ));
        // A repository may itself be called "manifests" or "blobs".
        assert!(matches!(
            route("/v2/manifests/manifests/v1"),
            Ok(Route::Manifest { .. })
        ));
    }

    #[test]
    fn refuses_traversal_and_bad_names() {
        for (path, code) in [
            ("/v2/lab/manifests/../../../../x/PWNED", "NOT_FOUND"),
            ("/v2/lab/manifests/..", "TAG_INVALID"),
            ("/v2/../x/manifests/v1", "NAME_INVALID"),
            ("/v2/lab/../x/manifests/v1", "NAME_INVALID"),
            ("/v2/Lab/manifests/v1", "NAME_INVALID"),
            ("/v2/lab/manifests/.hidden", "TAG_INVALID"),
            ("/v2/lab/manifests/sha256:..", "DIGEST_INVALID"),
            ("/v2/lab/blobs/sha256:../../x", "NOT_FOUND"),
            ("/v2/lab/blobs/uploads/../../../x", "BLOB_UPLOAD_UNKNOWN"),
            ("/v2/lab/blobs/uploads/1", "BLOB_UPLOAD_UNKNOWN"),
            ("/v2/lab/referrers/latest", "DIGEST_INVALID"),
            ("/v2/lab/%2e%2e/manifests/v1", "NAME_INVALID"),
            ("/etc/passwd", "NOT_FOUND"),
        ] {
            let refused = route(path).expect_err(path);
            assert_eq!(refused.code(), code, "{path}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_path_routes_or_is_refused_without_panic(path in "/v2/[a-z0-9._/:%-]{0,80}") {
            let _ = route(&path);
        }

        #[test]
        fn arbitrary_bytes_never_panic(path in "\\PC{0,300}") {
            let _ = route(&path);
            let _ = query_value(&path, "digest");
        }
    }
}
