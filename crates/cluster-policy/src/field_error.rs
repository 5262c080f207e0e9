//! Errors about fields, as Kubernetes (knative's `apis.FieldError`) reports them, so a refused
//! policy reads as policy-controller refuses it: `<message>: <paths>` and a line of details;
//! errors with the same message and details are merged (their paths joined, in order), and the
//! list is sorted by message.

/// How bad it is: an error refuses the policy, a warning is reported beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One error about one or more fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub message: String,
    pub paths: Vec<String>,
    pub details: String,
    pub level: Level,
}

impl FieldError {
    fn new(message: String, paths: &[&str], details: &str) -> Self {
        Self {
            message,
            paths: paths.iter().map(|path| (*path).to_owned()).collect(),
            details: details.to_owned(),
            level: Level::Error,
        }
    }

    /// `missing field(s)`.
    pub fn missing(paths: &[&str]) -> Self {
        Self::new("missing field(s)".to_owned(), paths, "")
    }

    /// `expected exactly one, got neither`.
    pub fn missing_one_of(paths: &[&str]) -> Self {
        Self::new("expected exactly one, got neither".to_owned(), paths, "")
    }

    /// `expected exactly one, got both`.
    pub fn multiple_one_of(paths: &[&str]) -> Self {
        Self::new("expected exactly one, got both".to_owned(), paths, "")
    }

    /// `invalid value: <value>`, with details.
    pub fn invalid(value: &str, path: &str, details: &str) -> Self {
        Self::new(format!("invalid value: {value}"), &[path], details)
    }

    /// `must not set the field(s)`.
    pub fn disallowed(paths: &[&str]) -> Self {
        Self::new("must not set the field(s)".to_owned(), paths, "")
    }

    pub fn at(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
}

/// Every error found, each path relative to where they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

fn prefixed(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        // An index glues onto its field: `authorities` + `[0].key`.
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

impl FieldErrors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These errors seen from the field `field` (every path under it).
    pub fn via_field(mut self, field: &str) -> Self {
        for error in &mut self.0 {
            for path in &mut error.paths {
                *path = prefixed(field, path);
            }
        }
        self
    }

    /// These errors seen from element `index` of the list `field`.
    pub fn via_index(self, field: &str, index: usize) -> Self {
        self.via_field(&format!("{field}[{index}]"))
    }

    /// Only the errors of `level`.
    pub fn filter(&self, level: Level) -> FieldErrors {
        FieldErrors(
            self.0
                .iter()
                .filter(|error| error.level == level)
                .cloned()
                .collect(),
        )
    }

    /// Merged as knative merges them: one error per message, details and level, its paths
    /// the union of theirs in order; the errors in order of message.
    pub fn normalized(&self) -> Vec<FieldError> {
        let mut merged: Vec<FieldError> = Vec::new();
        for error in &self.0 {
            match merged.iter_mut().find(|seen| {
                seen.message == error.message
                    && seen.details == error.details
                    && seen.level == error.level
            }) {
                Some(seen) => seen.paths.extend(error.paths.iter().cloned()),
                None => merged.push(error.clone()),
            }
        }
        for error in &mut merged {
            error.paths.sort();
            error.paths.dedup();
        }
        merged.sort_by(|a, b| a.message.cmp(&b.message));
        merged
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self
            .normalized()
            .iter()
            .map(|error| {
                let mut line = format!("{}: {}", error.message, error.paths.join(", "));
                if !error.details.is_empty() {
                    line.push('\n');
                    line.push_str(&error.details);
                }
                line
            })
            .collect();
        f.write_str(&lines.join("\n"))
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}
