//! CUE policies, checked by the real `cue` tool: there is no CUE implementation in Rust, and a
//! lookalike would differ from cosign's (which links CUE's Go library) exactly where policies
//! are subtle. cosign loads the policy files as one instance and validates the statement JSON
//! against it (`cue/encoding/json.Validate`: unify, then no errors, incomplete values allowed);
//! `cue vet FILES... json: -` with the statement on standard input is that check.
//!
//! The tool runs with a time limit and its output capped; the statement goes through a pipe,
//! never a file.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

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
        command
            .args(["json:", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|error| violation(format!("running {}: {error}", self.tool.display())))?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                if let Some(mut stdin) = stdin {
                    // A tool that stops reading early (a syntax error) closes the pipe: fine.
                    let _ = stdin.write_all(input);
                }
            });
            let messages = scope.spawn(|| {
                let mut text = Vec::new();
                if let Some(stderr) = stderr {
                    let mut capped = stderr.take(MESSAGE_LIMIT);
                    let _ = capped.read_to_end(&mut text);
                    // Drain the rest so the tool never blocks on a full pipe.
                    let _ = std::io::copy(&mut capped.into_inner(), &mut std::io::sink());
                }
                text
            });
            let deadline = Instant::now() + self.limits.time;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break Err(format!(
                            "`cue vet` stopped after {} s",
                            self.limits.time.as_secs_f64()
                        ));
                    }
                    Ok(None) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    Err(error) => break Err(format!("waiting for `cue vet`: {error}")),
                }
            };
            let messages = messages.join().unwrap_or_default();
            (status, messages)
        });
        match result {
            (Err(message), _) => Err(violation(message)),
            (Ok(status), _) if status.success() => Ok(()),
            (Ok(status), messages) => {
                let text = String::from_utf8_lossy(&messages).trim_end().to_owned();
                if text.is_empty() {
                    Err(violation(format!("`cue vet` failed ({status})")))
                } else {
                    Err(violation(text))
                }
            }
        }
    }
}
