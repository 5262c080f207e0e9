//! Turning the registry flags and environment into a client, and references into repositories.

use std::collections::BTreeMap;

use cosign_core::image::manifest::{media_types, ImageIndex, Platform};
use cosign_core::image::reference::{ImageReference, Repository};
use cosign_oci::auth::{Credentials, DockerConfigKeychain, Layered};
use cosign_oci::client::Manifest;
use cosign_oci::{Access, ClientOptions, RegistryClient, TlsOptions};

use crate::args::RegistryArgs;
use crate::error::CliError;
use crate::settings::GlobalSettings;

/// A registry client for these flags: credentials from the flags first, then docker's and
/// podman's files.
pub fn client(args: &RegistryArgs, settings: &GlobalSettings) -> Result<RegistryClient, CliError> {
    if args.k8s_keychain {
        return Err(CliError::not_supported(
            "--k8s-keychain",
            "log in with `docker login` (or set --registry-username/--registry-password) instead",
        ));
    }
    if args.attachment_tag_prefix.is_some() {
        return Err(CliError::not_supported(
            "--attachment-tag-prefix",
            "drop the flag",
        ));
    }
    let first = match (
        &args.registry_token,
        &args.registry_username,
        &args.registry_password,
    ) {
        (Some(token), _, _) => Some(Credentials::RegistryToken(token.clone())),
        (None, Some(username), password) => Some(Credentials::Basic {
            username: username.clone(),
            password: password.clone().unwrap_or_default(),
        }),
        (None, None, Some(_)) => {
            return Err(CliError::usage(
                "--registry-password needs --registry-username",
            ));
        }
        (None, None, None) => None,
    };
    let keychain = DockerConfigKeychain::from_environment(&|name| std::env::var(name).ok());
    let options = ClientOptions {
        allow_insecure_registry: args.allow_insecure_registry,
        allow_http_registry: args.allow_http_registry,
        user_agent: format!(
            "cosign-rs/{} ({}; {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
        verbose: settings.verbose,
        tls: tls_options(args)?,
        ..ClientOptions::default()
    };
    RegistryClient::new(
        options,
        Box::new(Layered {
            first,
            fallback: Box::new(keychain),
        }),
    )
    .map_err(|error| CliError::new(error.to_string()))
}

/// `--registry-cacert`, `--registry-client-cert`/`--registry-client-key` (both or neither) and
/// `--registry-server-name`, their files read.
fn tls_options(args: &RegistryArgs) -> Result<TlsOptions, CliError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|error| crate::error::io_error("open", path, &error))
    };
    let client_identity_pem = match (&args.registry_client_cert, &args.registry_client_key) {
        (Some(certificate), Some(key)) => {
            let mut identity = read(certificate)?;
            identity.push(b'\n');
            identity.extend(read(key)?);
            Some(identity)
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(CliError::usage(
                "--registry-client-cert needs --registry-client-key",
            ))
        }
        (None, Some(_)) => {
            return Err(CliError::usage(
                "--registry-client-key needs --registry-client-cert",
            ))
        }
    };
    Ok(TlsOptions {
        ca_certificates_pem: args.registry_cacert.as_deref().map(read).transpose()?,
        client_identity_pem,
        server_name: args.registry_server_name.clone(),
    })
}

/// An image named on the command line, with a client for its registry and the digest it
/// stands for now.
pub struct ResolvedImage {
    pub reference: ImageReference,
    pub client: RegistryClient,
    pub digest: cosign_core::digest::Digest,
}

/// Parses `image`, makes a client, and resolves the digest (errors as the registry said them).
pub async fn resolve(
    image: &str,
    args: &RegistryArgs,
    settings: &GlobalSettings,
    access: cosign_oci::Access,
) -> Result<ResolvedImage, CliError> {
    use cosign_oci::signatures::{self, ResolveError};
    let reference = parse_reference(image)?;
    let client = client(args, settings)?;
    let digest = signatures::resolve_digest(&client, &reference, access)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(source.to_string())
            }
        })?;
    Ok(ResolvedImage {
        reference,
        client,
        digest,
    })
}

/// The digest `reference` stands for now, with an existing client (one `GET` for a tag).
pub async fn resolve_with(
    client: &RegistryClient,
    reference: &ImageReference,
    access: Access,
) -> Result<cosign_core::digest::Digest, CliError> {
    use cosign_oci::signatures::{self, ResolveError};
    signatures::resolve_digest(client, reference, access)
        .await
        .map_err(|error| match error {
            ResolveError::TagNotFound { source } | ResolveError::Registry { source } => {
                CliError::new(source.to_string())
            }
        })
}

pub fn parse_reference(value: &str) -> Result<ImageReference, CliError> {
    value
        .parse::<ImageReference>()
        .map_err(|error| CliError::new(error.to_string()))
}

/// Every image named on the command line, parsed; the first bad one fails.
pub fn parse_references(values: &[String]) -> Result<Vec<ImageReference>, CliError> {
    values.iter().map(|value| parse_reference(value)).collect()
}

/// Where signatures of images in `repository` live: there, or in `COSIGN_REPOSITORY`.
pub fn signature_repository(repository: &Repository) -> Result<Repository, CliError> {
    match std::env::var("COSIGN_REPOSITORY") {
        Ok(value) if !value.is_empty() => Repository::parse(&value)
            .map_err(|error| CliError::new(format!("parsing COSIGN_REPOSITORY: {error}"))),
        _ => Ok(repository.clone()),
    }
}

/// `-a key=value` flags (each may hold several, comma-separated, as cobra's string slices do).
pub fn parse_annotations(values: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut annotations = BTreeMap::new();
    for value in values.iter().flat_map(|value| value.split(',')) {
        let (key, content) = value
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("unable to parse annotation: {value}")))?;
        annotations.insert(key.to_owned(), content.to_owned());
    }
    Ok(annotations)
}

/// The image of an index for `--platform` (cosign's `SignedEntityForPlatform`).
pub(crate) async fn select_platform(
    client: &RegistryClient,
    repository: &Repository,
    root: &Manifest,
    wanted: &str,
) -> Result<Manifest, CliError> {
    if !media_types::is_index(&root.media_type) {
        return Err(CliError::new(
            "specified reference is not a multiarch image",
        ));
    }
    let wanted = Platform::parse(wanted)
        .map_err(|error| CliError::new(format!("parsing platform: {error}")))?;
    let index = ImageIndex::parse(&root.bytes)
        .map_err(|error| CliError::new(format!("getting available platforms: {error}")))?;
    let matching: Vec<_> = index
        .manifests
        .iter()
        .filter(|child| {
            child
                .platform
                .as_ref()
                .is_some_and(|platform| wanted.selects(platform))
        })
        .collect();
    let child = match matching.as_slice() {
        [] => {
            return Err(CliError::new(format!(
                "unable to find an entity for {wanted}"
            )))
        }
        [child] => *child,
        several => {
            let names: Vec<String> = several
                .iter()
                .filter_map(|child| child.platform.as_ref().map(Platform::to_string))
                .collect();
            return Err(CliError::new(format!(
                "platform spec matches more than one image architecture: {}",
                names.join(", ")
            )));
        }
    };
    client
        .get_manifest(
            repository.registry(),
            repository.path(),
            &child.digest.to_string(),
            Access::Pull,
        )
        .await
        .map_err(|error| CliError::new(format!("searching for {} image: {error}", child.digest)))?
        .ok_or_else(|| CliError::new(format!("unable to find image {}", child.digest)))
}
