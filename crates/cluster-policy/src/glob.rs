//! policy-controller's image globs: `*` matches within one path segment (not `/`), `**` matches
//! anything, the rest is literal, the whole reference must match. An image is matched by its
//! fully qualified name as go-containerregistry writes it (`nginx` is
//! `index.docker.io/library/nginx:latest`; a digest reference names no tag), then, when that
//! differs, by the text as given. The globs `*` and `*/*` mean Docker Hub's
//! `index.docker.io/library/*` and `index.docker.io/*/*`. `:` is no separator: `app*` matches
//! `app:1.0`, and `:**` matches any tag.

use cosign_core::image::reference::ImageReference;

/// Why a glob or an image cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// As Go's `filepath.Match` refuses a pattern.
    #[error("syntax error in pattern")]
    Syntax,
    /// A character no image reference has.
    #[error("invalid glob {0:?}")]
    Invalid(String),
    #[error("{0}")]
    Image(String),
}

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: regex::Regex,
}

/// What `filepath.Match` checks of a pattern's syntax: classes closed, no trailing escape.
fn check_syntax(glob: &str) -> Result<(), GlobError> {
    let mut characters = glob.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => {
                characters.next().ok_or(GlobError::Syntax)?;
            }
            '[' => {
                let mut closed = false;
                let mut first = true;
                for inner in characters.by_ref() {
                    if inner == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = inner == '^' && first;
                }
                if !closed {
                    return Err(GlobError::Syntax);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Glob {
    pub fn compile(glob: &str) -> Result<Self, GlobError> {
        check_syntax(glob)?;
        let glob = match glob {
            "*/*" => "index.docker.io/*/*",
            "*" => "index.docker.io/library/*",
            other => other,
        };
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-_:/*.@".contains(c);
        if glob.is_empty() || !glob.chars().all(allowed) {
            return Err(GlobError::Invalid(glob.to_owned()));
        }
        let mut expression = String::from("^");
        let mut rest = glob;
        while let Some(character) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("**") {
                expression.push_str(".*");
                rest = after;
                continue;
            }
            match character {
                '*' => expression.push_str("[^/]*"),
                '.' => expression.push_str(r"\."),
                other => expression.push(other),
            }
            rest = rest.get(character.len_utf8()..).unwrap_or_default();
        }
        expression.push('$');
        let pattern =
            regex::Regex::new(&expression).map_err(|_| GlobError::Invalid(glob.to_owned()))?;
        Ok(Self { pattern })
    }

    /// Whether `image` (a reference as a pod names it) matches.
    pub fn matches(&self, image: &str) -> Result<bool, GlobError> {
        let reference: ImageReference =
            image
                .parse()
                .map_err(|error: cosign_core::image::reference::ReferenceError| {
                    GlobError::Image(error.to_string())
                })?;
        let name = reference.name();
        Ok(self.pattern.is_match(&name) || (name != image && self.pattern.is_match(image)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn matches(glob: &str, image: &str) -> bool {
        Glob::compile(glob).unwrap().matches(image).unwrap()
    }

    #[test]
    fn stars_stay_within_a_segment_and_double_stars_do_not() {
        assert!(matches("index.docker.io/library/nginx:latest", "nginx"));
        assert!(matches("*", "nginx"));
        assert!(matches("*/*", "user/app"));
        assert!(!matches("*", "user/app"));
        assert!(matches("**", "ghcr.io/org/team/app:1"));
        assert!(matches("ghcr.io/**", "ghcr.io/org/team/app:1"));
        assert!(!matches("ghcr.io/*/*", "ghcr.io/app"));
        assert!(matches("ghcr.io/*", "ghcr.io/app"));
        assert!(!matches("ghcr.io/**", "ghcrxio/app"));
        assert!(!matches("ghcr.io/app", "prefix-ghcr.io/app"));
        // `:` is no separator; a digest reference names no tag.
        assert!(matches(
            "registry.local:5000/app*",
            "registry.local:5000/app:1.0"
        ));
        let digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert!(matches(
            &format!("registry.local/app@{digest}"),
            &format!("registry.local/app@{digest}")
        ));
        assert!(!matches(
            "registry.local/app:1.0",
            &format!("registry.local/app@{digest}")
        ));
        // The text as given is tried too.
        assert!(matches("nginx", "nginx"));
    }

    #[test]
    fn what_no_reference_holds_is_refused() {
        assert_eq!(Glob::compile("[a").unwrap_err(), GlobError::Syntax);
        assert_eq!(
            Glob::compile("$FOO*").unwrap_err(),
            GlobError::Invalid("$FOO*".to_owned())
        );
        assert!(Glob::compile(".+").is_err());
        assert!(Glob::compile("[a-z]*").is_err());
        assert!(Glob::compile("*").unwrap().matches("invalid&name").is_err());
    }
}
