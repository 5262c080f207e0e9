//! The binary's error: a message printed as cosign prints it, an optional hint, and the exit
//! code cosign would use (decided here, once, and applied in `main`).

use cosign_core::keys::KeyError;

/// cosign's exit codes (`cmd/cosign/errors/exit_codes.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Any other failure.
    Failure = 1,
    /// Verification found no signature at all.
    NoSignatures = 10,
    /// The image tag does not exist.
    TagNotFound = 11,
    /// Signatures exist but none verifies.
    NoMatchingSignatures = 12,
}

#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: ExitCode,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code: ExitCode::Failure,
        }
    }

    /// A wrong combination of flags or arguments.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(message)
    }

    /// A flag or argument cosign accepts whose function cosign-rs does not offer (yet).
    pub fn not_supported(what: &str, instead: &str) -> Self {
        Self::new(format!("{what} is not supported by cosign-rs")).with_hint(instead)
    }

    pub fn with_exit_code(mut self, exit_code: ExitCode) -> Self {
        self.exit_code = exit_code;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with what was being done, as Go's `fmt.Errorf("...: %w")`.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<KeyError> for CliError {
    fn from(error: KeyError) -> Self {
        Self {
            message: error.to_string(),
            hint: error.hint().map(str::to_owned),
            exit_code: ExitCode::Failure,
        }
    }
}

/// `--sk`: the same refusal on every command.
pub fn hardware_keys_not_supported() -> CliError {
    CliError::not_supported(
        "hardware security keys (--sk, --slot)",
        "use a cosign key file with --key",
    )
}

/// Describes an I/O error the way Go does (`open cosign.key: no such file or directory`), so
/// scripts written against cosign's messages keep working.
pub fn io_error(operation: &str, path: &std::path::Path, error: &std::io::Error) -> CliError {
    use std::io::ErrorKind;
    let reason = match error.kind() {
        ErrorKind::NotFound => "no such file or directory".to_owned(),
        ErrorKind::PermissionDenied => "permission denied".to_owned(),
        ErrorKind::IsADirectory => "is a directory".to_owned(),
        ErrorKind::AlreadyExists => "file exists".to_owned(),
        _ => {
            let text = error.to_string();
            // Drop Rust's " (os error N)" suffix and lower-case the first letter, as Go prints.
            let text = text.split(" (os error").next().unwrap_or(&text).to_owned();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    };
    CliError::new(format!("{operation} {}: {reason}", path.display()))
}
