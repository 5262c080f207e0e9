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
    self, select_service, select_services, SigningConfig, SIGNING_CONFIG_SIZE_LIMIT,
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

/// How long one request to a service may take.
const SERVICE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Public-good Sigstore, where cosign's deprecated flags point by default.
const PUBLIC_GOOD_FULCIO: &str = "https://fulcio.sigstore.dev";
const PUBLIC_GOOD_REKOR: &str = "https://rekor.sigstore.dev";
const PUBLIC_GOOD_OIDC: &str = "https://oauth2.sigstore.dev/auth";

/// The OIDC provider: `--oidc-issuer`, else `configured`, else public-good Sigstore's.
fn oidc_issuer(args: &SigningServicesArgs, configured: Option<&str>) -> Result<url::Url, CliError> {
    match (&args.oidc_issuer, configured) {
        (Some(issuer), _) => parse_url("--oidc-issuer", issuer),
        (None, Some(issuer)) => parse_url("OIDC URL", issuer),
        (None, None) => parse_url("OIDC URL", PUBLIC_GOOD_OIDC),
    }
}

/// The Rekor API versions cosign-rs writes to, and the CA and TSA versions.
const REKOR_VERSIONS: [u32; 2] = [1, 2];
const CA_VERSIONS: [u32; 1] = [1];
const TSA_VERSIONS: [u32; 1] = [1];
const OIDC_VERSIONS: [u32; 1] = [1];

/// The services one keyless run signs with.
#[derive(Debug, Clone)]
pub struct Services {
    pub certificate_authority: url::Url,
    /// The OIDC provider of the interactive flows: `--oidc-issuer`, else the signing config's,
    /// else public-good Sigstore's.
    pub oidc_issuer: url::Url,
    pub logs: Vec<Log>,
    pub timestamp_authorities: Vec<url::Url>,
    /// Whether these are public-good Sigstore's by default (nothing named them), which need
    /// the network.
    pub public_good: bool,
}

fn parse_url(what: &str, text: &str) -> Result<url::Url, CliError> {
    url::Url::parse(text).map_err(|error| CliError::usage(format!("{what} {text:?}: {error}")))
}

/// The services, as cosign 3.1 chooses them: from the signing config (`--signing-config`, else
/// the TUF repository's `signing_config.v0.2.json` once `cosign initialize` set one up, else
/// the embedded public-good one), or with `--use-signing-config=false` from the deprecated URL
/// flags.
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
        let (source, bytes) = match &args.signing_config {
            Some(path) => (
                path.display().to_string(),
                read_limited_to(path, SIGNING_CONFIG_SIZE_LIMIT as u64)?,
            ),
            None => match crate::tuf::target(cosign_services::tuf::SIGNING_CONFIG_TARGET)? {
                Some(bytes) => ("signing_config.v0.2.json from TUF".to_owned(), bytes),
                None => (
                    "the public-good signing config".to_owned(),
                    signing_config::PUBLIC_GOOD.to_vec(),
                ),
            },
        };
        let public_good = bytes == signing_config::PUBLIC_GOOD;
        let config = SigningConfig::parse(&bytes)
            .map_err(|error| CliError::new(format!("{source}: {error}")))?;
        let invalid = |error: cosign_core::keyless::signing_config::SigningConfigError| {
            CliError::new(format!("{source}: {error}"))
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
                "{source}: a timestamp authority must be provided: keyless signing with a signing config needs one to prove the signing time"
            )));
        }
        let configured_issuer = select_service("OIDC", &config.oidc_providers, &OIDC_VERSIONS, now)
            .ok()
            .map(|service| service.url.clone());
        return Ok(Services {
            certificate_authority: parse_url("CA URL", &ca.url)?,
            oidc_issuer: oidc_issuer(args, configured_issuer.as_deref())?,
            logs,
            timestamp_authorities,
            public_good,
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
        oidc_issuer: oidc_issuer(args, None)?,
        certificate_authority: parse_url(
            "--fulcio-url",
            args.fulcio_url.as_deref().unwrap_or(PUBLIC_GOOD_FULCIO),
        )?,
        logs,
        timestamp_authorities,
        public_good: args.fulcio_url.is_none() && args.rekor_url.is_none(),
    })
}

/// What to do when public-good Sigstore, used because nothing named other services, cannot be
/// reached.
fn offline_hint(error: CliError) -> CliError {
    if !error.message.contains("cannot be reached") {
        return error;
    }
    error.with_hint(
        "keyless signing without --signing-config uses public-good Sigstore, which needs the network: name your own services with --signing-config FILE --trusted-root FILE (or set them up with `cosign initialize --mirror URL --root FILE`), or sign with a key offline: --key cosign.key --tlog-upload=false --use-signing-config=false",
    )
}

/// The token file cosign's `filesystem` provider reads.
const FILESYSTEM_TOKEN: &str = "/var/run/sigstore/cosign/oidc-token";

/// The identity token, from where cosign looks, in its order: `--identity-token` (a JWT, or
/// else the path of a file holding one); the ambient providers unless
/// `--oidc-disable-ambient-providers` (`SIGSTORE_ID_TOKEN`, GitHub Actions'
/// `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`, the filesystem provider's file; only
/// `--oidc-provider` when given); then an interactive flow with the OIDC provider
/// (`--fulcio-auth-flow`).
pub async fn identity_token(
    args: &SigningServicesArgs,
    issuer: &url::Url,
    client: &reqwest::Client,
    confirmed: bool,
) -> Result<IdentityToken, CliError> {
    let (raw, nonce) = match &args.identity_token {
        Some(value) => (token_value_or_file(value)?, None),
        None => match ambient_token(args, client).await? {
            Some(raw) => (raw, None),
            None => interactive_token(args, issuer, client, confirmed).await?,
        },
    };
    let token = IdentityToken::parse(&raw).map_err(|error| CliError::new(error.to_string()))?;
    if let Some(nonce) = nonce {
        if token.claims().nonce.as_deref() != Some(nonce.as_str()) {
            return Err(CliError::new(
                "the identity token from the OIDC provider does not carry the nonce this login asked for: refused",
            ));
        }
    }
    token
        .check_audience(&args.oidc_client_id)
        .map_err(|error| CliError::new(error.to_string()))?;
    token
        .check_expiry(UnixTime::from_seconds(crate::trust::now()))
        .map_err(|error| CliError::new(error.to_string()))?;
    Ok(token)
}

/// `--identity-token`: the token itself when it reads as a JWT and names no file, else the
/// file's contents (surrounding whitespace trimmed).
fn token_value_or_file(value: &str) -> Result<String, CliError> {
    if is_rs256_token(value) || !Path::new(value).exists() && value.matches('.').count() == 2 {
        return Ok(value.to_owned());
    }
    let bytes = read_limited_to(
        Path::new(value),
        cosign_core::keyless::identity_token::TOKEN_SIZE_LIMIT as u64,
    )?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// The ambient providers cosign-rs has, in the order cosign tries them.
pub const AMBIENT_PROVIDERS: [&str; 4] =
    ["github-actions", "buildkite-agent", "envvar", "filesystem"];

/// cosign's ambient providers that need a cloud SDK or a workload API cosign-rs does not have.
pub const UNSUPPORTED_PROVIDERS: [&str; 3] =
    ["spiffe", "google-workload-identity", "google-impersonate"];

fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Whether an ambient provider finds what it needs in this environment (cosign's `Enabled`).
pub fn provider_enabled(provider: &str) -> bool {
    match provider {
        "github-actions" => {
            variable("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
                && variable("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some()
        }
        "buildkite-agent" => variable("BUILDKITE_AGENT_ACCESS_TOKEN").is_some(),
        "envvar" => variable("SIGSTORE_ID_TOKEN").is_some(),
        "filesystem" => Path::new(FILESYSTEM_TOKEN).exists(),
        _ => false,
    }
}

/// A token from the environment the command runs in, if any.
async fn ambient_token(
    args: &SigningServicesArgs,
    client: &reqwest::Client,
) -> Result<Option<String>, CliError> {
    if args.oidc_disable_ambient_providers {
        return Ok(None);
    }
    let providers: Vec<&str> = match args.oidc_provider.as_deref() {
        None => AMBIENT_PROVIDERS.to_vec(),
        Some(name) if AMBIENT_PROVIDERS.contains(&name) => vec![name],
        Some(name) if UNSUPPORTED_PROVIDERS.contains(&name) || name == "google" => {
            return Err(CliError::not_supported(
                &format!("the {name} OIDC provider"),
                "pass --identity-token, set SIGSTORE_ID_TOKEN, or use --oidc-provider github-actions or buildkite-agent",
            ))
        }
        Some(other) => {
            return Err(CliError::usage(format!(
                "--oidc-provider {other:?}: not a provider ({})",
                AMBIENT_PROVIDERS.join(", ")
            )))
        }
    };
    for provider in providers {
        if !provider_enabled(provider) {
            continue;
        }
        let token = match provider {
            "envvar" => variable("SIGSTORE_ID_TOKEN"),
            "github-actions" => Some(
                cosign_services::github_actions::identity_token(
                    client,
                    &variable("ACTIONS_ID_TOKEN_REQUEST_URL").unwrap_or_default(),
                    &variable("ACTIONS_ID_TOKEN_REQUEST_TOKEN").unwrap_or_default(),
                    &args.oidc_client_id,
                )
                .await
                .map_err(|error| {
                    CliError::new(format!(
                        "getting the GitHub Actions identity token: {error}"
                    ))
                })?,
            ),
            "buildkite-agent" => Some(
                cosign_services::buildkite::identity_token(
                    client,
                    &variable("BUILDKITE_AGENT_ENDPOINT")
                        .unwrap_or_else(|| cosign_services::buildkite::DEFAULT_ENDPOINT.to_owned()),
                    &variable("BUILDKITE_AGENT_ACCESS_TOKEN").unwrap_or_default(),
                    &variable("BUILDKITE_JOB_ID").unwrap_or_default(),
                    &args.oidc_client_id,
                )
                .await
                .map_err(|error| {
                    CliError::new(format!(
                        "getting the Buildkite job's identity token: {error}"
                    ))
                })?,
            ),
            _ => Some(token_value_or_file(FILESYSTEM_TOKEN)?),
        };
        if token.is_some() {
            return Ok(token);
        }
    }
    Ok(None)
}

/// How long a browser login may take.
const BROWSER_LOGIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The most of a request to the loopback redirect read.
const CALLBACK_REQUEST_LIMIT: usize = 8 * 1024;

/// A token from the OIDC provider, by the browser flow (authorization code with PKCE, the
/// code brought back to a loopback listener) or the device flow; with the nonce it must carry
/// (the browser flow's).
async fn interactive_token(
    args: &SigningServicesArgs,
    issuer: &url::Url,
    http: &reqwest::Client,
    confirmed: bool,
) -> Result<(String, Option<String>), CliError> {
    let browser = match args.fulcio_auth_flow.as_deref() {
        Some("normal") => true,
        Some("device") => false,
        // As cosign: on a terminal, the browser, after the privacy statement's question.
        None if rustix::termios::isatty(std::io::stdin()) => {
            confirm_public_record(confirmed)?;
            true
        }
        None => false,
        Some("token") => {
            return Err(CliError::new(
                "keyless signing needs an identity token, and none was given (--fulcio-auth-flow token)",
            )
            .with_hint(
                "pass --identity-token TOKEN (or a file holding it), set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `id-token: write`",
            ))
        }
        Some("client_credentials") => {
            return Err(CliError::not_supported(
                "--fulcio-auth-flow client_credentials",
                "use --fulcio-auth-flow normal or device, or pass --identity-token",
            ))
        }
        Some(other) => {
            return Err(CliError::usage(format!(
                "--fulcio-auth-flow {other:?}: one of normal, device, token, client_credentials"
            )))
        }
    };
    let client = cosign_services::oidc::Client {
        id: args.oidc_client_id.clone(),
        secret: match &args.oidc_client_secret_file {
            Some(path) => Some(
                String::from_utf8_lossy(&read_limited_to(path, 64 * 1024)?)
                    .trim()
                    .to_owned(),
            ),
            None => None,
        },
    };
    let failed = |error: cosign_services::oidc::OidcError| {
        CliError::new(format!("getting an identity token from {issuer}: {error}"))
    };
    let provider = cosign_services::oidc::discover(http, issuer)
        .await
        .map_err(failed)?;
    if !browser {
        let device = cosign_services::oidc::start_device_flow(http, &provider, &client)
            .await
            .map_err(failed)?;
        let uri = device
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&device.verification_uri);
        console::info(format_args!(
            "Enter the verification code {} in your browser at: {uri}\nCode will be valid for {} seconds",
            device.user_code,
            device.expires_in.as_secs()
        ));
        let raw = cosign_services::oidc::finish_device_flow(http, &provider, &client, &device)
            .await
            .map_err(failed)?;
        // The device flow asks for no nonce: there is none to match.
        return Ok((raw, None));
    }
    let redirect = args
        .oidc_redirect_url
        .as_deref()
        .unwrap_or("http://localhost:0/auth/callback");
    let mut redirect = parse_url("--oidc-redirect-url", redirect)?;
    if !matches!(
        redirect.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    ) || redirect.scheme() != "http"
    {
        return Err(CliError::usage(format!(
            "--oidc-redirect-url {redirect}: the browser flow listens on loopback: give an http://localhost or http://127.0.0.1 URL"
        )));
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", redirect.port().unwrap_or(0)))
        .await
        .map_err(|error| CliError::new(format!("listening for the login's redirect: {error}")))?;
    let port = listener
        .local_addr()
        .map_err(|error| CliError::new(format!("listening for the login's redirect: {error}")))?
        .port();
    let _ = redirect.set_port(Some(port));
    let state = cosign_core::keyless::oidc::random_token(&mut rand_core::OsRng);
    let nonce = cosign_core::keyless::oidc::random_token(&mut rand_core::OsRng);
    let pkce = cosign_core::keyless::oidc::Pkce::new(&mut rand_core::OsRng);
    let url = cosign_services::oidc::authorization_url(
        &provider,
        &client,
        redirect.as_str(),
        &state,
        &nonce,
        &pkce.challenge,
    )
    .map_err(failed)?;
    console::info(format_args!("Your browser will now be opened to:\n{url}"));
    open_browser(url.as_str());
    let code = tokio::time::timeout(
        BROWSER_LOGIN_LIMIT,
        wait_for_code(&listener, redirect.path(), &state),
    )
    .await
    .map_err(|_| {
        CliError::new(format!(
            "the browser login did not come back within {} seconds",
            BROWSER_LOGIN_LIMIT.as_secs()
        ))
    })??;
    let raw = cosign_services::oidc::exchange_code(
        http,
        &provider,
        &client,
        &code,
        redirect.as_str(),
        &pkce.verifier,
    )
    .await
    .map_err(failed)?;
    Ok((raw, Some(nonce)))
}

/// Opens `url` in the user's browser (`$BROWSER`, else `xdg-open`); the URL is printed anyway.
fn open_browser(url: &str) {
    let program = std::env::var("BROWSER")
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "xdg-open".to_owned());
    let _ = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Serves the loopback redirect until the provider's answer for this login (`state`)
/// arrives: its code, or its error. Other requests (another path, another state, garbage)
/// are answered and ignored; each is read with a cap and a time limit.
async fn wait_for_code(
    listener: &tokio::net::TcpListener,
    path: &str,
    state: &str,
) -> Result<String, CliError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let mut request = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n")
                && request.len() < CALLBACK_REQUEST_LIMIT
            {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(count) => request.extend_from_slice(buffer.get(..count).unwrap_or_default()),
                }
            }
        })
        .await;
        let line = String::from_utf8_lossy(&request);
        let target = line
            .lines()
            .next()
            .and_then(|first| first.strip_prefix("GET "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default()
            .to_owned();
        let parsed = url::Url::parse(&format!("http://localhost{target}")).ok();
        let answer = |status: &str, text: &str| {
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            )
        };
        let Some(parsed) = parsed.filter(|parsed| read.is_ok() && parsed.path() == path) else {
            let _ = stream
                .write_all(answer("404 Not Found", "not found").as_bytes())
                .await;
            continue;
        };
        let query: std::collections::HashMap<String, String> =
            parsed.query_pairs().into_owned().collect();
        if query.get("state").map(String::as_str) != Some(state) {
            let _ = stream
                .write_all(answer("400 Bad Request", "not this login").as_bytes())
                .await;
            continue;
        }
        if let Some(error) = query.get("error") {
            let _ = stream
                .write_all(
                    answer("200 OK", "The login failed: you may close this page.").as_bytes(),
                )
                .await;
            return Err(CliError::new(format!(
                "the OIDC provider refused the login: {error}{}",
                query
                    .get("error_description")
                    .map(|description| format!(" ({description})"))
                    .unwrap_or_default()
            )));
        }
        if let Some(code) = query.get("code") {
            let _ = stream
                .write_all(
                    answer(
                        "200 OK",
                        "Sigstore auth successful. You may now close this page.",
                    )
                    .as_bytes(),
                )
                .await;
            return Ok(code.clone());
        }
        let _ = stream
            .write_all(answer("400 Bad Request", "no code").as_bytes())
            .await;
    }
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
    /// Gets the token, generates the key (or takes `key`: cosign's `--issue-certificate` with
    /// `--key`), asks for and verifies its certificate.
    pub async fn start(
        args: &SigningServicesArgs,
        use_signing_config: bool,
        tlog_upload: bool,
        key: Option<PrivateKey>,
        confirmed: bool,
    ) -> Result<Self, CliError> {
        let now = crate::trust::now();
        if use_signing_config && args.signing_config.is_none() && args.trusted_root.is_none() {
            // Both from TUF (once `cosign initialize` set it up): one update, not two.
            crate::tuf::prefetch(&[
                cosign_services::tuf::SIGNING_CONFIG_TARGET,
                cosign_services::tuf::TRUSTED_ROOT_TARGET,
            ])?;
        }
        let services = services(args, use_signing_config, tlog_upload, now)?;
        let root = crate::trust::trusted_root(
            args.trusted_root
                .as_ref()
                .map(|path| path.to_string_lossy().into_owned())
                .as_deref(),
        )?;
        let client = cosign_services::client(SERVICE_TIMEOUT)
            .map_err(|error| CliError::new(format!("starting the HTTP client: {error}")))?;
        let public_good = services.public_good;
        let hint = |error: CliError| {
            if public_good {
                offline_hint(error)
            } else {
                error
            }
        };
        // As cosign 3.1: asked when the services come from the flags (--use-signing-config=false)
        // and a log is written; a signing config is taken as agreed.
        if !use_signing_config && !services.logs.is_empty() {
            confirm_public_record(confirmed)?;
        }
        let token = identity_token(args, &services.oidc_issuer, &client, confirmed)
            .await
            .map_err(hint)?;
        let key = match key {
            Some(key) if !key.signs_sha256_digests() => {
                return Err(CliError::not_supported(
                    &format!("--issue-certificate with a {} key", key.key_type()),
                    "certify an ECDSA P-256 key, or sign keyless (an ephemeral P-256 key)",
                ))
            }
            Some(key) => key,
            None => {
                console::info("Generating ephemeral keys...");
                PrivateKey::generate_ecdsa_p256(&mut rand_core::OsRng)
            }
        };
        console::info("Retrieving signed certificate...");
        let chain = cosign_services::fulcio::signing_certificate(
            &client,
            &services.certificate_authority,
            &token,
            &key,
            &root,
            if args.insecure_skip_verify {
                cosign_core::trust::certificate::SctRequirement::InsecureIgnore
            } else {
                cosign_core::trust::certificate::SctRequirement::Embedded
            },
        )
        .await
        .map_err(|error| {
            hint(
                CliError::new(format!("getting a signing certificate: {error}")).with_hint(
                    "check that the identity token is current and issued for `sigstore`, and that --trusted-root trusts this Fulcio",
                ),
            )
        })?;
        if let Some(identity) = chain.leaf.subject_alternative_names().first() {
            if args.insecure_skip_verify {
                console::warn("--insecure-skip-verify: the certificate's SCT was not checked");
                console::info(format_args!("signing certificate issued for {identity}"));
            } else {
                console::info(format_args!(
                    "Successfully verified SCT...\nsigning certificate issued for {identity}"
                ));
            }
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

/// cosign's privacy statement: what goes in a transparency log stays there.
const PRIVACY_STATEMENT: &str = "
\tThe sigstore service, hosted by sigstore a Series of LF Projects, LLC, is provided pursuant to the Hosted Project Tools Terms of Use, available at https://lfprojects.org/policies/hosted-project-tools-terms-of-use/.
\tNote that if your submission includes personal data associated with this signed artifact, it will be part of an immutable record.
\tThis may include the email address associated with the account with which you authenticate your contractual Agreement.
\tThis information will be used for signing this artifact and will be stored in public transparency logs and cannot be removed later, and is subject to the Immutable Record notice at https://lfprojects.org/policies/hosted-project-tools-immutable-records/.
";

const PRIVACY_CONFIRMATION: &str = "By typing 'y', you attest that (1) you are not submitting the personal data of any other person; and (2) you understand and agree to the statement and the Agreement terms at the URLs listed above.";

/// Before the identity goes in a transparency log: cosign's statement, and its `[y/N]` question
/// on standard input unless `-y` (`confirmed`); anything but `y` stops here, as in cosign
/// (an empty or closed input is a no). Once per process.
fn confirm_public_record(confirmed: bool) -> Result<(), CliError> {
    static ASKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ASKED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Ok(());
    }
    console::info(PRIVACY_STATEMENT);
    console::info(PRIVACY_CONFIRMATION);
    if confirmed {
        return Ok(());
    }
    console::info_partial("Are you sure you would like to continue? [y/N] ");
    // One short line: a longer input is not an answer, and is not read on.
    let mut answer = String::new();
    std::io::BufRead::read_line(
        &mut std::io::Read::take(std::io::stdin().lock(), 1024),
        &mut answer,
    )
    .map_err(|error| CliError::new(format!("reading the answer: {error}")))?;
    match answer
        .trim_end_matches(['\r', '\n'])
        .to_ascii_lowercase()
        .as_str()
    {
        "y" => Ok(()),
        "" | "n" => Err(CliError::new("user declined the prompt")
            .with_hint("pass -y (--yes) to agree without being asked")),
        other => Err(CliError::new(format!(
            "invalid input {other:?} (allowed values [y, n])"
        ))),
    }
}
