//! HTTP handling: one function per endpoint of the distribution spec, errors as OCI error JSON.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use cosign_core::digest::Digest;
use cosign_core::manifest::{media_types, Descriptor, ImageIndex, ImageManifest};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::io::AsyncWriteExt as _;

use crate::storage::StoredManifest;
use crate::Registry;

/// The largest request body: a blob chunk or a manifest.
const BODY_LIMIT: usize = 512 * 1024 * 1024;
/// The largest manifest accepted (distribution's limit).
const MANIFEST_LIMIT: usize = 4 * 1024 * 1024;
/// The largest blob assembled from chunks.
const UPLOAD_LIMIT: usize = 2 * 1024 * 1024 * 1024;

type Answer = Response<Full<Bytes>>;

pub(crate) async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    registry: Arc<Registry>,
) -> std::io::Result<()> {
    // A TLS ClientHello (cosign 3 tries HTTPS first, even on loopback): answer in plain HTTP at
    // once, as Go's server does, so the client falls back to HTTP instead of waiting.
    let mut first = [0u8; 1];
    if stream.peek(&mut first).await? == 1 && first[0] == 0x16 {
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            .await?;
        return stream.shutdown().await;
    }
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper::service::service_fn(move |request| {
        let registry = registry.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(request, &registry, peer).await) }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await
        .map_err(std::io::Error::other)
}

async fn handle(request: Request<Incoming>, registry: &Registry, peer: SocketAddr) -> Answer {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let answer = route(request, registry, &method, &path, &query).await;
    if registry.verbose {
        eprintln!(
            "{peer} {method} {path}{} {}",
            if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            },
            answer.status().as_u16()
        );
    }
    answer
}

async fn route(
    request: Request<Incoming>,
    registry: &Registry,
    method: &Method,
    path: &str,
    query: &str,
) -> Answer {
    if path == "/v2/" || path == "/v2" {
        return json(StatusCode::OK, "{}".into());
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found");
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let storage = &registry.storage;
    if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/") {
        if !valid_name(name) {
            return error(
                StatusCode::NOT_FOUND,
                "NAME_INVALID",
                "invalid repository name",
            );
        }
        return uploads(storage, method, name, id, query, body);
    }
    if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        if !valid_name(name) {
            return error(
                StatusCode::NOT_FOUND,
                "NAME_INVALID",
                "invalid repository name",
            );
        }
        return manifests(storage, method, name, reference, body);
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        let Ok(digest) = digest.parse::<Digest>() else {
            return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "invalid digest");
        };
        return blobs(storage, method, name, &digest);
    }
    if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
        let Ok(digest) = digest.parse::<Digest>() else {
            return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "invalid digest");
        };
        return referrers(storage, name, &digest, query);
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return tags(storage, name, query);
    }
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "not found")
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, Answer> {
    match Limited::new(request.into_body(), BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            "request body too large",
        )),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
}

fn query_value(query: &str, key: &str) -> Option<String> {
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

fn uploads(
    storage: &crate::Storage,
    method: &Method,
    name: &str,
    id: &str,
    query: &str,
    body: Bytes,
) -> Answer {
    let location = |id: &str| format!("/v2/{name}/blobs/uploads/{id}");
    match (method, id) {
        (&Method::POST, "") => {
            if let (Some(mount), Some(from)) =
                (query_value(query, "mount"), query_value(query, "from"))
            {
                if let Ok(digest) = mount.parse::<Digest>() {
                    if storage.mount_blob(name, &from, &digest).unwrap_or(false) {
                        return blob_created(name, &digest);
                    }
                }
            }
            if let Some(digest) = query_value(query, "digest") {
                return finish_upload(storage, name, &digest, body.to_vec());
            }
            let id = storage.start_upload(name);
            empty(StatusCode::ACCEPTED)
                .header("Location", location(&id))
                .header("Range", "0-0")
                .header("Docker-Upload-UUID", id)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        }
        (&Method::PATCH, id) if !id.is_empty() => {
            match storage.append_upload(name, id, &body, UPLOAD_LIMIT) {
                None => error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "blob upload unknown to registry",
                ),
                Some(Err(())) => error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SIZE_INVALID",
                    "upload too large",
                ),
                Some(Ok(size)) => empty(StatusCode::ACCEPTED)
                    .header("Location", location(id))
                    .header("Range", format!("0-{}", size.saturating_sub(1)))
                    .header("Docker-Upload-UUID", id)
                    .body(Full::new(Bytes::new()))
                    .unwrap_or_default(),
            }
        }
        (&Method::PUT, id) if !id.is_empty() => {
            let Some(digest) = query_value(query, "digest") else {
                return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "digest missing");
            };
            if storage
                .append_upload(name, id, &body, UPLOAD_LIMIT)
                .is_none()
            {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "blob upload unknown to registry",
                );
            }
            let Some(data) = storage.take_upload(name, id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UPLOAD_UNKNOWN",
                    "blob upload unknown to registry",
                );
            };
            finish_upload(storage, name, &digest, data)
        }
        (&Method::GET, id) if !id.is_empty() => match storage.upload_size(name, id) {
            Some(size) => empty(StatusCode::NO_CONTENT)
                .header("Location", location(id))
                .header("Range", format!("0-{}", size.saturating_sub(1)))
                .header("Docker-Upload-UUID", id)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default(),
            None => error(
                StatusCode::NOT_FOUND,
                "BLOB_UPLOAD_UNKNOWN",
                "blob upload unknown to registry",
            ),
        },
        (&Method::DELETE, id) if !id.is_empty() => match storage.take_upload(name, id) {
            Some(_) => empty(StatusCode::NO_CONTENT)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default(),
            None => error(
                StatusCode::NOT_FOUND,
                "BLOB_UPLOAD_UNKNOWN",
                "blob upload unknown to registry",
            ),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "method not allowed",
        ),
    }
}

/// Checks the uploaded bytes against the digest the client named, then stores them.
fn finish_upload(storage: &crate::Storage, name: &str, digest: &str, data: Vec<u8>) -> Answer {
    let Ok(digest) = digest.parse::<Digest>() else {
        return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "invalid digest");
    };
    if !digest.matches(&data) {
        return error(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    }
    match storage.put_blob(name, &digest, data) {
        Ok(()) => blob_created(name, &digest),
        Err(failure) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            &failure.to_string(),
        ),
    }
}

fn blob_created(name: &str, digest: &Digest) -> Answer {
    empty(StatusCode::CREATED)
        .header("Location", format!("/v2/{name}/blobs/{digest}"))
        .header("Docker-Content-Digest", digest.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

fn blobs(storage: &crate::Storage, method: &Method, name: &str, digest: &Digest) -> Answer {
    match *method {
        Method::GET | Method::HEAD => match storage.blob(name, digest) {
            Some(bytes) => {
                let length = bytes.len();
                let body = if *method == Method::HEAD {
                    Bytes::new()
                } else {
                    Bytes::from(bytes)
                };
                empty(StatusCode::OK)
                    .header("Content-Type", "application/octet-stream")
                    .header("Content-Length", length)
                    .header("Docker-Content-Digest", digest.to_string())
                    .body(Full::new(body))
                    .unwrap_or_default()
            }
            None => error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
            ),
        },
        Method::DELETE => match storage.delete_blob(name, digest) {
            Ok(true) => empty(StatusCode::ACCEPTED)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default(),
            Ok(false) => error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
            ),
            Err(failure) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                &failure.to_string(),
            ),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "method not allowed",
        ),
    }
}

fn manifests(
    storage: &crate::Storage,
    method: &Method,
    name: &str,
    reference: &str,
    body: Bytes,
) -> Answer {
    match *method {
        Method::GET | Method::HEAD => match storage.manifest(name, reference) {
            Some((digest, manifest)) => {
                let length = manifest.bytes.len();
                let bytes = if *method == Method::HEAD {
                    Bytes::new()
                } else {
                    Bytes::from(manifest.bytes)
                };
                empty(StatusCode::OK)
                    .header("Content-Type", manifest.media_type)
                    .header("Content-Length", length)
                    .header("Docker-Content-Digest", digest.to_string())
                    .body(Full::new(bytes))
                    .unwrap_or_default()
            }
            None => error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                "manifest unknown",
            ),
        },
        Method::PUT => put_manifest(storage, name, reference, body),
        Method::DELETE => match storage.delete_manifest(name, reference) {
            Ok(true) => empty(StatusCode::ACCEPTED)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default(),
            Ok(false) => error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                "manifest unknown",
            ),
            Err(failure) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                &failure.to_string(),
            ),
        },
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "method not allowed",
        ),
    }
}

fn put_manifest(storage: &crate::Storage, name: &str, reference: &str, body: Bytes) -> Answer {
    if body.len() > MANIFEST_LIMIT {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            "manifest too large",
        );
    }
    let media_type = cosign_core::manifest::sniff_media_type(&body).unwrap_or_default();
    // Every blob an image manifest names must be here; every manifest an index names too.
    let subject = if media_types::is_index(&media_type) {
        match ImageIndex::parse(&body) {
            Ok(index) => {
                if let Some(missing) = index
                    .manifests
                    .iter()
                    .find(|entry| storage.manifest(name, &entry.digest.to_string()).is_none())
                {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "MANIFEST_BLOB_UNKNOWN",
                        &format!("manifest unknown: {}", missing.digest),
                    );
                }
                index.subject
            }
            Err(failure) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "MANIFEST_INVALID",
                    &failure.to_string(),
                )
            }
        }
    } else {
        match ImageManifest::parse(&body) {
            Ok(manifest) => {
                let named = std::iter::once(&manifest.config).chain(manifest.layers.iter());
                if let Some(missing) = named
                    .clone()
                    .find(|descriptor| storage.has_blob(name, &descriptor.digest).is_none())
                {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "MANIFEST_BLOB_UNKNOWN",
                        &format!("blob unknown to registry: {}", missing.digest),
                    );
                }
                manifest.subject
            }
            Err(failure) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "MANIFEST_INVALID",
                    &failure.to_string(),
                )
            }
        }
    };
    let digest = Digest::sha256(&body);
    let tag = match reference.parse::<Digest>() {
        Ok(named) if named != digest => {
            return error(
                StatusCode::BAD_REQUEST,
                "DIGEST_INVALID",
                "provided digest did not match uploaded content",
            )
        }
        Ok(_) => None,
        Err(_) => Some(reference),
    };
    let stored = StoredManifest {
        media_type,
        bytes: body.to_vec(),
    };
    match storage.put_manifest(name, tag, stored) {
        Ok(digest) => {
            let mut answer = empty(StatusCode::CREATED)
                .header("Location", format!("/v2/{name}/manifests/{digest}"))
                .header("Docker-Content-Digest", digest.to_string());
            if let Some(subject) = subject {
                answer = answer.header("OCI-Subject", subject.digest.to_string());
            }
            answer.body(Full::new(Bytes::new())).unwrap_or_default()
        }
        Err(failure) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN",
            &failure.to_string(),
        ),
    }
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=...]`: an OCI index of the manifests whose
/// subject is `digest`.
fn referrers(storage: &crate::Storage, name: &str, digest: &Digest, query: &str) -> Answer {
    let filter = query_value(query, "artifactType");
    let mut entries: Vec<Descriptor> = storage
        .manifests(name)
        .into_iter()
        .filter_map(|(manifest_digest, stored)| {
            let (subject, artifact_type, annotations) = if media_types::is_index(&stored.media_type)
            {
                let index = ImageIndex::parse(&stored.bytes).ok()?;
                (index.subject, index.artifact_type, index.annotations)
            } else {
                let manifest = ImageManifest::parse(&stored.bytes).ok()?;
                let artifact_type = manifest
                    .artifact_type
                    .clone()
                    .or_else(|| Some(manifest.config.media_type.clone()));
                (manifest.subject, artifact_type, manifest.annotations)
            };
            (subject?.digest == *digest).then(|| Descriptor {
                media_type: stored.media_type.clone(),
                size: stored.bytes.len() as u64,
                digest: manifest_digest,
                urls: None,
                annotations,
                platform: None,
                artifact_type,
            })
        })
        .filter(|entry| {
            filter
                .as_deref()
                .is_none_or(|wanted| entry.artifact_type.as_deref() == Some(wanted))
        })
        .collect();
    entries.sort_by_key(|entry| entry.digest.to_string());
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_owned()),
        manifests: entries,
        annotations: None,
        subject: None,
        artifact_type: None,
    };
    let mut answer = empty(StatusCode::OK).header("Content-Type", media_types::OCI_INDEX);
    if filter.is_some() {
        answer = answer.header("OCI-Filters-Applied", "artifactType");
    }
    answer
        .body(Full::new(Bytes::from(index.to_bytes())))
        .unwrap_or_default()
}

/// `GET /v2/<name>/tags/list[?n=..&last=..]`, paginated with a `Link` header.
fn tags(storage: &crate::Storage, name: &str, query: &str) -> Answer {
    let Some(mut tags) = storage.tags(name) else {
        return error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
    tags.sort();
    if let Some(last) = query_value(query, "last") {
        tags.retain(|tag| *tag > last);
    }
    let limit = query_value(query, "n").and_then(|n| n.parse::<usize>().ok());
    let mut link = None;
    if let Some(limit) = limit {
        if tags.len() > limit {
            tags.truncate(limit);
            if let Some(last) = tags.last() {
                link = Some(format!(
                    "</v2/{name}/tags/list?n={limit}&last={last}>; rel=\"next\""
                ));
            }
        }
    }
    let body = serde_json::json!({"name": name, "tags": tags}).to_string();
    let mut answer = empty(StatusCode::OK).header("Content-Type", "application/json");
    if let Some(link) = link {
        answer = answer.header("Link", link);
    }
    answer
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

fn empty(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder()
        .status(status)
        .header("Docker-Distribution-API-Version", "registry/2.0")
}

fn json(status: StatusCode, body: String) -> Answer {
    empty(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The OCI error body: `{"errors":[{"code","message"}]}`.
fn error(status: StatusCode, code: &str, message: &str) -> Answer {
    let body = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
    json(status, body)
}
