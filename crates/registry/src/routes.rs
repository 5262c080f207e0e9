//! HTTP handling: one function per endpoint of the distribution spec, errors as OCI error JSON.
//! Request bodies are streamed (blobs straight to their upload file, manifests collected up to
//! their 4 MiB cap), blobs and manifests are answered from their files.

use std::net::SocketAddr;
use std::sync::Arc;

use cosign_core::digest::{Digest, DigestAlgorithm, DigestCheck};
use cosign_core::image::manifest::{media_types, Descriptor, ImageIndex};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::io::AsyncWriteExt as _;

use crate::manifests::{self, Dependencies};
use crate::names::{Reference, RepositoryName};
use crate::request::{query_value, route, Route};
use crate::uploads::Session;
use crate::Registry;
use cosign_server::body::{self, AnswerBody, BodyError, RequestBody};

/// The largest manifest accepted (distribution's limit).
const MANIFEST_LIMIT: u64 = cosign_core::image::manifest::MANIFEST_SIZE_LIMIT as u64;
/// The largest referrers list answered in one page (the rest through `Link`).
const REFERRERS_PAGE_LIMIT: usize = 4 * 1024 * 1024;

pub(crate) type Answer = Response<AnswerBody>;

pub(crate) async fn handle(
    request: Request<Incoming>,
    registry: Arc<Registry>,
    peer: SocketAddr,
) -> Answer {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let answer = authorized(request, &registry, &method, &path, &query).await;
    if registry.verbose {
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        eprintln!("{peer} {method} {path}{query} {}", answer.status().as_u16());
    }
    answer
}

async fn authorized(
    request: Request<Incoming>,
    registry: &Registry,
    method: &Method,
    path: &str,
    query: &str,
) -> Answer {
    if let Some(auth) = &registry.auth {
        let header = request
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .map(|value| value.as_bytes());
        if !auth.allows(header).await {
            let mut answer = error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "authentication required",
            );
            if let Ok(challenge) = "Basic realm=\"cosign-registry\"".parse() {
                answer
                    .headers_mut()
                    .insert(hyper::header::WWW_AUTHENTICATE, challenge);
            }
            return answer;
        }
    }
    let route = match route(path) {
        Ok(route) => route,
        Err(refused) => {
            let status = match refused.code() {
                "NOT_FOUND" | "BLOB_UPLOAD_UNKNOWN" => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            return error(status, refused.code(), &refused.to_string());
        }
    };
    let content_range = request
        .headers()
        .get(hyper::header::CONTENT_RANGE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = RequestBody::new(request.into_body(), registry.limits.body_idle);
    match (method.clone(), route) {
        (_, Route::Ping) => json(StatusCode::OK, "{}".into()),
        (Method::GET | Method::HEAD, Route::Blob { name, digest }) => {
            get_blob(registry, method, &name, &digest).await
        }
        (Method::DELETE, Route::Blob { name, digest }) => {
            match registry.storage.delete_blob(&name, &digest) {
                Ok(true) => status(StatusCode::ACCEPTED),
                Ok(false) => blob_unknown(),
                Err(failure) => internal(&failure),
            }
        }
        (Method::POST, Route::StartUpload { name }) => {
            start_upload(registry, &name, query, body).await
        }
        (Method::PATCH, Route::Upload { name, id }) => {
            patch_upload(registry, &name, &id, content_range.as_deref(), body).await
        }
        (Method::PUT, Route::Upload { name, id }) => {
            let Some(digest) = query_value(query, "digest") else {
                return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "digest missing");
            };
            finish_upload(registry, &name, &id, &digest, body).await
        }
        (Method::GET, Route::Upload { name, id }) => match registry.uploads.get(&name, &id).await {
            Some(session) => {
                let session = session.lock().await;
                upload_progress(StatusCode::NO_CONTENT, &name, &id, session.size)
            }
            None => upload_unknown(),
        },
        (Method::DELETE, Route::Upload { name, id }) => {
            if registry.uploads.get(&name, &id).await.is_none() {
                return upload_unknown();
            }
            registry.uploads.remove(&id);
            status(StatusCode::NO_CONTENT)
        }
        (Method::GET | Method::HEAD, Route::Manifest { name, reference }) => {
            get_manifest(registry, method, &name, &reference).await
        }
        (Method::PUT, Route::Manifest { name, reference }) => {
            put_manifest(registry, &name, &reference, body).await
        }
        (Method::DELETE, Route::Manifest { name, reference }) => {
            let deleted = match &reference {
                Reference::Digest(digest) => registry.storage.delete_manifest(&name, digest),
                Reference::Tag(tag) => registry.storage.delete_tag(&name, tag),
            };
            match deleted {
                Ok(true) => status(StatusCode::ACCEPTED),
                Ok(false) => manifest_unknown(),
                Err(failure) => internal(&failure),
            }
        }
        (Method::GET, Route::Referrers { name, subject }) => {
            referrers(registry, &name, &subject, query).await
        }
        (Method::GET, Route::Tags { name }) => tags(registry, &name, query),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            "method not allowed",
        ),
    }
}

async fn get_blob(
    registry: &Registry,
    method: &Method,
    name: &RepositoryName,
    digest: &Digest,
) -> Answer {
    let Some((path, size)) = registry.storage.blob(name, digest) else {
        return blob_unknown();
    };
    let content = if *method == Method::HEAD {
        body::empty()
    } else {
        match std::fs::File::open(&path) {
            Ok(file) => body::file(file),
            Err(_) => return blob_unknown(),
        }
    };
    builder(StatusCode::OK)
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", size)
        .header("Docker-Content-Digest", digest.to_string())
        .body(content)
        .unwrap_or_default()
}

/// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount, a whole blob in one request
/// (`?digest=`), or a new upload session.
async fn start_upload(
    registry: &Registry,
    name: &RepositoryName,
    query: &str,
    body: RequestBody,
) -> Answer {
    if let (Some(mount), Some(from)) = (query_value(query, "mount"), query_value(query, "from")) {
        if let (Ok(digest), Ok(from)) = (mount.parse::<Digest>(), from.parse::<RepositoryName>()) {
            match registry.storage.mount_blob(name, &from, &digest) {
                Ok(true) => return blob_created(name, &digest),
                Ok(false) => {}
                Err(failure) => return internal(&failure),
            }
        }
    }
    let id = match registry.uploads.start(name) {
        Ok(Some(id)) => id,
        Ok(None) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOOMANYREQUESTS",
                "too many uploads in progress; finish or cancel some, or retry later",
            )
        }
        Err(failure) => return internal(&failure),
    };
    if let Some(digest) = query_value(query, "digest") {
        return finish_upload(registry, name, &id, &digest, body).await;
    }
    upload_progress(StatusCode::ACCEPTED, name, &id, 0)
}

/// `PATCH`: appends the body (at the offset `Content-Range` names, if it names one).
async fn patch_upload(
    registry: &Registry,
    name: &RepositoryName,
    id: &str,
    content_range: Option<&str>,
    body: RequestBody,
) -> Answer {
    let Some(session) = registry.uploads.get(name, id).await else {
        return upload_unknown();
    };
    let mut session = session.lock().await;
    if let Some(range) = content_range {
        let start = range
            .trim()
            .trim_start_matches("bytes ")
            .split(['-', '/'])
            .next()
            .and_then(|start| start.trim().parse::<u64>().ok());
        if start != Some(session.size) {
            return upload_progress(StatusCode::RANGE_NOT_SATISFIABLE, name, id, session.size);
        }
    }
    if let Err(answer) = append(registry, &mut session, body).await {
        drop(session);
        registry.uploads.remove(id);
        return answer;
    }
    upload_progress(StatusCode::ACCEPTED, name, id, session.size)
}

/// `PUT ?digest=`: appends the body, checks the whole upload against the digest, stores it.
async fn finish_upload(
    registry: &Registry,
    name: &RepositoryName,
    id: &str,
    digest: &str,
    body: RequestBody,
) -> Answer {
    let Some(session) = registry.uploads.get(name, id).await else {
        return upload_unknown();
    };
    let mut session = session.lock().await;
    let answer = match append(registry, &mut session, body).await {
        Err(answer) => answer,
        Ok(()) => match digest.parse::<Digest>() {
            Err(_) => error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "invalid digest"),
            Ok(digest) => match matches_digest(&session, &digest).await {
                Ok(false) => error(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    "provided digest did not match uploaded content",
                ),
                Ok(true) => {
                    let storage = registry.storage.clone();
                    let (name_owned, digest_owned, path) =
                        (name.clone(), digest.clone(), session.path.clone());
                    let committed = tokio::task::spawn_blocking(move || {
                        storage.commit_blob(&name_owned, &digest_owned, &path)
                    })
                    .await;
                    match committed {
                        Ok(Ok(())) => blob_created(name, &digest),
                        Ok(Err(failure)) => internal(&failure),
                        Err(failure) => internal(&failure),
                    }
                }
                Err(failure) => internal(&failure),
            },
        },
    };
    drop(session);
    // Whatever the outcome, the session is over (its file is gone or now the blob's).
    registry.uploads.remove(id);
    answer
}

/// Streams `body` onto the end of the session's file, hashing on the way; refuses to grow the
/// upload past the blob size limit.
async fn append(
    registry: &Registry,
    session: &mut Session,
    mut body: RequestBody,
) -> Result<(), Answer> {
    let limit = registry.uploads.limits().max_blob_size;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            &format!("blob larger than this registry's {limit}-byte limit"),
        )
    };
    if body
        .declared_length()
        .is_some_and(|length| session.size.saturating_add(length) > limit)
    {
        return Err(too_large());
    }
    let mut file = tokio::fs::OpenOptions::new()
        .append(true)
        .open(&session.path)
        .await
        .map_err(|failure| internal(&failure))?;
    loop {
        let data = match body.next().await {
            Ok(Some(data)) => data,
            Ok(None) => break,
            Err(failure) => return Err(body_error(&failure)),
        };
        if session.size.saturating_add(data.len() as u64) > limit {
            return Err(too_large());
        }
        session.hasher.update(&data);
        file.write_all(&data)
            .await
            .map_err(|failure| internal(&failure))?;
        session.size += data.len() as u64;
    }
    file.flush().await.map_err(|failure| internal(&failure))?;
    session.touch();
    Ok(())
}

/// Whether the session's bytes hash to `digest` (SHA-256 was computed on the way in; another
/// algorithm reads the file again).
async fn matches_digest(session: &Session, digest: &Digest) -> std::io::Result<bool> {
    if digest.algorithm() == DigestAlgorithm::Sha256 {
        return Ok(session.hasher.clone().finish() == *digest);
    }
    let path = session.path.clone();
    let digest = digest.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let mut check = DigestCheck::new(&digest);
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                return Ok(check.matches());
            }
            check.update(buffer.get(..read).unwrap_or_default());
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn get_manifest(
    registry: &Registry,
    method: &Method,
    name: &RepositoryName,
    reference: &Reference,
) -> Answer {
    let Some((digest, record)) = registry.storage.manifest(name, reference) else {
        return manifest_unknown();
    };
    let content = if *method == Method::HEAD {
        body::empty()
    } else {
        match registry.storage.manifest_bytes(name, &digest) {
            Ok(bytes) => body::full(bytes),
            Err(_) => return manifest_unknown(),
        }
    };
    builder(StatusCode::OK)
        .header("Content-Type", record.media_type)
        .header("Content-Length", record.size)
        .header("Docker-Content-Digest", digest.to_string())
        .body(content)
        .unwrap_or_default()
}

async fn put_manifest(
    registry: &Registry,
    name: &RepositoryName,
    reference: &Reference,
    body: RequestBody,
) -> Answer {
    let bytes = match body.collect(MANIFEST_LIMIT).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge { .. }) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "MANIFEST_INVALID",
                "manifest larger than 4 MiB",
            )
        }
        Err(failure) => return body_error(&failure),
    };
    let parsed = match manifests::parse(&bytes) {
        Ok(parsed) => parsed,
        Err(failure) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MANIFEST_INVALID",
                &failure.to_string(),
            )
        }
    };
    // Every blob an image manifest names must be here; every manifest an index names too.
    let missing = match &parsed.dependencies {
        Dependencies::Blobs(blobs) => blobs
            .iter()
            .find(|digest| !registry.storage.has_blob(name, digest))
            .map(|digest| format!("blob unknown to registry: {digest}")),
        Dependencies::Manifests(children) => children
            .iter()
            .find(|digest| !registry.storage.has_manifest(name, digest))
            .map(|digest| format!("manifest unknown: {digest}")),
    };
    if let Some(missing) = missing {
        return error(StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN", &missing);
    }
    let (digest, tag) = match reference {
        Reference::Digest(named) => {
            let mut check = DigestCheck::new(named);
            check.update(&bytes);
            if !check.matches() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    "provided digest did not match uploaded content",
                );
            }
            (named.clone(), None)
        }
        Reference::Tag(tag) => (Digest::sha256(&bytes), Some(tag)),
    };
    let subject = parsed.record.subject.clone();
    if let Err(failure) = registry
        .storage
        .put_manifest(name, tag, &digest, &bytes, parsed.record)
    {
        return internal(&failure);
    }
    let mut answer = builder(StatusCode::CREATED)
        .header("Location", format!("/v2/{name}/manifests/{digest}"))
        .header("Docker-Content-Digest", digest.to_string());
    if let Some(subject) = subject {
        answer = answer.header("OCI-Subject", subject.to_string());
    }
    answer.body(body::empty()).unwrap_or_default()
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=...]`: an OCI index of the manifests whose
/// subject is `digest`, in pages of at most 4 MiB (the next page through `Link`, `?last=`).
async fn referrers(
    registry: &Registry,
    name: &RepositoryName,
    subject: &Digest,
    query: &str,
) -> Answer {
    let filter = query_value(query, "artifactType");
    let after = query_value(query, "last").and_then(|last| last.parse::<Digest>().ok());
    let mut entries: Vec<Descriptor> = Vec::new();
    let mut page_size = 0usize;
    let mut next = None;
    for (digest, record) in registry.storage.referrers(name, subject) {
        if after.as_ref().is_some_and(|after| digest <= *after) {
            continue;
        }
        let Ok(bytes) = registry.storage.manifest_bytes(name, &digest) else {
            continue;
        };
        let Some(entry) = manifests::referrer_descriptor(digest, &record, &bytes) else {
            continue;
        };
        if filter
            .as_deref()
            .is_some_and(|wanted| entry.artifact_type.as_deref() != Some(wanted))
        {
            continue;
        }
        let entry_size = serde_json::to_vec(&entry).map(|v| v.len()).unwrap_or(0);
        if page_size + entry_size > REFERRERS_PAGE_LIMIT && !entries.is_empty() {
            next = entries.last().map(|last| last.digest.clone());
            break;
        }
        page_size += entry_size;
        entries.push(entry);
    }
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(media_types::OCI_INDEX.to_owned()),
        manifests: entries,
        annotations: None,
        subject: None,
        artifact_type: None,
    };
    let mut answer = builder(StatusCode::OK).header("Content-Type", media_types::OCI_INDEX);
    if filter.is_some() {
        answer = answer.header("OCI-Filters-Applied", "artifactType");
    }
    if let Some(last) = next {
        let filter = filter
            .map(|wanted| format!("&artifactType={}", percent_encode(&wanted)))
            .unwrap_or_default();
        answer = answer.header(
            "Link",
            format!("</v2/{name}/referrers/{subject}?last={last}{filter}>; rel=\"next\""),
        );
    }
    answer
        .body(body::full(index.to_bytes()))
        .unwrap_or_default()
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `GET /v2/<name>/tags/list[?n=..&last=..]`, paginated with a `Link` header.
fn tags(registry: &Registry, name: &RepositoryName, query: &str) -> Answer {
    let Some(mut tags) = registry.storage.tags(name) else {
        return error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        );
    };
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
    let body = serde_json::json!({"name": name.as_str(), "tags": tags}).to_string();
    let mut answer = builder(StatusCode::OK).header("Content-Type", "application/json");
    if let Some(link) = link {
        answer = answer.header("Link", link);
    }
    answer.body(body::full(body)).unwrap_or_default()
}

fn upload_progress(code: StatusCode, name: &RepositoryName, id: &str, size: u64) -> Answer {
    let range = if size == 0 {
        "0-0".to_owned()
    } else {
        format!("0-{}", size - 1)
    };
    builder(code)
        .header("Location", format!("/v2/{name}/blobs/uploads/{id}"))
        .header("Range", range)
        .header("Docker-Upload-UUID", id)
        .body(body::empty())
        .unwrap_or_default()
}

fn blob_created(name: &RepositoryName, digest: &Digest) -> Answer {
    builder(StatusCode::CREATED)
        .header("Location", format!("/v2/{name}/blobs/{digest}"))
        .header("Docker-Content-Digest", digest.to_string())
        .body(body::empty())
        .unwrap_or_default()
}

fn builder(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder()
        .status(status)
        .header("Docker-Distribution-API-Version", "registry/2.0")
}

fn status(code: StatusCode) -> Answer {
    builder(code).body(body::empty()).unwrap_or_default()
}

fn json(code: StatusCode, body: String) -> Answer {
    builder(code)
        .header("Content-Type", "application/json")
        .body(body::full(body))
        .unwrap_or_default()
}

/// The OCI error body: `{"errors":[{"code","message"}]}`.
pub(crate) fn error(code: StatusCode, error_code: &str, message: &str) -> Answer {
    let body =
        serde_json::json!({"errors": [{"code": error_code, "message": message}]}).to_string();
    json(code, body)
}

fn internal(failure: &dyn std::fmt::Display) -> Answer {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "UNKNOWN",
        &failure.to_string(),
    )
}

fn body_error(failure: &BodyError) -> Answer {
    match failure {
        BodyError::TooLarge { .. } => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            &failure.to_string(),
        ),
        BodyError::Idle(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            "BLOB_UPLOAD_INVALID",
            &failure.to_string(),
        ),
        BodyError::Transport(_) | BodyError::Write(_) => error(
            StatusCode::BAD_REQUEST,
            "BLOB_UPLOAD_INVALID",
            &failure.to_string(),
        ),
    }
}

fn blob_unknown() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "BLOB_UNKNOWN",
        "blob unknown to registry",
    )
}

fn manifest_unknown() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
        "manifest unknown",
    )
}

fn upload_unknown() -> Answer {
    error(
        StatusCode::NOT_FOUND,
        "BLOB_UPLOAD_UNKNOWN",
        "blob upload unknown to registry",
    )
}
