//! Image references, parsed and normalized as cosign (go-containerregistry `name`) does:
//! `nginx` is `index.docker.io/library/nginx:latest`, `docker.io` is `index.docker.io`, and a
//! first component with a dot, a colon or `localhost` names the registry.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;

pub const DEFAULT_REGISTRY: &str = "index.docker.io";
pub const DEFAULT_TAG: &str = "latest";

/// A registry host and a repository in it: `localhost:5000/lab/nginx`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// The registry host (with port): `index.docker.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry: `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Parses `registry/path` (as in `COSIGN_REPOSITORY`), with Docker Hub's defaults.
    pub fn parse(value: &str) -> Result<Self, ReferenceError> {
        let (registry, path) = split_registry(value);
        let path = if registry == DEFAULT_REGISTRY && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        check_repository_path(&path, value)?;
        check_registry(&registry, value)?;
        Ok(Self { registry, path })
    }

    pub fn tag(&self, tag: &str) -> ImageReference {
        ImageReference {
            repository: self.clone(),
            target: Target::Tag(tag.to_owned()),
        }
    }

    pub fn digest(&self, digest: Digest) -> ImageReference {
        ImageReference {
            repository: self.clone(),
            target: Target::Digest(digest),
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({self})")
    }
}

/// What a reference points at in its repository.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Tag(String),
    Digest(Digest),
}

/// A parsed image reference: a repository and a tag or a digest.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    repository: Repository,
    target: Target,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    #[error("could not parse reference: {reference}")]
    Invalid { reference: String },
    #[error("repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: {reference}")]
    BadRepository { reference: String },
    #[error("tag can only contain the characters `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.`: {reference}")]
    BadTag { reference: String },
    #[error("registries must be valid RFC 3986 URI authorities: {reference}")]
    BadRegistry { reference: String },
    #[error("{source}")]
    BadDigest {
        #[from]
        source: crate::digest::DigestError,
    },
}

impl ImageReference {
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn digest(&self) -> Option<&Digest> {
        match &self.target {
            Target::Digest(digest) => Some(digest),
            Target::Tag(_) => None,
        }
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: Digest) -> Self {
        self.repository.digest(digest)
    }

    /// The string cosign passes around as `ref.Name()`: `registry/path:tag` or
    /// `registry/path@sha256:...`.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// The tag or digest, as it goes in a registry URL.
    pub fn identifier(&self) -> String {
        match &self.target {
            Target::Tag(tag) => tag.clone(),
            Target::Digest(digest) => digest.to_string(),
        }
    }
}

impl FromStr for ImageReference {
    type Err = ReferenceError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(ReferenceError::Invalid {
                reference: value.to_owned(),
            });
        }
        // `repo:tag@digest` keeps the digest (the tag is only informative), as ggcr does.
        let (name, digest) = match value.split_once('@') {
            Some((name, digest)) => (name, Some(digest.parse::<Digest>()?)),
            None => (value, None),
        };
        let (registry, rest) = split_registry(name);
        let (path, tag) = match rest.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
            _ => (rest, None),
        };
        let repository = Repository::parse(&if name.len() == rest.len() {
            path.to_owned()
        } else {
            format!("{registry}/{path}")
        })
        .map_err(|error| match error {
            ReferenceError::BadRepository { .. } => ReferenceError::BadRepository {
                reference: value.to_owned(),
            },
            other => other,
        })?;
        if let Some(tag) = tag {
            check_tag(tag, value)?;
        }
        let target = match (digest, tag) {
            (Some(digest), _) => Target::Digest(digest),
            (None, Some(tag)) => Target::Tag(tag.to_owned()),
            (None, None) => Target::Tag(DEFAULT_TAG.to_owned()),
        };
        Ok(Self { repository, target })
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Tag(tag) => write!(f, "{}:{tag}", self.repository),
            Target::Digest(digest) => write!(f, "{}@{digest}", self.repository),
        }
    }
}

impl fmt::Debug for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageReference({self})")
    }
}

/// Splits off the registry: the first component if it has a `.` or `:` or is `localhost`,
/// else Docker Hub.
fn split_registry(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            let registry = if first == "docker.io" {
                DEFAULT_REGISTRY
            } else {
                first
            };
            (registry.to_owned(), rest)
        }
        _ => (DEFAULT_REGISTRY.to_owned(), name),
    }
}

fn check_repository_path(path: &str, reference: &str) -> Result<(), ReferenceError> {
    let valid = !path.is_empty()
        && path.len() <= 255
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
                })
        });
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::BadRepository {
            reference: reference.to_owned(),
        })
    }
}

fn check_tag(tag: &str, reference: &str) -> Result<(), ReferenceError> {
    let valid = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !tag.starts_with(['.', '-']);
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::BadTag {
            reference: reference.to_owned(),
        })
    }
}

fn check_registry(registry: &str, reference: &str) -> Result<(), ReferenceError> {
    let valid = !registry.is_empty()
        && registry.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        });
    if valid {
        Ok(())
    } else {
        Err(ReferenceError::BadRegistry {
            reference: reference.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &str) -> String {
        value.parse::<ImageReference>().expect("parses").name()
    }

    #[test]
    fn normalizes_as_go_containerregistry() {
        assert_eq!(name("nginx"), "index.docker.io/library/nginx:latest");
        assert_eq!(
            name("docker.io/nginx:1.19"),
            "index.docker.io/library/nginx:1.19"
        );
        assert_eq!(name("user/app"), "index.docker.io/user/app:latest");
        assert_eq!(
            name("localhost:5000/nginx:1.19-signed"),
            "localhost:5000/nginx:1.19-signed"
        );
        assert_eq!(name("localhost/a/b"), "localhost/a/b:latest");
        assert_eq!(
            name("127.0.0.1:5000/lab/nginx"),
            "127.0.0.1:5000/lab/nginx:latest"
        );
        let digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert_eq!(
            name(&format!("ghcr.io/o/r@{digest}")),
            format!("ghcr.io/o/r@{digest}")
        );
        assert_eq!(
            name(&format!("ghcr.io/o/r:v1@{digest}")),
            format!("ghcr.io/o/r@{digest}")
        );
        let reference: ImageReference = "localhost:5000/lab/nginx:1".parse().expect("parses");
        assert_eq!(
            reference.repository().to_string(),
            "localhost:5000/lab/nginx"
        );
        assert_eq!(reference.repository().registry(), "localhost:5000");
        assert_eq!(reference.repository().path(), "lab/nginx");
    }

    #[test]
    fn rejects_invalid_references() {
        for bad in [
            "",
            "UPPER/case",
            "a b",
            "repo:bad tag",
            "repo:-tag",
            "repo@sha256:xyz",
            "reg.io//x",
            "x:",
        ] {
            assert!(bad.parse::<ImageReference>().is_err(), "{bad}");
        }
    }

    #[test]
    fn repositories_parse_like_cosign_repository() {
        assert_eq!(
            Repository::parse("localhost:5000/sigs")
                .expect("parses")
                .to_string(),
            "localhost:5000/sigs"
        );
        assert_eq!(
            Repository::parse("sigs").expect("parses").to_string(),
            "index.docker.io/library/sigs"
        );
    }
}
