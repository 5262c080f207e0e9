//! The command line, as clap structures only: names, flags, defaults and help, following
//! cosign's. What they mean is decided in `settings` and `commands`.
//!
//! cosign binds every flag of most commands to an environment variable `COSIGN_<FLAG>` (viper);
//! the `env` attributes here do the same.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "cosign",
    about = "A tool for Container Signing, Verification and Storage in an OCI registry.",
    disable_version_flag = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// log output to a file
    #[arg(long, global = true, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// timeout for commands (Go duration: 30s, 3m0s, 1h)
    #[arg(
        short = 't',
        long,
        global = true,
        default_value = "3m0s",
        value_name = "DURATION"
    )]
    pub timeout: String,

    /// log debug output
    #[arg(short = 'd', long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generates a key-pair.
    #[command(
        long_about = "Generates a key-pair for signing.\n\nThis command interactively prompts for a password. \
                      You can use the COSIGN_PASSWORD environment variable to provide one."
    )]
    GenerateKeyPair(GenerateKeyPairArgs),

    /// Imports a PEM-encoded RSA or EC private key.
    ImportKeyPair(ImportKeyPairArgs),

    /// Gets a public key from the key-pair.
    #[command(
        long_about = "Gets a public key from the key-pair and\nwrites to a specified file. By default, it will write to standard out."
    )]
    PublicKey(PublicKeyArgs),

    /// Prints the version
    Version(VersionArgs),

    /// Generate completion script
    Completion(CompletionArgs),
}

#[derive(Debug, Args)]
pub struct GenerateKeyPairArgs {
    /// create key pair in KMS service to use for signing
    #[arg(long, env = "COSIGN_KMS", value_name = "URI")]
    pub kms: Option<String>,

    /// name used for generated .pub and .key files
    #[arg(
        long,
        env = "COSIGN_OUTPUT_KEY_PREFIX",
        default_value = "cosign",
        value_name = "PREFIX"
    )]
    pub output_key_prefix: String,

    /// where to store the key pair instead of files: k8s://NAMESPACE/NAME, github://OWNER/PROJECT,
    /// gitlab://PROJECT
    #[arg(value_name = "PROVIDER://REF")]
    pub secret_store: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportKeyPairArgs {
    /// import key pair to use for signing
    #[arg(
        short = 'k',
        long,
        env = "COSIGN_KEY",
        value_name = "FILE",
        required = true
    )]
    pub key: PathBuf,

    /// name used for outputted key pairs
    #[arg(
        short = 'o',
        long,
        env = "COSIGN_OUTPUT_KEY_PREFIX",
        default_value = "import-cosign",
        value_name = "PREFIX"
    )]
    pub output_key_prefix: String,

    /// skip confirmation prompts for overwriting existing key
    #[arg(short = 'y', long, env = "COSIGN_YES")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// path to a payload file to use rather than generating one
    #[arg(long, env = "COSIGN_OUTFILE", value_name = "FILE")]
    pub outfile: Option<PathBuf>,

    /// whether to use a hardware security key
    #[arg(long, env = "COSIGN_SK")]
    pub sk: bool,

    /// security key slot to use for generated key (authentication|signature|card-authentication|key-management)
    #[arg(long, env = "COSIGN_SLOT", value_name = "SLOT")]
    pub slot: Option<String>,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// print JSON instead of text
    #[arg(long)]
    pub json: bool,

    /// print only the version number
    #[arg(long)]
    pub short: bool,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}
