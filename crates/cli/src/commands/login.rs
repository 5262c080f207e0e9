//! `cosign login`: stores a registry's credentials where docker, crane, skopeo, oras and cosign
//! read them, as cosign does (it is crane's `auth login`): `$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`, or the credential helper that file names (`credsStore`,
//! `credHelpers`). The registry is not contacted.
//!
//! Unlike cosign, keys of the file it does not know are kept (cosign drops them).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::args::LoginArgs;
use crate::console;
use crate::error::{io_error, CliError};

/// The largest config file or password read.
const INPUT_LIMIT: u64 = 4 * 1024 * 1024;

pub fn run(args: &LoginArgs) -> Result<(), CliError> {
    let server = registry_key(&args.server)?;
    let password = match (&args.password, args.password_stdin) {
        (_, true) => Some(password_from_stdin()?),
        (password, false) => password.clone(),
    };
    let (Some(username), Some(password)) = (args.username.clone(), password) else {
        return Err(CliError::usage("username and password required"));
    };
    let path = config_path()?;
    let mut config = read_config(&path)?;
    if let Some(helper) = helper_for(&config, &server) {
        store_with_helper(&helper, &server, &username, &password)?;
        console::info(format_args!("logged in via {}", path.display()));
        return Ok(());
    }
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let auths = config
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    let changed;
    {
        let entries = auths
            .as_object_mut()
            .ok_or_else(|| CliError::new("internal: auths"))?;
        let entry = entries
            .entry(server.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let fields = entry
            .as_object_mut()
            .ok_or_else(|| CliError::new("internal: entry"))?;
        changed = fields.get("auth").and_then(Value::as_str) != Some(auth.as_str());
        fields.insert("auth".to_owned(), Value::String(auth));
        for plain in ["username", "password"] {
            fields.remove(plain);
        }
    }
    write_config(&path, &config)?;
    if changed && !password.is_empty() {
        console::info(format_args!(
            "\nWARNING! Your credentials are stored unencrypted in '{}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n",
            path.display()
        ));
    }
    console::info(format_args!("logged in via {}", path.display()));
    Ok(())
}

/// The key a registry has in `auths`: its host[:port], checked as go-containerregistry checks
/// registry names; Docker Hub under the key docker itself uses.
fn registry_key(server: &str) -> Result<String, CliError> {
    let valid = !server.is_empty()
        && !server.contains("://")
        && !server.contains('/')
        && server.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        });
    if !valid {
        return Err(CliError::usage(format!(
            "registries must be valid RFC 3986 URI authorities: {server}"
        )));
    }
    Ok(match server {
        "docker.io" | "index.docker.io" => "https://index.docker.io/v1/".to_owned(),
        other => other.to_owned(),
    })
}

/// All of standard input, less one trailing `\n` and then one `\r`, as crane reads it.
fn password_from_stdin() -> Result<String, CliError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(INPUT_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|error| CliError::new(format!("reading the password from stdin: {error}")))?;
    let mut password = String::from_utf8(bytes)
        .map_err(|_| CliError::new("the password on stdin is not UTF-8"))?;
    if password.ends_with('\n') {
        password.pop();
    }
    if password.ends_with('\r') {
        password.pop();
    }
    Ok(password)
}

fn config_path() -> Result<PathBuf, CliError> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Ok(Path::new(&dir).join("config.json"));
    }
    let home = std::env::var_os("HOME")
        .ok_or_else(|| CliError::new("neither DOCKER_CONFIG nor HOME is set"))?;
    Ok(Path::new(&home).join(".docker").join("config.json"))
}

fn read_config(path: &Path) -> Result<Map<String, Value>, CliError> {
    let bytes = match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(error) => return Err(io_error("stat", path, &error)),
        Ok(_) => crate::key_files::read_limited_to(path, INPUT_LIMIT)?,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        CliError::new(format!("parsing config file ({}): {error}", path.display()))
    })
}

/// Writes the config with docker's layout (tab indentation, no trailing newline), mode 0600,
/// through a temporary file renamed into place.
fn write_config(path: &Path, config: &Map<String, Value>) -> Result<(), CliError> {
    use serde::Serialize as _;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| io_error("mkdir", dir, &error))?;
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    config
        .serialize(&mut serializer)
        .map_err(|error| CliError::new(format!("writing {}: {error}", path.display())))?;
    let temporary = dir.join(format!(".config.json.{}", std::process::id()));
    crate::key_files::write_file(&temporary, &bytes, 0o600)?;
    std::fs::rename(&temporary, path).map_err(|error| io_error("rename", path, &error))
}

use std::os::unix::fs::DirBuilderExt as _;

/// The credential helper the config names for `server`, if any.
fn helper_for(config: &Map<String, Value>, server: &str) -> Option<String> {
    config
        .get("credHelpers")
        .and_then(|helpers| helpers.get(server))
        .or_else(|| config.get("credsStore"))
        .and_then(Value::as_str)
        .filter(|helper| !helper.is_empty())
        .map(str::to_owned)
}

/// `docker-credential-<helper> store` with `{"ServerURL","Username","Secret"}` on stdin.
fn store_with_helper(
    helper: &str,
    server: &str,
    username: &str,
    password: &str,
) -> Result<(), CliError> {
    use std::io::Write as _;
    let program = format!("docker-credential-{helper}");
    let request =
        serde_json::json!({"ServerURL": server, "Username": username, "Secret": password});
    let failed =
        |reason: String| CliError::new(format!("error storing credentials - err: {reason}"));
    let mut child = std::process::Command::new(&program)
        .arg("store")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|error| failed(format!("exec: {program:?}: {error}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(request.to_string().as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|error| failed(error.to_string()))?;
    if !output.status.success() {
        return Err(failed(format!(
            "{}, out: `{}`",
            output.status,
            String::from_utf8_lossy(&output.stdout).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_host_and_port_and_docker_hub_is_its_own_key() {
        assert_eq!(
            registry_key("127.0.0.1:5000").ok().as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            registry_key("docker.io").ok().as_deref(),
            Some("https://index.docker.io/v1/")
        );
        for bad in ["https://host/v2/", "host/path", "", "a b"] {
            assert!(registry_key(bad).is_err(), "{bad}");
        }
    }
}
