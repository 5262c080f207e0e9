//! CUE policies, checked by the real `cue` tool: there is no CUE implementation in Rust, and a
//! lookalike would differ from cosign's (which links CUE's Go library) exactly where policies
//! are subtle. cosign loads the policy files as one instance and validates the statement JSON
//! against it (`cue/encoding/json.Validate`: unify, then no errors, incomplete values allowed);
//! `cue vet FILES... json: -` with the statement on standard input is that check.
//!
//! The tool runs with a time limit and its output capped; the statement goes through a pipe,
//! never a file.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::child::{self, Stopped};
use crate::{Limits, PolicyError, PolicyFile, Violation};

/// The most of `cue`'s messages kept.
const MESSAGE_LIMIT: u64 = 64 * 1024;

/// The `cue` program on `PATH`.
pub fn find_tool() -> Result<PathBuf, PolicyError> {
    let path = std::env::var_os("PATH").ok_or(PolicyError::CueMissing)?;
    std::env::split_paths(&path)
        .map(|directory| directory.join("cue"))
        .find(|candidate| is_executable(candidate))
        .ok_or(PolicyError::CueMissing)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// CUE files, checked together by one `cue` program.
#[derive(Debug)]
pub struct CuePolicy {
    paths: Vec<PathBuf>,
    tool: PathBuf,
    limits: Limits,
}

impl CuePolicy {
    pub fn new(files: Vec<PolicyFile>, tool: PathBuf, limits: Limits) -> Self {
        Self {
            paths: files.into_iter().map(|file| file.path).collect(),
            tool,
            limits,
        }
    }

    /// The files, in the order given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Checks `input` (a JSON document) against the policy files.
    pub fn check(&self, input: &[u8]) -> Result<(), Violation> {
        let violation = |message: String| Violation {
            policies: self.paths.clone(),
            message,
        };
        let mut command = Command::new(&self.tool);
        command.arg("vet");
        for path in &self.paths {
            // A file name that starts with `-` would be read as a flag.
            if path.to_string_lossy().starts_with('-') {
                command.arg(Path::new(".").join(path));
            } else {
                command.arg(path);
            }
        }
        command.args(["json:", "-"]);
        let finished = child::run(command, input, self.limits.time, MESSAGE_LIMIT)
            .map_err(|error| violation(format!("running {}: {error}", self.tool.display())))?;
        match finished.status {
            Err(Stopped::Deadline(limit)) => Err(violation(format!(
                "`cue vet` stopped after {} s",
                limit.as_secs_f64()
            ))),
            Err(Stopped::Wait(error)) => Err(violation(format!("waiting for `cue vet`: {error}"))),
            Ok(status) if status.success() => Ok(()),
            Ok(status) => {
                let text = String::from_utf8_lossy(&finished.stderr)
                    .trim_end()
                    .to_owned();
                if text.is_empty() {
                    Err(violation(format!("`cue vet` failed ({status})")))
                } else {
                    Err(violation(text))
                }
            }
        }
    }
}
