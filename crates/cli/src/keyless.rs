//! Keyless signing, shared by `sign` and `sign-blob`: the services (from `--signing-config`, or
//! cosign's `--fulcio-url`/`--rekor-url`/`--timestamp-server-url` with
//! `--use-signing-config=false`), the identity token, an ephemeral key and its Fulcio
//! certificate (verified with its SCT against the trusted root before anything is signed), then
//! for each signature its RFC 3161 timestamps and transparency-log entries, each verified before
//! it goes in the bundle. One certificate serves every signature of a run.

use std::path::Path;

use cosign_core::bundle::{Bundle, Rfc3161Timestamp, TimestampVerificationData};
use cosign_core::keyless::fulcio::IssuedChain;
use cosign_core::keyless::identity_token::{is_rs256_token, IdentityToken};
use cosign_core::keyless::signing_config::{
    select_service, select_services, SigningConfig, SIGNING_CONFIG_SIZE_LIMIT,
};
use cosign_core::keys::PrivateKey;
use cosign_core::trust::certificate::Certificate;
use cosign_core::trust::transparency_log::Signer;
use cosign_core::{Digest, TrustedRoot, UnixTime};
use cosign_services::rekor::{Log, LogVersion};

use crate::args::SigningServicesArgs;
use crate::console;
use crate::error::CliError;
use crate::key_files::read_limited_to;

/// The audience Fulcio accepts tokens for (cosign's default `--oidc-client-id`).
const AUDIENCE: &str = "sigstore";

/// How long one request to a service may take.
const SERVICE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Public-good Sigstore, where cosign's deprecated flags point by default.
const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";

/// The Rekor API versions cosign-rs writes to, and the CA and TSA versions.
const REKOR_VERSIONS: [u32; 2] = [1, 2];
const CA_VERSIONS: [u32; 1] = [1];
const TSA_VERSIONS: [u32; 1] = [1];

/// The services one keyless run signs with.
#[derive(Debug, Clone)]
pub struct Services {
    pub certificate_authority: url::Url,
    pub logs: Vec<Log>,
    pub timestamp_authorities: Vec<url::Url>,
}

fn parse_url(what: &str, text: &str) -> Result<url::Url, CliError> {
    url::Url::parse(text).map_err(|error| CliError::usage(format!("{what} {text:?}: {error}")))
}

/// The services, as cosign 3.1 chooses them: from the signing config (`--signing-config`;
/// cosign's default, the public-good config from TUF, needs the network), or with
/// `--use-signing-config=false` from the deprecated URL flags.
pub fn services(
    args: &SigningServicesArgs,
    use_signing_config: bool,
    tlog_upload: bool,
    now: i64,
) -> Result<Services, CliError> {
    if use_signing_config {
        if args.fulcio_url.is_some()
            || args.rekor_url.is_some()
            || args.timestamp_server_url.is_some()
        {
            return Err(CliError::usage(
                "--fulcio-url, --rekor-url and --timestamp-server-url need --use-signing-config=false (the signing config names the services)",
            ));
        }
        let Some(path) = &args.signing_config else {
            return Err(CliError::new(
                "keyless signing needs a signing config: cosign's default fetches the public-good one from Sigstore's TUF repository, which needs the network (not reachable from cosign-rs yet)",
            )
            .with_hint(
                "pass --signing-config FILE (with --trusted-root FILE for a private Sigstore), or --use-signing-config=false --fulcio-url URL --rekor-url URL",
            ));
        };
        let bytes = read_limited_to(path, SIGNING_CONFIG_SIZE_LIMIT as u64)?;
        let config = SigningConfig::parse(&bytes)
            .map_err(|error| CliError::new(format!("{}: {error}", path.display())))?;
        let invalid = |error: cosign_core::keyless::signing_config::SigningConfigError| {
            CliError::new(format!("{}: {error}", path.display()))
        };
        let ca = select_service("CA", &config.certificate_authorities, &CA_VERSIONS, now)
            .map_err(invalid)?;
        let logs = if tlog_upload {
            select_services(
                "Rekor",
                &config.transparency_logs,
                config.transparency_log_selector,
                &REKOR_VERSIONS,
                now,
            )
            .map_err(invalid)?
            .into_iter()
            .map(|service| {
                Ok(Log {
                    url: parse_url("Rekor URL", &service.url)?,
                    version: if service.major_api_version == 2 {
                        LogVersion::V2
                    } else {
                        LogVersion::V1
                    },
                })
            })
            .collect::<Result<Vec<_>, CliError>>()?
        } else {
            Vec::new()
        };
        let timestamp_authorities = if config.timestamp_authorities.is_empty() {
            Vec::new()
        } else {
            select_services(
                "TSA",
                &config.timestamp_authorities,
                config.timestamp_authority_selector,
                &TSA_VERSIONS,
                now,
            )
            .map_err(invalid)?
            .into_iter()
            .map(|service| parse_url("TSA URL", &service.url))
            .collect::<Result<Vec<_>, _>>()?
        };
        if timestamp_authorities.is_empty() {
            // As cosign 3.1 with a signing config.
            return Err(CliError::new(format!(
                "{}: a timestamp authority must be provided: keyless signing with a signing config needs one to prove the signing time",
                path.display()
            )));
        }
        return Ok(Services {
            certificate_authority: parse_url("CA URL", &ca.url)?,
            logs,
            timestamp_authorities,
        });
    }
    if args.signing_config.is_some() {
        return Err(CliError::usage(
            "--signing-config cannot be used with --use-signing-config=false",
        ));
    }
    let logs = if tlog_upload {
        vec![Log {
            url: parse_url(
                "--rekor-url",
                args.rekor_url.as_deref().unwrap_or(PUBLIC_GOOD_REKOR),
            )?,
            version: LogVersion::V1,
        }]
    } else {
        Vec::new()
    };
    let timestamp_authorities = args
        .timestamp_server_url
        .iter()
        .map(|url| parse_url("--timestamp-server-url", url))
        .collect::<Result<Vec<_>, _>>()?;
    if logs.is_empty() && timestamp_authorities.is_empty() {
        return Err(CliError::new(
            "a keyless signature needs a signing time a transparency log or a timestamp authority vouches for, and --tlog-upload=false leaves neither",
        )
        .with_hint("drop --tlog-upload=false, or pass --timestamp-server-url URL"));
    }
    Ok(Services {
        certificate_authority: parse_url(
            "--fulcio-url",
            args.fulcio_url.as_deref().unwrap_or(PUBLIC_GOOD_FULCIO),
        )?,
        logs,
        timestamp_authorities,
    })
}

/// The identity token, from where cosign looks, in its order: `--identity-token` (a JWT, or
/// else the path of a file holding one), then the ambient providers: `SIGSTORE_ID_TOKEN`, and
/// GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`, audience `sigstore`).
pub async fn identity_token(
    args: &SigningServicesArgs,
    client: &reqwest::Client,
) -> Result<IdentityToken, CliError> {
    let raw = if let Some(value) = &args.identity_token {
        if is_rs256_token(value) || !Path::new(value).exists() && value.matches('.').count() == 2 {
            value.clone()
        } else {
            let bytes = read_limited_to(
                Path::new(value),
                cosign_core::keyless::identity_token::TOKEN_SIZE_LIMIT as u64,
            )?;
            String::from_utf8_lossy(&bytes).trim().to_owned()
        }
    } else if let Some(value) = std::env::var("SIGSTORE_ID_TOKEN")
        .ok()
        .filter(|value| !value.is_empty())
    {
        value
    } else if let (Ok(url), Ok(bearer)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) {
        cosign_services::github_actions::identity_token(client, &url, &bearer, AUDIENCE)
            .await
            .map_err(|error| {
                CliError::new(format!(
                    "getting the GitHub Actions identity token: {error}"
                ))
            })?
    } else {
        return Err(CliError::new(
            "keyless signing needs an identity token, and none was given: the interactive browser and device flows are not supported by cosign-rs yet",
        )
        .with_hint(
            "pass --identity-token TOKEN (or a file holding it), set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `id-token: write`",
        ));
    };
    let token = IdentityToken::parse(&raw).map_err(|error| CliError::new(error.to_string()))?;
    token
        .check_audience(AUDIENCE)
        .map_err(|error| CliError::new(error.to_string()))?;
    token
        .check_expiry(UnixTime::from_seconds(crate::trust::now()))
        .map_err(|error| CliError::new(error.to_string()))?;
    Ok(token)
}

/// A keyless signer: an ephemeral key, its verified certificate, the services to log and
/// timestamp with, and the trusted root their answers are checked against.
pub struct KeylessSigner {
    key: PrivateKey,
    pub chain: IssuedChain,
    services: Services,
    root: TrustedRoot,
    client: reqwest::Client,
}

impl KeylessSigner {
    /// Gets the token, generates the key, asks for and verifies its certificate.
    pub async fn start(
        args: &SigningServicesArgs,
        use_signing_config: bool,
        tlog_upload: bool,
    ) -> Result<Self, CliError> {
        let now = crate::trust::now();
        let services = services(args, use_signing_config, tlog_upload, now)?;
        let root = crate::trust::trusted_root(
            args.trusted_root
                .as_ref()
                .map(|path| path.to_string_lossy().into_owned())
                .as_deref(),
        )?;
        let client = cosign_services::client(SERVICE_TIMEOUT)
            .map_err(|error| CliError::new(format!("starting the HTTP client: {error}")))?;
        let token = identity_token(args, &client).await?;
        console::info("Generating ephemeral keys...");
        let key = PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng);
        console::info("Retrieving signed certificate...");
        let chain = cosign_services::fulcio::signing_certificate(
            &client,
            &services.certificate_authority,
            &token,
            &key,
            &root,
        )
        .await
        .map_err(|error| {
            CliError::new(format!("getting a signing certificate: {error}")).with_hint(
                "check that the identity token is current and issued for `sigstore`, and that --trusted-root trusts this Fulcio",
            )
        })?;
        if let Some(identity) = chain.leaf.subject_alternative_names().first() {
            console::info(format_args!(
                "Successfully verified SCT...\nsigning certificate issued for {identity}"
            ));
        }
        Ok(Self {
            key,
            chain,
            services,
            root,
            client,
        })
    }

    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    pub fn leaf(&self) -> &Certificate {
        &self.chain.leaf
    }

    /// The leaf certificate, PEM.
    pub fn leaf_pem(&self) -> String {
        self.chain.leaf.to_pem()
    }

    /// Completes `bundle` (signed with [`Self::key`], its verification material the leaf):
    /// a timestamp from each timestamp authority, then an entry in each log, all verified.
    /// `artifact` is the SHA-256 of the signed blob (for a message signature).
    pub async fn complete(
        &self,
        mut bundle: Bundle,
        artifact: &Digest,
    ) -> Result<Bundle, CliError> {
        let signature = bundle.signature_bytes().to_vec();
        let mut times = Vec::new();
        for authority in &self.services.timestamp_authorities {
            let timestamp = cosign_services::timestamp::timestamp_signature(
                &self.client,
                authority,
                &signature,
                &self.root,
            )
            .await
            .map_err(|error| CliError::new(format!("timestamping the signature: {error}")))?;
            times.push(timestamp.time.seconds());
            bundle
                .verification_material
                .timestamp_verification_data
                .get_or_insert_with(|| TimestampVerificationData {
                    rfc3161_timestamps: Vec::new(),
                })
                .rfc3161_timestamps
                .push(Rfc3161Timestamp {
                    signed_timestamp: timestamp.response,
                });
        }
        for log in &self.services.logs {
            if log.version == LogVersion::V2 && times.is_empty() {
                return Err(CliError::new(
                    "Rekor v2 entries carry no signing time: a timestamp authority must be provided",
                ));
            }
            let entry = cosign_services::rekor::add_entry(
                &self.client,
                log,
                &bundle,
                artifact,
                Signer::Certificate(&self.chain.leaf),
                cosign_services::rekor::Checks {
                    root: &self.root,
                    observed: &times,
                    now: crate::trust::now(),
                },
            )
            .await
            .map_err(|error| CliError::new(format!("logging the signature: {error}")))?;
            console::info(format_args!(
                "tlog entry created with index: {}",
                entry.log_index
            ));
            bundle.verification_material.tlog_entries.push(entry);
        }
        Ok(bundle)
    }
}
