//! Everything the binary prints, in one place: results on stdout (or `--output-file`), messages
//! and prompts on stderr, errors as cosign prints them.

use std::io::{self, BufRead as _, Write};

use crate::error::CliError;

/// Where results go: standard output, or the `--output-file` cosign redirects it to.
pub struct Console {
    stdout: Box<dyn Write>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Console")
    }
}

impl Console {
    pub fn new(output_file: Option<&std::path::Path>) -> Result<Self, CliError> {
        let stdout: Box<dyn Write> = match output_file {
            Some(path) => Box::new(std::fs::File::create(path).map_err(|error| {
                crate::error::io_error("open", path, &error)
                    .context(format!("error creating output file {}", path.display()))
            })?),
            None => Box::new(io::stdout()),
        };
        Ok(Self { stdout })
    }

    /// Writes a result to standard output (or the output file).
    pub fn out(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        self.stdout
            .write_all(bytes)
            .and_then(|()| self.stdout.flush())
            .map_err(|error| CliError::new(format!("writing output: {error}")))
    }
}

static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns on `-d` debug lines.
pub fn set_verbose(verbose: bool) {
    VERBOSE.store(verbose, std::sync::atomic::Ordering::Relaxed);
}

/// A debug line on stderr, shown with `-d` only. Never pass secrets.
pub fn debug(message: impl std::fmt::Display) {
    if VERBOSE.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("DEBUG: {message}");
    }
}

/// An informational line on stderr (cosign's `ui.Infof` and `fmt.Fprintln(os.Stderr, ...)`).
pub fn info(message: impl std::fmt::Display) {
    eprintln!("{message}");
}

/// Text on stderr without a line break (cosign's `fmt.Fprintf(os.Stderr, ...)` without `\n`).
pub fn info_partial(message: impl std::fmt::Display) {
    eprint!("{message}");
}

/// A warning on stderr, prefixed as cosign's `ui.Warnf` does.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("WARNING: {message}");
}

/// Prints an error as cosign does: `Error: X`, then `error during command execution: X`, then
/// our hint if there is one.
pub fn print_error(error: &CliError) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "Error: {}", error.message);
    let _ = writeln!(stderr, "error during command execution: {}", error.message);
    if let Some(hint) = &error.hint {
        let _ = writeln!(stderr, "Hint: {hint}");
    }
}

/// cosign's `ui.ConfirmContinue`: asks on stderr, reads one line of stdin; only `y`/`Y` goes on.
/// An empty answer or end of input declines (as when stdin already gave the password).
pub fn confirm_continue() -> Result<(), CliError> {
    eprint!("Are you sure you would like to continue? [y/N] ");
    let mut answer = String::new();
    io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|error| CliError::new(format!("reading answer: {error}")))?;
    let answer = answer.trim_end_matches(['\r', '\n']);
    match answer.to_lowercase().as_str() {
        "y" => Ok(()),
        "" | "n" => Err(CliError::new("user declined the prompt")),
        _ => Err(CliError::new(format!(
            "invalid input {answer:?} (allowed values [y, n])"
        ))),
    }
}
