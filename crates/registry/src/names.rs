//! Repository names, tags and manifest references, checked against the OCI distribution spec's
//! grammar before anything uses them, so no value a client sends can name a path outside the
//! registry's storage.
//!
//! The spec (distribution-spec, "Pulling manifests"):
//! - `<name>` MUST match `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`;
//! - `<reference>` as a tag MUST be at most 128 characters and match
//!   `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`, or else be a digest (`<algorithm>:<encoded>`).
//!
//! Names are also capped at 255 characters, as distribution caps them.

use std::fmt;
use std::str::FromStr;

use cosign_core::digest::Digest;

/// The longest repository name accepted (distribution's limit).
pub const NAME_MAX: usize = 255;
/// The longest tag (the spec's grammar allows 128 characters).
pub const TAG_MAX: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("invalid repository name: must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/...)* and be at most {NAME_MAX} characters")]
    Repository,
    #[error("invalid tag: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}")]
    Tag,
    #[error("invalid digest")]
    Digest,
}

/// A repository name that matches the spec's grammar: lower-case alphanumeric components joined
/// by single separators, so never `.`, `..`, an empty component or a leading separator.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);

impl RepositoryName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated components, each a valid path component.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl FromStr for RepositoryName {
    type Err = NameError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.is_empty() || value.len() > NAME_MAX || !value.split('/').all(valid_component) {
            return Err(NameError::Repository);
        }
        Ok(Self(value.to_owned()))
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alphanumeric = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alphanumeric(first) || !alphanumeric(last) {
        return false;
    }
    // Between alphanumeric runs: `.`, `_`, `__` or one or more `-`.
    let mut separator: Vec<u8> = Vec::new();
    for &byte in bytes {
        if alphanumeric(byte) {
            let allowed = matches!(separator.as_slice(), [] | [b'.'] | [b'_'] | [b'_', b'_'])
                || separator.iter().all(|&b| b == b'-');
            if !allowed {
                return false;
            }
            separator.clear();
        } else if matches!(byte, b'.' | b'_' | b'-') {
            separator.push(byte);
        } else {
            return false;
        }
    }
    true
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepositoryName({})", self.0)
    }
}

/// A tag that matches `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`: never contains `/`, never starts
/// with `.`, so it is always one safe path component.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = NameError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut bytes = value.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
        let rest_ok =
            bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
        if first_ok && rest_ok && value.len() <= TAG_MAX {
            Ok(Self(value.to_owned()))
        } else {
            Err(NameError::Tag)
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

/// What `/v2/<name>/manifests/<reference>` names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

impl FromStr for Reference {
    type Err = NameError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.contains(':') {
            value
                .parse::<Digest>()
                .map(Self::Digest)
                .map_err(|_| NameError::Digest)
        } else {
            value.parse::<Tag>().map(Self::Tag)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_spec() {
        for good in [
            "a",
            "lab/nginx",
            "library/ubuntu",
            "a.b/c_d/e__f/g---h",
            "0/1/2",
            "my-org/my.repo",
        ] {
            assert!(good.parse::<RepositoryName>().is_ok(), "{good}");
        }
        for bad in [
            "", "..", ".", "a/..", "../x", "a/../b", "a//b", "/a", "a/", "A", "a/B", "a..b",
            "a.-b", "a___b", "-a", "a-", "_a", "a b", "a\\b", "a%2f..", "a\0b",
        ] {
            assert!(bad.parse::<RepositoryName>().is_err(), "{bad:?}");
        }
        assert!("a".repeat(NAME_MAX).parse::<RepositoryName>().is_ok());
        assert!("a".repeat(NAME_MAX + 1).parse::<RepositoryName>().is_err());
    }

    #[test]
    fn tags_follow_the_spec() {
        for good in ["latest", "v1.0", "_x", "sha256-abc", "A-b_c.d", "1"] {
            assert!(good.parse::<Tag>().is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "-x",
            "../../../../x/PWNED",
            "a/b",
            "a:b",
            "a b",
            "é",
        ] {
            assert!(bad.parse::<Tag>().is_err(), "{bad:?}");
        }
        assert!("a".repeat(TAG_MAX).parse::<Tag>().is_ok());
        assert!("a".repeat(TAG_MAX + 1).parse::<Tag>().is_err());
    }

    #[test]
    fn references_are_tags_or_digests() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert!(matches!(
            digest.parse::<Reference>(),
            Ok(Reference::Digest(_))
        ));
        assert!(matches!("v1".parse::<Reference>(), Ok(Reference::Tag(_))));
        assert!("sha256:../../x".parse::<Reference>().is_err());
        assert!("../x".parse::<Reference>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn valid_names_and_tags_are_safe_path_components(value in "\\PC{0,64}") {
            if let Ok(name) = value.parse::<RepositoryName>() {
                for component in name.components() {
                    proptest::prop_assert!(!component.is_empty() && component != "." && component != "..");
                    proptest::prop_assert!(!component.contains(['/', '\\', '\0']));
                }
            }
            if let Ok(tag) = value.parse::<Tag>() {
                proptest::prop_assert!(!tag.as_str().starts_with('.') && !tag.as_str().contains('/'));
            }
        }
    }
}
