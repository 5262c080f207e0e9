//! Reading a key's password exactly as cosign does (`readPasswordFn`):
//! 1. `COSIGN_PASSWORD`, if set, even empty;
//! 2. else, if standard input is a character device, a prompt on the terminal with echo off
//!    (and a confirmation when making a key);
//! 3. else all of standard input, trailing newline included, so that
//!    `echo pw | cosign generate-key-pair` and `echo pw | cosign sign` agree.
//!
//! The password is never echoed, logged or kept longer than needed.

use std::io::{self, Read as _, Write as _};

use cosign_core::keys::Password;
use zeroize::Zeroizing;

use crate::error::CliError;

pub const PASSWORD_VARIABLE: &str = "COSIGN_PASSWORD";

/// More than any password; a bound on what we read from a pipe.
const STDIN_PASSWORD_LIMIT: u64 = 1024 * 1024;

/// Whether the caller wants the password typed twice (when making a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Once,
    Twice,
}

pub fn read_password(confirmation: Confirmation) -> Result<Password, CliError> {
    if let Some(value) = std::env::var_os(PASSWORD_VARIABLE) {
        use std::os::unix::ffi::OsStringExt as _;
        crate::console::debug(format_args!("password from ${PASSWORD_VARIABLE}"));
        return Ok(Password::new(value.into_vec()));
    }
    let stdin = io::stdin();
    if is_character_device(&stdin) {
        if !rustix::termios::isatty(&stdin) {
            return Err(CliError::new(
                "reading password: standard input is a character device but not a terminal",
            )
            .with_hint(
                "set COSIGN_PASSWORD, or pipe the password on standard input (`echo pw | cosign ...`)",
            ));
        }
        crate::console::debug("password from the terminal");
        return read_from_terminal(confirmation);
    }
    crate::console::debug("password from all of standard input");
    let mut bytes = Zeroizing::new(Vec::new());
    stdin
        .lock()
        .take(STDIN_PASSWORD_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| CliError::new(format!("reading password from standard input: {error}")))?;
    if bytes.len() as u64 > STDIN_PASSWORD_LIMIT {
        return Err(CliError::new(
            "reading password from standard input: more than 1 MiB; is the wrong thing piped in?",
        ));
    }
    Ok(Password::new(std::mem::take(&mut *bytes)))
}

fn is_character_device(stdin: &io::Stdin) -> bool {
    rustix::fs::fstat(stdin)
        .map(|stat| {
            rustix::fs::FileType::from_raw_mode(stat.st_mode)
                == rustix::fs::FileType::CharacterDevice
        })
        .unwrap_or(false)
}

fn read_from_terminal(confirmation: Confirmation) -> Result<Password, CliError> {
    let first = prompt_hidden("Enter password for private key: ")?;
    if confirmation == Confirmation::Once {
        return Ok(first);
    }
    let second = prompt_hidden("Enter password for private key again: ")?;
    if first != second {
        return Err(CliError::new("passwords do not match"));
    }
    Ok(first)
}

/// Prompts on stderr and reads one line from the terminal on stdin with echo turned off, then
/// restores the terminal (also on error).
fn prompt_hidden(prompt: &str) -> Result<Password, CliError> {
    let mut stderr = io::stderr();
    let _ = stderr.write_all(prompt.as_bytes());
    let _ = stderr.flush();
    let stdin = io::stdin();
    let saved = rustix::termios::tcgetattr(&stdin)
        .map_err(|error| CliError::new(format!("reading password: {error}")))?;
    let mut hidden = saved.clone();
    hidden.local_modes.remove(rustix::termios::LocalModes::ECHO);
    hidden
        .local_modes
        .insert(rustix::termios::LocalModes::ICANON);
    rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Flush, &hidden)
        .map_err(|error| CliError::new(format!("reading password: {error}")))?;
    let line = read_line_unbuffered();
    let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
    let _ = writeln!(stderr);
    line
}

/// Reads up to a newline, byte by byte, so nothing after it is taken from the terminal.
fn read_line_unbuffered() -> Result<Password, CliError> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    let stdin = io::stdin();
    loop {
        match rustix::io::read(&stdin, &mut byte) {
            Ok(0) => break,
            Ok(_) => {
                if byte[0] == b'\n' {
                    break;
                }
                line.push(byte[0]);
                if line.len() as u64 > STDIN_PASSWORD_LIMIT {
                    return Err(CliError::new("reading password: line too long"));
                }
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(error) => return Err(CliError::new(format!("reading password: {error}"))),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Password::new(std::mem::take(&mut *line)))
}
