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

    /// Attest the supplied container image.
    Attest(AttestArgs),

    /// Verify an attestation on the supplied container image
    VerifyAttestation(VerifyAttestationArgs),

    /// Sign the supplied blob, outputting the base64-encoded signature to stdout.
    SignBlob(SignBlobArgs),

    /// Attest the supplied blob.
    AttestBlob(AttestBlobArgs),

    /// Verify an attestation on the supplied blob
    VerifyBlobAttestation(VerifyBlobAttestationArgs),

    /// Verify a signature on the supplied blob
    VerifyBlob(VerifyBlobArgs),

    /// Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations
    Tree(TreeArgs),

    /// Remove all signatures from an image.
    Clean(CleanArgs),

    /// Provides utilities for discovering images in and performing operations on Dockerfiles
    #[command(subcommand)]
    Dockerfile(DockerfileCommand),

    /// Provides utilities for discovering images in and performing operations on Kubernetes manifests
    #[command(subcommand)]
    Manifest(ManifestCommand),

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

    /// Run a local Sigstore (OIDC issuer, Fulcio CA with CT log, Rekor v2 log, TSA) for labs and tests
    #[command(subcommand)]
    Sigstore(SigstoreCommand),

    /// Initializes SigStore root to retrieve trusted certificate and key targets for verification
    #[command(
        long_about = "Initializes SigStore root to retrieve trusted certificate and key targets for verification.\n\n\
                      The following options are used by default:\n \
                      - The current trusted Sigstore TUF root is embedded inside cosign-rs at the time of release.\n \
                      - SigStore remote TUF repository is pulled from the CDN mirror at tuf-repo-cdn.sigstore.dev.\n\n\
                      To provide an out-of-band trusted initial root.json, use the --root flag with a file or URL reference.\n\
                      This will enable you to point cosign to a separate TUF root.\n\n\
                      Any updated TUF repository will be written to $HOME/.sigstore/root/ ($TUF_ROOT when set), \
                      shared with cosign. Verification and signing then use its trusted_root.json and \
                      signing_config.v0.2.json, and keep using the cached copies, verified again, \
                      while the mirror cannot be reached and the metadata has not expired."
    )]
    Initialize(InitializeArgs),

    /// Interact with a Sigstore protobuf trusted root
    #[command(subcommand)]
    TrustedRoot(TrustedRootCommand),

    /// Interact with a Sigstore protobuf signing config
    #[command(subcommand)]
    SigningConfig(SigningConfigCommand),

    /// Interact with a Sigstore protobuf bundle
    #[command(subcommand)]
    Bundle(BundleCommand),

    /// Prints Cosign environment variables
    Env(EnvArgs),

    /// Log in to a registry
    #[command(override_usage = "cosign login [OPTIONS] [SERVER]")]
    Login(LoginArgs),

    /// Generates (unsigned) signature payloads from the supplied container image.
    #[command(
        long_about = "Generates an unsigned payload from the supplied container image and flags.\nThis payload matches the one generated by the \"cosign sign\" command and can be used if you need\nto sign payloads with your own tooling or algorithms."
    )]
    Generate(GenerateArgs),

    /// Prints the version
    Version(VersionArgs),

    /// Generate completion script
    Completion(CompletionArgs),

    /// Tools for troubleshooting
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Show enabled/disabled OIDC providers
    Providers,
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

    /// mode for fetching references from the registry: legacy (the fallback tag) or oci-1-1
    /// (the referrers API); by default, the API where the registry has it
    #[arg(long, value_enum, value_name = "MODE")]
    pub registry_referrers_mode: Option<ReferrersModeArg>,

    #[command(flatten)]
    pub certificate: SigningCertificateArgs,

    /// write everything required to verify the image to FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// write the signing certificate to FILE (keyless, or --certificate; a key alone has
    /// none, and nothing is written, as in cosign)
    #[arg(long, hide = true, value_name = "FILE")]
    pub output_certificate: Option<PathBuf>,

    #[command(flatten)]
    pub services: SigningServicesArgs,

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

#[derive(Debug, Subcommand)]
pub enum DockerfileCommand {
    /// Verify a signature on the base image specified in the Dockerfile
    #[command(
        long_about = "Verify signature and annotations on images in a Dockerfile by checking claims against the transparency log.\n\nShell-like variables in the Dockerfile's FROM lines will be substituted with values from the OS ENV.",
        override_usage = "cosign dockerfile verify [OPTIONS] <path/to/Dockerfile>"
    )]
    Verify(DockerfileVerifyArgs),
}

#[derive(Debug, Args)]
pub struct DockerfileVerifyArgs {
    /// only verify the base image (the last FROM image in the Dockerfile)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub base_image_only: bool,

    /// the flags of `cosign verify`; the one argument is the Dockerfile
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Verify all signatures of images specified in the manifest
    #[command(
        long_about = "Verify all signature of images in a Kubernetes resource manifest by checking claims against the transparency log.",
        override_usage = "cosign manifest verify [OPTIONS] <path/to/manifest>"
    )]
    Verify(ManifestVerifyArgs),
}

#[derive(Debug, Args)]
pub struct ManifestVerifyArgs {
    /// the flags of `cosign verify`; the one argument is the manifest
    #[command(flatten)]
    pub verify: VerifyArgs,
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

    /// digest algorithm the signatures were signed with (sha256|sha384|sha512); cosign-rs
    /// accepts any of them without it (see docs/compatibility.md)
    #[arg(long, hide = true, value_name = "ALGORITHM")]
    pub signature_digest_algorithm: Option<String>,

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    /// path to a trusted root file
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,

    /// whether the specified image is a path to an image saved locally via 'cosign save'
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub local_image: bool,

    #[command(flatten)]
    pub verification: VerificationArgs,

    /// payload path or remote URL
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,

    /// signature content or path or remote URL
    #[arg(long, hide = true, value_name = "SIGNATURE")]
    pub signature: Option<String>,

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

    /// write the RFC 3161 timestamp of the signature to FILE (keyless, with a timestamp authority)
    #[arg(long, value_name = "FILE")]
    pub rfc3161_timestamp: Option<PathBuf>,

    #[command(flatten)]
    pub certificate: SigningCertificateArgs,

    #[command(flatten)]
    pub services: SigningServicesArgs,

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

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    /// expect the signature to be packaged in a Sigstore bundle
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// digest algorithm to use when processing a signature (sha224|sha256|sha384|sha512)
    #[arg(long, hide = true, value_name = "ALGORITHM")]
    pub signature_digest_algorithm: Option<String>,

    #[command(flatten)]
    pub verification: VerificationArgs,

    /// only verify an artifact's inclusion in a transparency log using a provided proof, rather than querying the log (cosign-rs always verifies offline)
    #[arg(long, hide = true)]
    pub offline: bool,

    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: usize,

    /// the blob to verify, or - for standard input
    #[arg(value_name = "BLOB")]
    pub blob: String,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// mode for fetching references from the registry. allowed: legacy, oci-1-1
    #[arg(long, value_enum, value_name = "MODE")]
    pub registry_referrers_mode: Option<ReferrersModeArg>,

    /// set to false to ignore OCI 1.1 behavior
    #[arg(long, hide = true, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub experimental_oci11: bool,

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
    /// Download in-toto attestations from the supplied container image
    Attestation(DownloadAttestationArgs),
    /// DEPRECATED: Download SBOMs from the supplied container image
    Sbom(DownloadSbomArgs),
}

#[derive(Debug, Args)]
pub struct DownloadAttestationArgs {
    /// download attestation for an image from the specified platform
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,

    /// download attestation with matching predicateType
    #[arg(long, value_name = "TYPE")]
    pub predicate_type: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Args)]
pub struct DownloadSbomArgs {
    /// download SBOM for an image from the specified platform
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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
    /// Attach attestation to the supplied container image
    Attestation(AttachAttestationArgs),
    /// DEPRECATED: Attach sbom to the supplied container image
    Sbom(AttachSbomArgs),
}

#[derive(Debug, Args)]
pub struct AttachAttestationArgs {
    /// path to the attestation envelope (a DSSE envelope per JSON value, or a Sigstore bundle)
    #[arg(long = "attestation", value_name = "FILE")]
    pub attestations: Vec<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Args)]
pub struct AttachSbomArgs {
    /// path to the sbom, or {-} for stdin
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<String>,

    /// type of sbom (spdx|cyclonedx|syft)
    #[arg(long = "type", default_value = "spdx", value_name = "TYPE")]
    pub sbom_type: String,

    /// type of sbom input format (json|xml|text)
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<String>,

    /// mode for fetching references from the registry. allowed: legacy, oci-1-1
    #[arg(long, value_enum, value_name = "MODE")]
    pub registry_referrers_mode: Option<ReferrersModeArg>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
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

#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// Serve an OIDC issuer, a Fulcio-compatible CA with a CT log, a Rekor v2-compatible log and an RFC 3161 TSA on one loopback listener until interrupted; for labs and tests only (it mints a token for anyone who asks)
    Serve(SigstoreServeArgs),
}

#[derive(Debug, Args)]
pub struct SigstoreServeArgs {
    /// loopback address to listen on (port 0: any free port; the URL is printed and written to --out)
    #[arg(long, default_value = "127.0.0.1:8800", value_name = "HOST:PORT")]
    pub address: String,

    /// directory to keep keys, the log and issued certificates in (kept across restarts); a temporary directory, removed on exit, if not given
    #[arg(long, value_name = "DIR")]
    pub storage: Option<std::path::PathBuf>,

    /// directory to write trusted_root.json, signing_config.json, trust_config.json and ca.pem to, before the first request is answered
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,

    /// seconds a client may stay silent in the middle of a request (headers, body) before its connection is closed
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

#[derive(Debug, Subcommand)]
pub enum SigningConfigCommand {
    /// Create a Sigstore protobuf signing config
    #[command(
        long_about = "Create a Sigstore protobuf signing config by supplying the services: Fulcio, Rekor, the OIDC provider and timestamp authorities.\n\nEach service is specified via a repeatable flag (--fulcio, --rekor, --oidc-provider, --tsa) that takes a comma-separated list of key-value pairs."
    )]
    Create(SigningConfigCreateArgs),
}

#[derive(Debug, Args)]
pub struct SigningConfigCreateArgs {
    /// path to base signing config file to use as starting point. Service flags will replace services from the base config.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["with_default_services", "with_default_rekor_v2"])]
    pub base_config: Option<PathBuf>,

    /// fulcio service specification, as a comma-separated key-value list. Required keys: url, api-version (integer), start-time, operator. Optional keys: end-time.
    #[arg(long, value_name = "SPEC")]
    pub fulcio: Vec<String>,

    /// rekor service specification, as a comma-separated key-value list. Required keys: url, api-version (integer), start-time, operator. Optional keys: end-time.
    #[arg(long, value_name = "SPEC")]
    pub rekor: Vec<String>,

    /// oidc provider specification, as a comma-separated key-value list. Required keys: url, api-version (integer), start-time, operator. Optional keys: end-time.
    #[arg(long, value_name = "SPEC")]
    pub oidc_provider: Vec<String>,

    /// timestamping authority specification, as a comma-separated key-value list. Required keys: url, api-version (integer), start-time, operator. Optional keys: end-time.
    #[arg(long, value_name = "SPEC")]
    pub tsa: Vec<String>,

    /// timestamping authority configuration. Required if --tsa is provided. One of: ANY, ALL, EXACT:<count>
    #[arg(long, value_name = "MODE")]
    pub tsa_config: Option<String>,

    /// rekor configuration. Required if --rekor is provided. One of: ANY, ALL, EXACT:<count>
    #[arg(long, value_name = "MODE")]
    pub rekor_config: Option<String>,

    /// use the Sigstore signing config (from the TUF repository `cosign initialize` set up, else the public-good one embedded in cosign-rs) as default values. Specifying the other service flags will override the default values.
    #[arg(long)]
    pub with_default_services: bool,

    /// as --with-default-services, with the Rekor v2 service (the TUF repository's signing_config_rekor_v2.v0.2.json; the embedded public-good signing config lists Rekor v2 already)
    #[arg(long)]
    pub with_default_rekor_v2: bool,

    /// removes the default Fulcio URLs from the signing config.
    #[arg(long)]
    pub no_default_fulcio: bool,

    /// removes the default Rekor URLs from the signing config.
    #[arg(long)]
    pub no_default_rekor: bool,

    /// removes the default OIDC provider URLs from the signing config.
    #[arg(long)]
    pub no_default_oidc: bool,

    /// removes the default TSA URLs from the signing config.
    #[arg(long)]
    pub no_default_tsa: bool,

    /// path to output signing config
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitializeArgs {
    /// GCS bucket to a SigStore TUF repository, or HTTP(S) base URL, or file:/// for local filestore remote (air-gap)
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://tuf-repo-cdn.sigstore.dev"
    )]
    pub mirror: String,

    /// path to trusted initial root. defaults to embedded root
    #[arg(long, value_name = "PATH")]
    pub root: Option<String>,

    /// checksum of the initial root, required if root is downloaded via http(s). expects sha256 by default, can be changed to sha512 by providing sha512:<checksum>
    #[arg(long, value_name = "CHECKSUM")]
    pub root_checksum: Option<String>,

    /// use the staging TUF repository
    #[arg(long)]
    pub staging: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// show descriptions for environment variables
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub show_descriptions: bool,

    /// show values of sensitive environment variables
    #[arg(long)]
    pub show_sensitive_values: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short = 'u', long, value_name = "USER")]
    pub username: Option<String>,

    /// Password
    #[arg(short = 'p', long, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Take the password from stdin
    #[arg(long)]
    pub password_stdin: bool,

    /// the registry to log in to
    #[arg(value_name = "SERVER")]
    pub server: String,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// extra key=value pairs to sign
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the image
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Create a Sigstore protobuf bundle
    #[command(long_about = "Create a Sigstore protobuf bundle by supplying signed material")]
    Create(BundleCreateArgs),

    /// Upgrade a Sigstore protobuf bundle
    Upgrade(BundleUpgradeArgs),
}

#[derive(Debug, Args)]
pub struct BundleCreateArgs {
    /// path to artifact FILE
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<PathBuf>,

    /// path to attestation FILE
    #[arg(long, value_name = "FILE")]
    pub attestation: Option<PathBuf>,

    /// path to old format bundle FILE
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate", "signature"])]
    pub bundle: Option<PathBuf>,

    /// path to the signing certificate, likely from Fulcio.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,

    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log.
    #[arg(long)]
    pub ignore_tlog: bool,

    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,

    /// path to output bundle
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// address of rekor STL server
    #[arg(
        long,
        hide = true,
        default_value = "https://rekor.sigstore.dev",
        value_name = "URL"
    )]
    pub rekor_url: String,

    /// path to RFC3161 timestamp FILE
    #[arg(long, value_name = "FILE")]
    pub rfc3161_timestamp: Option<PathBuf>,

    /// path to base64-encoded signature over attestation in DSSE format
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// whether to use a hardware security key
    #[arg(long)]
    pub sk: bool,

    /// security key slot to use for generated key (authentication|signature|card-authentication|key-management)
    #[arg(long, default_value = "signature", value_name = "SLOT")]
    pub slot: String,
}

#[derive(Debug, Args)]
pub struct BundleUpgradeArgs {
    /// path to the output upgraded bundle file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// URL of the transparency log
    #[arg(long, default_value = "https://rekor.sigstore.dev", value_name = "URL")]
    pub rekor_url: String,

    /// the bundle to upgrade
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
}

/// Flags `verify` and `verify-blob` share about what verification requires.
#[derive(Debug, Args)]
pub struct VerificationArgs {
    /// when set, verification will not check that a certificate contains an embedded SCT, a proof of inclusion in a certificate transparency log
    #[arg(long)]
    pub insecure_ignore_sct: bool,

    /// verify rfc3161 timestamps
    #[arg(long)]
    pub use_signed_timestamps: bool,

    /// skip transparency log verification when verifying artifacts in a privately deployed infrastructure
    #[arg(long, hide = true)]
    pub private_infrastructure: bool,

    /// address of rekor STL server (cosign-rs never queries Rekor: entries are checked offline from the bundle)
    #[arg(long, hide = true, value_name = "URL")]
    pub rekor_url: Option<String>,

    /// set to false to ignore OCI 1.1 behavior (cosign-rs reads both signature formats)
    #[arg(long, hide = true)]
    pub experimental_oci11: bool,

    /// path to the public certificate: the signatures must have been made with it; it is verified against the CAs like any other
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<PathBuf>,

    /// path to a list of CA certificates in PEM format, from the parent intermediate CA of the signing certificate to the root; replaces the trusted root's CAs
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ca_roots", "ca_intermediates"])]
    pub certificate_chain: Option<PathBuf>,

    /// path to a bundle file of CA root certificates in PEM format; replaces the trusted root's CAs
    #[arg(long, value_name = "FILE")]
    pub ca_roots: Option<PathBuf>,

    /// path to a file of intermediate CA certificates in PEM format, used with --ca-roots
    #[arg(long, value_name = "FILE")]
    pub ca_intermediates: Option<PathBuf>,
}

/// A certificate the signer brings for its key (`sign`, `sign-blob`, `attest`, `attest-blob`
/// with `--key`), and its chain.
#[derive(Debug, Args)]
pub struct SigningCertificateArgs {
    /// path to the X.509 certificate in PEM or DER format for the key (--key), to include in the signature
    #[arg(long, alias = "cert", value_name = "FILE")]
    pub certificate: Option<PathBuf>,

    /// path to a list of CA X.509 certificates in PEM format, ending with the root CA, that --certificate chains to; checked before signing and included in the signature
    #[arg(long, alias = "cert-chain", value_name = "FILE")]
    pub certificate_chain: Option<PathBuf>,
}

/// Where signing would reach Sigstore's services; with a key and `--tlog-upload=false` (the
/// only signing cosign-rs does) cosign contacts none of them, and neither do we.
#[derive(Debug, Args)]
pub struct SigningServicesArgs {
    /// optional path to a TrustedRoot JSON file to verify a signature after signing
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,

    /// address of rekor STL server (with --use-signing-config=false)
    #[arg(long, hide = true, value_name = "URL")]
    pub rekor_url: Option<String>,

    /// address of sigstore PKI server (with --use-signing-config=false)
    #[arg(long, hide = true, value_name = "URL")]
    pub fulcio_url: Option<String>,

    /// url to the Timestamp RFC3161 server (with --use-signing-config=false)
    #[arg(long, hide = true, value_name = "URL")]
    pub timestamp_server_url: Option<String>,

    /// path to a signing config file: the CA, transparency logs and timestamp authorities to sign with
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,

    /// identity token for keyless signing (a JWT, or the path of a file holding one)
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<String>,

    /// how to get an identity token without --identity-token: normal (a browser), device (a code entered on any device) or token; by default normal on a terminal, device otherwise
    #[arg(long, value_name = "FLOW")]
    pub fulcio_auth_flow: Option<String>,

    /// OIDC provider to be used to issue ID token (default: the signing config's, else https://oauth2.sigstore.dev/auth)
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// OIDC client ID for application
    #[arg(long, default_value = "sigstore", value_name = "ID")]
    pub oidc_client_id: String,

    /// path to file containing OIDC client secret for application
    #[arg(long, value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// OIDC redirect URL (a loopback address; by default http://localhost:0/auth/callback, any free port)
    #[arg(long, value_name = "URL")]
    pub oidc_redirect_url: Option<String>,

    /// the ambient provider to get the OIDC token from (envvar, github-actions, filesystem); by default all of them are tried
    #[arg(long, value_name = "PROVIDER")]
    pub oidc_provider: Option<String>,

    /// disable ambient OIDC providers: ambient credentials will not be read
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub oidc_disable_ambient_providers: bool,

    /// issue a code signing certificate from Fulcio, even if a key is provided
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub issue_certificate: bool,

    /// skip verifying that Fulcio published the certificate to a CT log (its SCT); for testing only
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// path to the predicate file.
    #[arg(long, value_name = "FILE")]
    pub predicate: Option<String>,

    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,

    /// path to the statement file.
    #[arg(long, value_name = "FILE")]
    pub statement: Option<PathBuf>,

    /// replace the attestations of the same predicate type (legacy format)
    #[arg(long, hide = true)]
    pub replace: bool,

    /// if a multi-arch image is specified, additionally attest each discrete image (cosign
    /// 2.5's flag; cosign 3.1 dropped it)
    #[arg(short = 'r', long)]
    pub recursive: bool,

    /// do not upload the generated attestation, but send the attestation output to STDOUT
    #[arg(long)]
    pub no_upload: bool,

    /// write everything required to verify the blob to a FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, env = "COSIGN_YES")]
    pub yes: bool,

    /// whether or not to upload to the tlog
    #[arg(long, hide = true, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,

    /// whether to use a TUF-provided signing config for the service URLs
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub use_signing_config: bool,

    /// attach a Sigstore bundle using OCI referrers API
    #[arg(long, hide = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// the type of the Rekor entry of a keyless attestation: dsse (intoto is not supported)
    #[arg(long, default_value = "dsse", value_name = "TYPE")]
    pub rekor_entry_type: String,

    #[command(flatten)]
    pub certificate: SigningCertificateArgs,

    #[command(flatten)]
    pub services: SigningServicesArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the images to attest
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,

    /// specify CUE or Rego files with policies to be used for validation
    #[arg(long = "policy", value_name = "FILE", value_delimiter = ',')]
    pub policies: Vec<PathBuf>,

    /// output format for the signing image information (json|text); cosign prints the
    /// attestations the same way for either
    #[arg(short = 'o', long, default_value = "json", value_name = "FORMAT")]
    pub output: String,

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
    #[arg(long, hide = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// only allow offline verification
    #[arg(long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub offline: bool,

    /// digest algorithm the attestations were signed with (sha256|sha384|sha512); cosign-rs
    /// accepts any of them without it (see docs/compatibility.md)
    #[arg(long, hide = true, value_name = "ALGORITHM")]
    pub signature_digest_algorithm: Option<String>,

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    /// Path to a Sigstore TrustedRoot JSON file
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,

    /// whether the specified image is a path to an image saved locally via 'cosign save'
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub local_image: bool,

    #[command(flatten)]
    pub verification: VerificationArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// the images to verify
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AttestBlobArgs {
    /// path to the private key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// path to the predicate file.
    #[arg(long, value_name = "FILE")]
    pub predicate: Option<String>,

    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,

    /// path to the statement file.
    #[arg(long, value_name = "FILE")]
    pub statement: Option<PathBuf>,

    /// hash of blob in hexadecimal (base16). Used if you want to sign an artifact stored elsewhere and have the hash
    #[arg(long, value_name = "HEX")]
    pub hash: Option<String>,

    /// write everything required to verify the blob to a FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// write the signature to FILE
    #[arg(long, hide = true, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,

    /// write the signed attestation to FILE
    #[arg(long, value_name = "FILE")]
    pub output_attestation: Option<PathBuf>,

    /// write the certificate to FILE
    #[arg(long, hide = true, value_name = "FILE")]
    pub output_certificate: Option<PathBuf>,

    /// skip confirmation prompts for non-destructive operations
    #[arg(short = 'y', long, env = "COSIGN_YES")]
    pub yes: bool,

    /// whether or not to upload to the tlog
    #[arg(long, hide = true, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tlog_upload: bool,

    /// whether to use a TUF-provided signing config for the service URLs
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub use_signing_config: bool,

    /// output bundle in new format that contains all verification material
    #[arg(long, hide = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// the type of the Rekor entry of a keyless attestation: dsse (intoto is not supported)
    #[arg(long, default_value = "dsse", value_name = "TYPE")]
    pub rekor_entry_type: String,

    /// write the RFC 3161 timestamp of the attestation to FILE (keyless, with a timestamp authority)
    #[arg(long, value_name = "FILE")]
    pub rfc3161_timestamp_bundle: Option<PathBuf>,

    #[command(flatten)]
    pub certificate: SigningCertificateArgs,

    #[command(flatten)]
    pub services: SigningServicesArgs,

    /// the blob (`-` for standard input); with --hash, only its name is used
    #[arg(value_name = "BLOB")]
    pub blob: String,
}

#[derive(Debug, Args)]
pub struct VerifyBlobAttestationArgs {
    /// path to the public key file, KMS URI or Kubernetes Secret
    #[arg(long, env = "COSIGN_KEY", value_name = "KEY")]
    pub key: Option<String>,

    /// path to bundle FILE
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// path to base64-encoded signature over attestation in DSSE format
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    /// specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI
    #[arg(long = "type", default_value = "custom", value_name = "TYPE")]
    pub predicate_type: String,

    /// if true, verifies the digest exists in the in-toto subject (using either the provided digest and digest algorithm or the provided blob's sha256 digest). If false, only the DSSE envelope is verified.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub check_claims: bool,

    /// Digest to use for verifying in-toto subject (instead of providing a blob)
    #[arg(long, value_name = "HEX")]
    pub digest: Option<String>,

    /// Digest algorithm to use for verifying in-toto subject (instead of providing a blob)
    #[arg(long = "digestAlg", value_name = "ALGORITHM")]
    pub digest_alg: Option<String>,

    /// ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub insecure_ignore_tlog: bool,

    /// Path to a Sigstore TrustedRoot JSON file
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,

    /// digest algorithm the attestations were signed with (sha256|sha384|sha512); cosign-rs
    /// accepts any of them without it (see docs/compatibility.md)
    #[arg(long, hide = true, value_name = "ALGORITHM")]
    pub signature_digest_algorithm: Option<String>,

    #[command(flatten)]
    pub identity: CertificateIdentityArgs,

    #[command(flatten)]
    pub verification: VerificationArgs,

    /// expect the attestation to be packaged in a Sigstore bundle
    #[arg(long, hide = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub new_bundle_format: Option<bool>,

    /// only allow offline verification
    #[arg(long, hide = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set, default_value_t = false, value_name = "BOOL")]
    pub offline: bool,

    /// the amount of maximum workers for parallel executions
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_workers: usize,

    /// the blob the attestation is about (optional with --digest and --digestAlg, or --check-claims=false)
    #[arg(value_name = "BLOB")]
    pub blob: Option<String>,
}
