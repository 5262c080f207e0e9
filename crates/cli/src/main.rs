//! The `cosign` binary: parse the command line, resolve settings, run one command, and print
//! errors and exit as cosign does (`Error: X`, `error during command execution: X`, exit 1 or
//! one of cosign's verification codes).
#![forbid(unsafe_code)]

mod args;
mod blob;
mod commands;
mod console;
mod error;
mod key_files;
mod password;
mod registry_access;
mod settings;
mod time;
mod trust;

use std::ffi::OsString;

use clap::Parser as _;

use crate::args::{Cli, Command};
use crate::console::Console;
use crate::error::{CliError, ExitCode};
use crate::settings::GlobalSettings;

fn main() -> std::process::ExitCode {
    let arguments = normalize_go_style_flags(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(arguments) {
        Ok(cli) => cli,
        Err(error) => return clap_error(&error),
    };
    match run(&cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            console::print_error(&error);
            std::process::ExitCode::from(error.exit_code as u8)
        }
    }
}

fn run(cli: &Cli) -> Result<(), CliError> {
    let settings = GlobalSettings::resolve(&cli.global)?;
    console::set_verbose(settings.verbose);
    console::debug(format_args!(
        "timeout for network operations: {:?}",
        settings.timeout
    ));
    let mut console = Console::new(cli.global.output_file.as_deref())?;
    match &cli.command {
        Command::GenerateKeyPair(args) => commands::generate_key_pair::run(args),
        Command::ImportKeyPair(args) => commands::import_key_pair::run(args),
        Command::PublicKey(args) => commands::public_key::run(args, &mut console),
        Command::Sign(args) => block_on(&settings, commands::sign::run(args, &settings)),
        Command::Verify(args) => block_on(
            &settings,
            commands::verify::run(args, &settings, &mut console),
        ),
        Command::SignBlob(args) => commands::sign_blob::run(args, &mut console),
        Command::VerifyBlob(args) => commands::verify_blob::run(args),
        Command::Tree(args) => block_on(
            &settings,
            commands::tree::run(args, &settings, &mut console),
        ),
        Command::Clean(args) => block_on(&settings, commands::clean::run(args, &settings)),
        Command::Download(args::DownloadCommand::Signature(args)) => block_on(
            &settings,
            commands::download_signature::run(args, &settings, &mut console),
        ),
        Command::Attach(args::AttachCommand::Signature(args)) => {
            block_on(&settings, commands::attach_signature::run(args, &settings))
        }
        Command::Copy(args) => block_on(&settings, commands::copy::run(args, &settings)),
        Command::Save(args) => block_on(&settings, commands::save::run(args, &settings)),
        Command::Load(args) => block_on(&settings, commands::load::run(args, &settings)),
        Command::Triangulate(args) => block_on(
            &settings,
            commands::triangulate::run(args, &settings, &mut console),
        ),
        Command::Registry(args::RegistryCommand::Serve(args)) => {
            commands::registry_serve::run(args, &settings)
        }
        Command::TrustedRoot(args::TrustedRootCommand::Create(args)) => {
            commands::trusted_root_create::run(args, &mut console)
        }
        Command::Version(args) => commands::version::run(args, &mut console),
        Command::Completion(args) => commands::completion::run(args, &mut console),
    }
}

/// Runs a network command on a runtime, within cosign's `--timeout`.
fn block_on(
    settings: &GlobalSettings,
    work: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::new(format!("starting the runtime: {error}")))?;
    let timeout = settings.timeout;
    runtime.block_on(async move {
        if timeout.is_zero() {
            return work.await;
        }
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(CliError::new(format!(
                "context deadline exceeded (--timeout {timeout:?})"
            ))
            .with_hint("raise it with --timeout, e.g. --timeout 10m")),
        }
    })
}

/// cosign rewrites Go-style flags before parsing, with a warning: `--o` becomes `-o`, and a
/// single-dash long flag `-output` becomes `--output` (`-version` becomes `version`).
fn normalize_go_style_flags(arguments: Vec<OsString>) -> Vec<OsString> {
    arguments
        .into_iter()
        .enumerate()
        .map(|(index, argument)| {
            let Some(text) = argument.to_str().filter(|_| index > 0) else {
                return argument;
            };
            if (text.starts_with('-') && text.len() == 2) || (text.starts_with("--") && text.len() >= 4) {
                return argument;
            }
            if let Some(letter) = text.strip_prefix("--").filter(|rest| rest.len() == 1) {
                let replacement = format!("-{letter}");
                console::warn(format_args!(
                    "the flag {text} is deprecated and will be removed in a future release. Please use the flag {replacement}."
                ));
                return OsString::from(replacement);
            }
            if text.starts_with('-') && text.len() > 1 {
                let (replacement, kind) = if text == "-version" {
                    ("version".to_owned(), "subcommand")
                } else {
                    (format!("-{text}"), "flag")
                };
                console::warn(format_args!(
                    "the {text} flag is deprecated and will be removed in a future release. Please use the {replacement} {kind} instead."
                ));
                return OsString::from(replacement);
            }
            argument
        })
        .collect()
}

/// Help and usage requests print and succeed; parse errors print as cosign's errors do.
fn clap_error(error: &clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            return std::process::ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    let invalid = error
        .get(ContextKind::InvalidArg)
        .or_else(|| error.get(ContextKind::InvalidSubcommand))
        .and_then(|value| match value {
            ContextValue::String(text) => Some(text.clone()),
            _ => None,
        });
    let message = match (error.kind(), invalid) {
        (ErrorKind::UnknownArgument, Some(argument)) if argument.starts_with('-') => {
            format!(
                "unknown flag: {}",
                argument.split('=').next().unwrap_or(&argument)
            )
        }
        (ErrorKind::InvalidSubcommand, Some(command)) => {
            format!("unknown command {command:?} for \"cosign\"")
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    };
    let usage = error.render().to_string();
    let hint = usage
        .lines()
        .find(|line| line.trim_start().starts_with("Usage:"))
        .map(|line| format!("{}; see --help", line.trim()));
    let mut cli_error = CliError::usage(message);
    cli_error.hint = hint;
    cli_error.exit_code = ExitCode::Failure;
    console::print_error(&cli_error);
    std::process::ExitCode::from(ExitCode::Failure as u8)
}
