//! Registry authentication: credentials from flags, docker's `config.json` (`auths`,
//! `credsStore`, `credHelpers` through the `docker-credential-*` protocol) and podman's
//! `auth.json`; `WWW-Authenticate` challenges; bearer tokens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// What to present to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (or access token used as password).
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged for bearer tokens.
    IdentityToken { username: String, token: String },
    /// A bearer token used as is (`--registry-token`).
    RegistryToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Self::IdentityToken { username, .. } => {
                write!(f, "IdentityToken({username}, <redacted>)")
            }
            Self::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

/// Where credentials come from, looked up per registry host.
pub trait CredentialSource: Send + Sync + std::fmt::Debug {
    fn credentials(&self, registry: &str) -> Option<Credentials>;
}

/// No credentials at all.
#[derive(Debug, Default)]
pub struct Anonymous;

impl CredentialSource for Anonymous {
    fn credentials(&self, _registry: &str) -> Option<Credentials> {
        None
    }
}

/// The same credentials for every registry (`--registry-username/--registry-password` or
/// `--registry-token`), then the fallback for anything they do not cover.
#[derive(Debug)]
pub struct Layered {
    pub first: Option<Credentials>,
    pub fallback: Box<dyn CredentialSource>,
}

impl CredentialSource for Layered {
    fn credentials(&self, registry: &str) -> Option<Credentials> {
        self.first
            .clone()
            .or_else(|| self.fallback.credentials(registry))
    }
}

/// The docker/podman credential files, as docker and go-containerregistry's default keychain
/// read them: `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`), then
/// `$REGISTRY_AUTH_FILE`, then `$XDG_RUNTIME_DIR/containers/auth.json`.
#[derive(Debug, Default)]
pub struct DockerConfigKeychain {
    files: Vec<ConfigFile>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(rename = "identitytoken", default)]
    identity_token: Option<String>,
    #[serde(rename = "registrytoken", default)]
    registry_token: Option<String>,
}

/// The largest credential file we read.
const CONFIG_SIZE_LIMIT: u64 = 4 * 1024 * 1024;

impl DockerConfigKeychain {
    /// Reads the files from their standard places, given the environment.
    pub fn from_environment(environment: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut paths: Vec<PathBuf> = Vec::new();
        match environment("DOCKER_CONFIG") {
            Some(dir) => paths.push(Path::new(&dir).join("config.json")),
            None => {
                if let Some(home) = environment("HOME") {
                    paths.push(Path::new(&home).join(".docker").join("config.json"));
                }
            }
        }
        if let Some(file) = environment("REGISTRY_AUTH_FILE") {
            paths.push(PathBuf::from(file));
        }
        if let Some(runtime) = environment("XDG_RUNTIME_DIR") {
            paths.push(Path::new(&runtime).join("containers").join("auth.json"));
        }
        Self {
            files: paths.iter().filter_map(|path| read_config(path)).collect(),
        }
    }

    /// A keychain from one config document (tests).
    pub fn from_json(json: &[u8]) -> Option<Self> {
        Some(Self {
            files: vec![serde_json::from_slice(json).ok()?],
        })
    }
}

fn read_config(path: &Path) -> Option<ConfigFile> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(CONFIG_SIZE_LIMIT)
        .read_to_end(&mut bytes)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The keys a registry may appear under in `auths` (docker writes Docker Hub as
/// `https://index.docker.io/v1/`, others as a bare host or a URL).
fn normalize_auth_key(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    if host == "docker.io" || host == "registry-1.docker.io" {
        "index.docker.io"
    } else {
        host
    }
}

impl CredentialSource for DockerConfigKeychain {
    fn credentials(&self, registry: &str) -> Option<Credentials> {
        let helper_key = if registry == "index.docker.io" {
            "https://index.docker.io/v1/"
        } else {
            registry
        };
        for file in &self.files {
            if let Some(helper) = file
                .cred_helpers
                .iter()
                .find(|(key, _)| normalize_auth_key(key) == registry)
                .map(|(_, helper)| helper)
            {
                return run_credential_helper(helper, helper_key);
            }
            if let Some(entry) = file
                .auths
                .iter()
                .find(|(key, _)| normalize_auth_key(key) == registry)
                .map(|(_, entry)| entry)
            {
                if let Some(credentials) = entry_credentials(entry) {
                    return Some(credentials);
                }
            }
            if let Some(store) = &file.creds_store {
                if let Some(credentials) = run_credential_helper(store, helper_key) {
                    return Some(credentials);
                }
            }
        }
        None
    }
}

fn entry_credentials(entry: &AuthEntry) -> Option<Credentials> {
    if let Some(token) = entry.registry_token.as_ref().filter(|t| !t.is_empty()) {
        return Some(Credentials::RegistryToken(token.clone()));
    }
    let (username, password) = match (&entry.auth, &entry.username, &entry.password) {
        (Some(auth), _, _) if !auth.is_empty() => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, pass) = text.split_once(':')?;
            (user.to_owned(), pass.to_owned())
        }
        (_, Some(user), Some(pass)) => (user.clone(), pass.clone()),
        _ => (String::new(), String::new()),
    };
    if let Some(token) = entry.identity_token.as_ref().filter(|t| !t.is_empty()) {
        return Some(Credentials::IdentityToken {
            username,
            token: token.clone(),
        });
    }
    (!username.is_empty() || !password.is_empty())
        .then_some(Credentials::Basic { username, password })
}

/// Runs `docker-credential-<helper> get` with the server on stdin, as docker does; reads
/// `{"Username": ..., "Secret": ...}`. A user name `<token>` means the secret is an identity
/// token.
fn run_credential_helper(helper: &str, server: &str) -> Option<Credentials> {
    use std::io::{Read as _, Write as _};
    use std::process::{Command, Stdio};
    if helper.is_empty() || helper.contains('/') {
        return None;
    }
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut output = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = stdout.take(1024 * 1024).read_to_end(&mut output);
    }
    let status = child.wait().ok()?;
    if !status.success() {
        return None;
    }
    #[derive(Deserialize)]
    struct HelperOutput {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let parsed: HelperOutput = serde_json::from_slice(&output).ok()?;
    if parsed.username == "<token>" {
        return Some(Credentials::IdentityToken {
            username: String::new(),
            token: parsed.secret,
        });
    }
    Some(Credentials::Basic {
        username: parsed.username,
        password: parsed.secret,
    })
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// Parses the first challenge we can answer from a `WWW-Authenticate` value.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, parameters) = header
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((header.trim(), ""));
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => {
            let parameters = parse_parameters(parameters);
            Some(Challenge::Bearer {
                realm: parameters.get("realm")?.clone(),
                service: parameters.get("service").cloned(),
            })
        }
        _ => None,
    }
}

fn parse_parameters(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            break;
        };
        let name = name
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (
                    quoted.get(..end).unwrap_or_default(),
                    quoted.get(end + 1..).unwrap_or_default(),
                ),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (
                    after.get(..end).unwrap_or_default(),
                    after.get(end..).unwrap_or_default(),
                ),
                None => (after, ""),
            }
        };
        out.insert(name, value.to_owned());
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

/// The token endpoint's answer.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".to_owned(),
                service: Some("registry.example".to_owned())
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
    }

    #[test]
    fn reads_podman_auth_files_after_docker_config() {
        let dir = std::env::temp_dir().join(format!("cosign-rs-auth-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("containers")).expect("mkdir");
        std::fs::write(
            dir.join("auth.json"),
            r#"{"auths":{"quay.io":{"auth":"cG9kOm1hbg=="}}}"#,
        )
        .expect("write");
        std::fs::write(
            dir.join("containers/auth.json"),
            r#"{"auths":{"ghcr.io":{"auth":"cnVuOnRpbWU="}}}"#,
        )
        .expect("write");
        let auth_file = dir.join("auth.json").display().to_string();
        let runtime = dir.display().to_string();
        let keychain = DockerConfigKeychain::from_environment(&|name| match name {
            "REGISTRY_AUTH_FILE" => Some(auth_file.clone()),
            "XDG_RUNTIME_DIR" => Some(runtime.clone()),
            _ => None,
        });
        assert_eq!(
            keychain.credentials("quay.io"),
            Some(Credentials::Basic {
                username: "pod".to_owned(),
                password: "man".to_owned()
            })
        );
        assert_eq!(
            keychain.credentials("ghcr.io"),
            Some(Credentials::Basic {
                username: "run".to_owned(),
                password: "time".to_owned()
            })
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_docker_config_auths() {
        let keychain = DockerConfigKeychain::from_json(
            br#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},"localhost:5000":{"username":"u","password":"p"},"ghcr.io":{"auth":"","identitytoken":"refresh"}}}"#,
        )
        .expect("parses");
        assert_eq!(
            keychain.credentials("index.docker.io"),
            Some(Credentials::Basic {
                username: "user".to_owned(),
                password: "pass".to_owned()
            })
        );
        assert_eq!(
            keychain.credentials("localhost:5000"),
            Some(Credentials::Basic {
                username: "u".to_owned(),
                password: "p".to_owned()
            })
        );
        assert!(matches!(
            keychain.credentials("ghcr.io"),
            Some(Credentials::IdentityToken { .. })
        ));
        assert_eq!(keychain.credentials("quay.io"), None);
        assert_eq!(
            format!("{:?}", keychain.credentials("localhost:5000")),
            "Some(Basic(u, <redacted>))"
        );
    }
}
