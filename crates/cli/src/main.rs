//! The `cosign` binary: parse the command line, resolve settings, run one command, and print
//! errors and exit as cosign does (`Error: X`, `error during command execution: X`, exit 1 or
//! one of cosign's verification codes).
#![forbid(unsafe_code)]

mod args;
mod blob;
mod commands;
mod console;
mod deprecations;
mod error;
mod key_files;
mod keyless;
mod parse;
mod password;
mod registry_access;
mod serving;
mod settings;
mod signer;
mod signing_certificate;
mod time;
mod trust;
mod tuf;

use crate::args::{Cli, Command};
use crate::console::Console;
use crate::error::CliError;
use crate::settings::GlobalSettings;

fn main() -> std::process::ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `verify-attestation --policy x.rego` evaluates each policy in a child of this binary,
    // whose memory the kernel caps (cosign-policy's worker); not a command users type.
    if raw
        .get(1)
        .is_some_and(|first| first == cosign_policy::rego::WORKER_ARGUMENT)
    {
        let code = cosign_policy::rego::worker_main(raw.get(2..).unwrap_or_default());
        return std::process::ExitCode::from(u8::try_from(code).unwrap_or(2));
    }
    let arguments = parse::normalize_go_style_flags(raw);
    // The command line's description, built once (it is most of what starting costs).
    let mut command = parse::command();
    if let Some(error) = parse::refuse_unsupported(&command, &arguments) {
        console::print_error(&error);
        return std::process::ExitCode::from(error.exit_code as u8);
    }
    let cli = match parse::parse(&mut command, arguments.clone()) {
        Ok(cli) => cli,
        Err(error) => {
            return match parse::error_for(&command, &error, &arguments) {
                None => {
                    let _ = error.print();
                    std::process::ExitCode::SUCCESS
                }
                Some(error) => {
                    console::print_error(&error);
                    std::process::ExitCode::from(error.exit_code as u8)
                }
            }
        }
    };
    drop(command);
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
        Command::Attest(args) => block_on(&settings, commands::attest::run(args, &settings)),
        Command::VerifyAttestation(args) => block_on(
            &settings,
            commands::verify_attestation::run(args, &settings, &mut console),
        ),
        Command::AttestBlob(args) => commands::attest_blob::run(args, &mut console),
        Command::VerifyBlobAttestation(args) => commands::verify_blob_attestation::run(args),
        Command::SignBlob(args) => commands::sign_blob::run(args, &mut console),
        Command::VerifyBlob(args) => commands::verify_blob::run(args),
        Command::Tree(args) => block_on(
            &settings,
            commands::tree::run(args, &settings, &mut console),
        ),
        Command::Clean(args) => block_on(&settings, commands::clean::run(args, &settings)),
        Command::Dockerfile(args::DockerfileCommand::Verify(args)) => block_on(
            &settings,
            commands::images_in_files::dockerfile_verify(args, &settings, &mut console),
        ),
        Command::Manifest(args::ManifestCommand::Verify(args)) => block_on(
            &settings,
            commands::images_in_files::manifest_verify(args, &settings, &mut console),
        ),
        Command::Download(args::DownloadCommand::Signature(args)) => block_on(
            &settings,
            commands::download_signature::run(args, &settings, &mut console),
        ),
        Command::Download(args::DownloadCommand::Attestation(args)) => block_on(
            &settings,
            commands::download_attestation::run(args, &settings, &mut console),
        ),
        Command::Download(args::DownloadCommand::Sbom(args)) => block_on(
            &settings,
            commands::download_sbom::run(args, &settings, &mut console),
        ),
        Command::Attach(args::AttachCommand::Attestation(args)) => block_on(
            &settings,
            commands::attach_attestation::run(args, &settings),
        ),
        Command::Attach(args::AttachCommand::Sbom(args)) => {
            block_on(&settings, commands::attach_sbom::run(args, &settings))
        }
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
        Command::Sigstore(args::SigstoreCommand::Serve(args)) => {
            commands::sigstore_serve::run(args, &settings)
        }
        Command::Initialize(args) => commands::initialize::run(args),
        Command::SigningConfig(args::SigningConfigCommand::Create(args)) => {
            commands::signing_config_create::run(args, &mut console)
        }
        Command::TrustedRoot(args::TrustedRootCommand::Create(args)) => {
            commands::trusted_root_create::run(args, &mut console)
        }
        Command::Bundle(args::BundleCommand::Create(args)) => {
            commands::bundle_create::run(args, &mut console)
        }
        Command::Bundle(args::BundleCommand::Upgrade(args)) => {
            commands::bundle_upgrade::run(args, &mut console)
        }
        Command::Env(args) => commands::env::run(args, &mut console),
        Command::Debug(args::DebugCommand::Providers) => debug_providers(&mut console),
        Command::Login(args) => commands::login::run(args),
        Command::Generate(args) => block_on(
            &settings,
            commands::generate::run(args, &settings, &mut console),
        ),
        Command::Version(args) => commands::version::run(args, &mut console),
        Command::Completion(args) => commands::completion::run(args, &mut console),
    }
}

/// The runtime network commands run on: multi-threaded, so that a TUF update (crate::tuf)
/// can block in place.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::new(format!("starting the runtime: {error}")))
}

/// Runs a network command on a runtime, within cosign's `--timeout`.
fn block_on(
    settings: &GlobalSettings,
    work: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    let runtime = crate::runtime()?;
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

/// `cosign debug providers`: each ambient OIDC provider, in the order they are tried, and
/// whether it finds what it needs here; cosign's others are named as not supported.
fn debug_providers(console: &mut console::Console) -> Result<(), CliError> {
    let mut text = String::new();
    for provider in keyless::AMBIENT_PROVIDERS {
        text.push_str(&format!(
            "{provider}: {}\n",
            keyless::provider_enabled(provider)
        ));
    }
    for provider in keyless::UNSUPPORTED_PROVIDERS {
        text.push_str(&format!("{provider}: not supported by cosign-rs\n"));
    }
    console.out(text.as_bytes())
}
