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

    /// Sign the supplied container image.
    Sign(SignArgs),

    /// Verify a signature on the supplied container image
    Verify(VerifyArgs),

    /// Sign the supplied blob, outputting the base64-encoded signature to stdout.
    SignBlob(SignBlobArgs),

    /// Verify a signature on the supplied blob
    VerifyBlob(VerifyBlobArgs),

    /// Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations
    Tree(TreeArgs),

    /// Remove all signatures from an image.
    Clean(CleanArgs),

    /// Provides utilities for downloading artifacts and attached artifacts in a registry
    #[command(subcommand)]
    Download(DownloadCommand),

    /// Provides utilities for attaching artifacts to other artifacts in a registry
    #[command(subcommand)]
    Attach(AttachCommand),

    /// Copy the supplied container image and signatures
    #[command(
        long_about = "Copy the supplied container image and signatures, attestations, SBOMs and referrers (Sigstore bundles)."
    )]
    Copy(CopyArgs),

    /// Save the container image and associated signatures to disk at the specified directory
    #[command(
        long_about = "Save the container image and associated signatures to disk at the specified directory."
    )]
    Save(SaveArgs),

    /// Load a signed image on disk to a remote registry
    Load(LoadArgs),

    /// Outputs the located cosign image reference. This is the location where cosign stores the specified artifact type.
    Triangulate(TriangulateArgs),

    /// Run an OCI registry (distribution spec with the OCI 1.1 referrers API)
    #[command(subcommand)]
    Registry(RegistryCommand),

    /// Interact with a Sigstore protobuf trusted root
    #[command(subcommand)]
    TrustedRoot(TrustedRootCommand),

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

/// Registry access flags, shared by every command that talks to a registry.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// whether to allow insecure connections to registries (e.g., with expired or self-signed TLS certificates). Don't use this for anything but testing
    #[arg(long, env = "COSIGN_ALLOW_INSECURE_REGISTRY")]
    pub allow_insecure_registry: bool,

    /// whether to allow using HTTP protocol while connecting to registries. Don't use this for anything but testing
    #[arg(long, env = "COSIGN_ALLOW_HTTP_REGISTRY")]
    pub allow_http_registry: bool,

    /// registry basic auth username
    #[arg(long, env = "COSIGN_REGISTRY_USERNAME", value_name = "USER")]
    pub registry_username: Option<String>,

    /// registry basic auth password
    #[arg(long, env = "COSIGN_REGISTRY_PASSWORD", value_name = "PASSWORD")]
    pub registry_password: Option<String>,

    /// registry bearer auth token
    #[arg(long, env = "COSIGN_REGISTRY_TOKEN", value_name = "TOKEN")]
    pub registry_token: Option<String>,

    /// whether to use the kubernetes keychain instead of the default keychain (supports workload identity).
    #[arg(long, env = "COSIGN_K8S_KEYCHAIN")]
    pub k8s_keychain: bool,

    /// path to the X.509 CA certificate file in PEM format to be used for the connection to the registry
    #[arg(long, env = "COSIGN_REGISTRY_CACERT", value_name = "FILE")]
    pub registry_cacert: Option<PathBuf>,

    /// path to the X.509 certificate file in PEM format to be used for the connection to the registry
    #[arg(long, env = "COSIGN_REGISTRY_CLIENT_CERT", value_name = "FILE")]
    pub registry_client_cert: Option<PathBuf>,

    /// path to the X.509 private key file in PEM format to be used, together with the 'registry-client-cert' value, for the connection to the registry
    #[arg(long, env = "COSIGN_REGISTRY_CLIENT_KEY", value_name = "FILE")]
    pub registry_client_key: Option<PathBuf>,

    /// SAN name to use as the 'ServerName' tls.Config field to verify the mTLS connection to the registry
    #[arg(long, env = "COSIGN_REGISTRY_SERVER_NAME", value_name = "NAME")]
    pub registry_server_name: Option<String>,

    /// optional prefix to use for the attachment tag
    #[arg(long, env = "COSIGN_ATTACHMENT_TAG_PREFIX", value_name = "PREFIX")]
    pub attachment_tag_prefix: Option<String>,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// extra key=value pairs to sign
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,

    /// if a multi-arch image is specified, additionally sign each discrete image
    #[arg(short = 'r', long)]
    pub recursive: bool,

    /// whether to upload the signature
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub upload: bool,

    /// write the signature to FILE
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<std::path::PathBuf>,

    /// write the signed payload to FILE
    #[arg(long, value_name = "FILE")]
    pub output_payload: Option<std::path::PathBuf>,

    /// path to a payload file to use rather than generating one
    #[arg(long, value_name = "FILE")]
    pub payload: Option<std::path::PathBuf>,

    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, env = "COSIGN_YES")]
    pub yes: bool,

    /// whether or not to upload to the tlog
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,

    /// whether to use a TUF-provided signing config for the service URLs
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub use_signing_config: bool,

    /// expect the signature/attestation to be packaged in a Sigstore bundle
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// path to a signing config file
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<String>,

    /// mode for fetching references from the registry: legacy (the fallback tag) or oci-1-1
    /// (the referrers API); by default, the API where the registry has it
    #[arg(long, value_enum, value_name = "MODE")]
    pub registry_referrers_mode: Option<ReferrersModeArg>,

    /// path to the X.509 certificate in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<String>,

    /// identity token for keyless signing
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the images to sign
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReferrersModeArg {
    Legacy,
    #[value(name = "oci-1-1")]
    Oci11,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Text,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// output format for the signing image information (json|text)
    #[arg(short = 'o', long, value_enum, default_value = "json")]
    pub output: OutputFormat,

    /// extra key=value pairs to verify
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,

    /// whether to check the claims found
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub check_claims: bool,

    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: usize,

    /// expect the signature/attestation to be packaged in a Sigstore bundle
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// only allow offline verification
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub offline: bool,

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    /// path to a trusted root file
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,

    /// whether the specified image is a path to an image saved locally via 'cosign save'
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub local_image: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the images to verify
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SignBlobArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// write everything required to verify the blob to a FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,

    /// write the signature to FILE
    #[arg(long, alias = "output", value_name = "FILE")]
    pub output_signature: Option<std::path::PathBuf>,

    /// write the certificate to FILE
    #[arg(long, alias = "output-cert", value_name = "FILE")]
    pub output_certificate: Option<std::path::PathBuf>,

    /// whether to base64 encode the output
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub b64: bool,

    /// signing algorithm to use for signing/hashing (allowed ecdsa-sha2-256-nistp256, ecdsa-sha2-384-nistp384, ecdsa-sha2-512-nistp521, rsa-sign-pkcs1-2048-sha256, rsa-sign-pkcs1-3072-sha256, rsa-sign-pkcs1-4096-sha256, ed25519, ed25519-ph)
    #[arg(long, value_name = "ALGORITHM")]
    pub signing_algorithm: Option<String>,

    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, env = "COSIGN_YES")]
    pub yes: bool,

    /// whether or not to upload to the tlog
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,

    /// whether to use a TUF-provided signing config for the service URLs
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub use_signing_config: bool,

    /// output bundle in new format that contains all verification material
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// the blob to sign, or - for standard input
    #[arg(value_name = "BLOB")]
    pub blob: String,
}

#[derive(Debug, Args)]
pub struct VerifyBlobArgs {
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// path to bundle FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<std::path::PathBuf>,

    /// signature content or path
    #[arg(long, value_name = "SIGNATURE")]
    pub signature: Option<String>,

    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// path to a trusted root file
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,

    /// path to the public certificate (keyless, not supported yet)
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<String>,

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    /// expect the signature to be packaged in a Sigstore bundle
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// the blob to verify, or - for standard input
    #[arg(value_name = "BLOB")]
    pub blob: String,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AttachmentType {
    Signature,
    Attestation,
    Sbom,
    Digest,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CleanType {
    Signature,
    Attestation,
    Referrer,
    Sbom,
    All,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// a type of clean: <signature|attestation|referrer|sbom|all> (sbom is deprecated)
    #[arg(long = "type", value_enum, default_value = "all")]
    pub kind: CleanType,

    /// do not prompt for confirmation
    #[arg(short = 'f', long, env = "COSIGN_FORCE")]
    pub force: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum DownloadCommand {
    /// Download signatures from the supplied container image
    Signature(DownloadArgs),
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum AttachCommand {
    /// Attach signatures to the supplied container image
    Signature(AttachSignatureArgs),
}

#[derive(Debug, Args)]
pub struct AttachSignatureArgs {
    /// path to the signature, or {-} for stdin
    #[arg(long, value_name = "FILE")]
    pub signature: Option<String>,

    /// path to the payload covered by the signature
    #[arg(long, value_name = "FILE")]
    pub payload: Option<std::path::PathBuf>,

    /// path to the X.509 certificate in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<std::path::PathBuf>,

    /// path to a list of CA X.509 certificates in PEM format to include in the OCI Signature
    #[arg(long, alias = "cert-chain", value_name = "FILE")]
    pub certificate_chain: Option<std::path::PathBuf>,

    /// path to the Rekor response (not supported yet)
    #[arg(long, value_name = "FILE")]
    pub rekor_response: Option<std::path::PathBuf>,

    /// path to an RFC 3161 timestamp response (not supported yet)
    #[arg(long, value_name = "FILE")]
    pub tsr: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Args)]
pub struct TriangulateArgs {
    /// related attachment to triangulate (attestation|sbom|signature|digest)
    #[arg(long = "type", value_enum, default_value = "signature")]
    pub kind: AttachmentType,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve a registry (in memory, or in --storage DIR) until interrupted
    Serve(RegistryServeArgs),
}

#[derive(Debug, Args)]
pub struct RegistryServeArgs {
    /// address to listen on
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "HOST:PORT")]
    pub address: String,

    /// directory to keep content in (kept across restarts); a temporary directory, removed on exit, if not given
    #[arg(long, value_name = "DIR")]
    pub storage: Option<std::path::PathBuf>,

    /// require basic auth from the users of this htpasswd file (bcrypt hashes, as `htpasswd -B` writes them)
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<std::path::PathBuf>,

    /// serve HTTPS with this PEM certificate chain (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// the PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// listen on a non-loopback address without --htpasswd: anyone who can reach it can push and delete
    #[arg(long)]
    pub insecure_no_auth: bool,

    /// seconds a client may stay silent in the middle of a request (headers, body, TLS handshake) before its connection is closed
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub client_timeout: u64,
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

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// custom string array to only copy specific items, this flag is comma delimited. ex: --only=sig,att,sbom
    #[arg(long, value_delimiter = ',', value_name = "ITEMS")]
    pub only: Vec<String>,

    /// [DEPRECATED] only copy the image signature
    #[arg(long)]
    pub sig_only: bool,

    /// overwrite destination image(s), if necessary
    #[arg(short = 'f', long)]
    pub force: bool,

    /// only copy container image and its signatures for a specific platform image
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the source image
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// the destination image
    #[arg(value_name = "DESTINATION")]
    pub destination: String,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// path to dir where the signed image should be stored on disk
    #[arg(long, required = true, value_name = "DIR")]
    pub dir: std::path::PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// path to directory where the signed image is stored on disk
    #[arg(long, required = true, value_name = "DIR")]
    pub dir: std::path::PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// where to load the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum TrustedRootCommand {
    /// Create a Sigstore protobuf trusted root
    #[command(
        long_about = "Create a Sigstore protobuf trusted root by supplying verification material.\n\nEach service is specified via a repeatable flag (--fulcio, --rekor, --ctfe, --tsa) that takes a comma-separated list of key-value pairs."
    )]
    Create(TrustedRootCreateArgs),
}

#[derive(Debug, Args)]
pub struct TrustedRootCreateArgs {
    /// fulcio service specification, as a comma-separated key-value list. Required keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time.
    #[arg(long, value_name = "SPEC")]
    pub fulcio: Vec<String>,

    /// ctfe service specification, as a comma-separated key-value list. Required keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin.
    #[arg(long, value_name = "SPEC")]
    pub ctfe: Vec<String>,

    /// timestamping authority specification, as a comma-separated key-value list. Required keys: url, certificate-chain (path to PEM-encoded certificate chain). Optional keys: start-time, end-time.
    #[arg(long, value_name = "SPEC")]
    pub tsa: Vec<String>,

    /// rekor service specification, as a comma-separated key-value list. Required keys: url, public-key (path to PEM-encoded public key), start-time. Optional keys: end-time, origin.
    #[arg(long, value_name = "SPEC")]
    pub rekor: Vec<String>,

    /// use the Sigstore public-good trusted root (embedded in cosign-rs, no network) as default values; the other service flags add to it
    #[arg(long)]
    pub with_default_services: bool,

    /// removes the default Fulcio URLs from the trusted root.
    #[arg(long)]
    pub no_default_fulcio: bool,

    /// removes the default CTFE URLs from the trusted root.
    #[arg(long)]
    pub no_default_ctfe: bool,

    /// removes the default TSA URLs from the trusted root.
    #[arg(long)]
    pub no_default_tsa: bool,

    /// removes the default Rekor URLs from the trusted root.
    #[arg(long)]
    pub no_default_rekor: bool,

    /// path to output trusted root
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

/// Who must have signed, for keyless verification (`verify`, `verify-blob`).
#[derive(Debug, Clone, Args)]
pub struct CertificateIdentityArgs {
    /// the certificate identity to expect (keyless)
    #[arg(long, alias = "cert-identity", value_name = "IDENTITY")]
    pub certificate_identity: Option<String>,

    /// the certificate identity to expect, as a regular expression matching all of it (keyless)
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,

    /// the OIDC issuer to expect (keyless)
    #[arg(long, alias = "cert-oidc-issuer", value_name = "ISSUER")]
    pub certificate_oidc_issuer: Option<String>,

    /// the OIDC issuer to expect, as a regular expression matching all of it (keyless)
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// contains the event_name claim from the GitHub OIDC Identity token that contains the name of the event that triggered the workflow run
    #[arg(long, value_name = "TRIGGER")]
    pub certificate_github_workflow_trigger: Option<String>,

    /// contains the sha claim from the GitHub OIDC Identity token that contains the commit SHA that the workflow run was based upon.
    #[arg(long, value_name = "SHA")]
    pub certificate_github_workflow_sha: Option<String>,

    /// contains the workflow claim from the GitHub OIDC Identity token that contains the name of the executed workflow.
    #[arg(long, value_name = "NAME")]
    pub certificate_github_workflow_name: Option<String>,

    /// contains the repository claim from the GitHub OIDC Identity token that contains the repository that the workflow run was based upon
    #[arg(long, value_name = "REPOSITORY")]
    pub certificate_github_workflow_repository: Option<String>,

    /// contains the ref claim from the GitHub OIDC Identity token that contains the git ref that the workflow run was based upon.
    #[arg(long, value_name = "REF")]
    pub certificate_github_workflow_ref: Option<String>,
}
