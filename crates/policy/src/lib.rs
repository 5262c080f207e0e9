//! Policies over attestations, with cosign's conventions (`cosign verify-attestation
//! --policy`, and later the admission webhook):
//!
//! - the file's extension picks the language: `.rego` or `.cue`, anything else is refused;
//! - the input is the attestation's in-toto statement, as JSON;
//! - Rego (parsed as Rego v0, as cosign's OPA is told to) must make `data.signature.allow`
//!   exactly `true`; it is evaluated by `regorus`, in a worker process that is stopped when it
//!   runs too long or allocates too much ([`Limits`], [`rego::Evaluation`]);
//! - CUE: the statement must unify with the policy files taken together (one instance), as
//!   `cue vet` checks; there is no CUE in Rust, so the real `cue` tool runs it ([`cue`]).
//!
//! Every policy file is read with a size cap before it is parsed.

use std::path::{Path, PathBuf};
use std::time::Duration;

mod child;
pub mod compliance;
pub mod cue;
pub mod rego;

/// The largest policy file read.
pub const POLICY_SIZE_LIMIT: u64 = 1024 * 1024;

/// What one evaluation may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for one Rego evaluation or one `cue vet` run.
    pub time: Duration,
    /// Memory a Rego evaluation may use beyond what its process maps at start (enforced by the
    /// kernel for an evaluation in a worker process).
    pub memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(10),
            memory: 512 * 1024 * 1024,
        }
    }
}

/// A policy language, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rego,
    Cue,
}

impl Language {
    /// `.rego` or `.cue`, as cosign decides (by the extension alone).
    pub fn of(path: &Path) -> Result<Self, PolicyError> {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("rego") => Ok(Self::Rego),
            Some("cue") => Ok(Self::Cue),
            _ => Err(PolicyError::Format {
                path: path.to_owned(),
            }),
        }
    }
}

/// A policy file, read.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub path: PathBuf,
    pub language: Language,
    pub text: String,
}

impl PolicyFile {
    /// Reads a policy file: a regular file, at most [`POLICY_SIZE_LIMIT`] bytes, UTF-8.
    pub fn read(path: &Path) -> Result<Self, PolicyError> {
        use std::io::Read as _;
        let language = Language::of(path)?;
        let io = |source: std::io::Error| PolicyError::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            return Err(io(std::io::Error::other("not a regular file")));
        }
        let mut bytes = Vec::new();
        file.take(POLICY_SIZE_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > POLICY_SIZE_LIMIT {
            return Err(PolicyError::TooLarge {
                path: path.to_owned(),
                limit: POLICY_SIZE_LIMIT,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            language,
            text,
        })
    }
}

/// The policies of one command, loaded and checked before anything is verified: the Rego
/// files compiled together, the CUE files with the `cue` tool that will run them.
#[derive(Debug)]
pub struct Policies {
    rego: Option<rego::RegoPolicy>,
    cue: Option<cue::CuePolicy>,
}

impl Policies {
    /// Loads `paths` (in the order given), Rego to be evaluated as `evaluation` says. CUE files
    /// need the `cue` tool: looked up on `PATH` now, so that its absence is said before any
    /// network work.
    pub fn load(
        paths: &[PathBuf],
        limits: Limits,
        evaluation: rego::Evaluation,
    ) -> Result<Self, PolicyError> {
        let mut rego_files = Vec::new();
        let mut cue_files = Vec::new();
        for path in paths {
            // The extension first, for every file: cosign's error for a wrong one.
            match Language::of(path)? {
                Language::Rego => rego_files.push(path),
                Language::Cue => cue_files.push(path),
            }
        }
        let rego = if rego_files.is_empty() {
            None
        } else {
            let files = rego_files
                .into_iter()
                .map(|path| PolicyFile::read(path))
                .collect::<Result<Vec<_>, _>>()?;
            Some(rego::RegoPolicy::compile(files, limits, evaluation)?)
        };
        let cue = if cue_files.is_empty() {
            None
        } else {
            let files = cue_files
                .into_iter()
                .map(|path| PolicyFile::read(path))
                .collect::<Result<Vec<_>, _>>()?;
            Some(cue::CuePolicy::new(files, cue::find_tool()?, limits))
        };
        Ok(Self { rego, cue })
    }

    pub fn is_empty(&self) -> bool {
        self.rego.is_none() && self.cue.is_none()
    }

    pub fn rego(&self) -> Option<&rego::RegoPolicy> {
        self.rego.as_ref()
    }

    pub fn cue(&self) -> Option<&cue::CuePolicy> {
        self.cue.as_ref()
    }
}

/// Go's `%v` of a list of strings (`[a b]`), as cosign names the policies it applies.
pub fn go_list(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!("[{}]", names.join(" "))
}

/// A policy that could not be loaded or run (a policy that ran and said no is a
/// [`Violation`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("invalid policy format, expected .cue or .rego: {}", path.display())]
    Format { path: PathBuf },
    #[error("reading policy {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("policy {} is over the {limit}-byte limit", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("policy {}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    #[error("CUE policies are checked by the `cue` tool (CUE 0.15), which is not on PATH")]
    CueMissing,
}

impl PolicyError {
    /// How to get past it, where there is something to do.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::CueMissing => Some(
                "install CUE (https://cuelang.org/docs/introduction/installation/, or `go install cuelang.org/go/cmd/cue@v0.15.1`; cosign-rs's scripts/install-peers.sh builds it offline from Debian's Go sources) and put `cue` on PATH, or use a Rego policy",
            ),
            Self::Format { .. } => Some("name policy files *.rego or *.cue"),
            _ => None,
        }
    }
}

/// A policy that ran and did not allow the input: which files, and what they said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub policies: Vec<PathBuf>,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .policies
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        write!(formatter, "{}: {}", names.join(", "), self.message)
    }
}
