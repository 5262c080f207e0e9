//! `cosign registry serve`: the embedded OCI registry, for labs and tests with nothing else
//! installed. Serves until interrupted (Ctrl-C or SIGTERM).

use std::net::SocketAddr;

use cosign_registry::{BasicAuth, Htpasswd, Registry, RegistryConfig, Storage};

use crate::args::RegistryServeArgs;
use crate::console;
use crate::error::CliError;
use crate::settings::GlobalSettings;

pub fn run(args: &RegistryServeArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let (listener, address) =
            crate::serving::listen(&args.address, |address| check_exposure(args, address)).await?;
        let auth = match &args.htpasswd {
            Some(path) => Some(BasicAuth::new(
                Htpasswd::load(path).map_err(|error| CliError::new(error.to_string()))?,
            )),
            None => None,
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(certificate), Some(key)) => {
                Some(cosign_registry::tls_config(certificate, key).map_err(CliError::new)?)
            }
            _ => None,
        };
        let storage = match &args.storage {
            Some(dir) => Storage::in_directory(dir),
            None => Storage::temporary(),
        }
        .map_err(|error| CliError::new(format!("opening the registry's storage: {error}")))?;
        console::info(format_args!(
            "serving an OCI registry on {}://{address} ({}{})",
            if tls.is_some() { "https" } else { "http" },
            args.storage.as_ref().map_or_else(
                || format!("temporary storage in {}", storage.root().display()),
                |dir| format!("storage in {}", dir.display())
            ),
            if auth.is_some() { ", basic auth" } else { "" },
        ));
        let mut config = RegistryConfig::new(storage);
        config.verbose = settings.verbose;
        config.auth = auth;
        let timeout = std::time::Duration::from_secs(args.client_timeout);
        config.connections.header_read = timeout;
        config.connections.body_idle = timeout;
        config.connections.idle = timeout * 2;
        let registry = Registry::new(config);
        cosign_registry::serve(listener, registry, tls, crate::serving::shutdown_signal())
            .await
            .map_err(|error| CliError::new(format!("serving: {error}")))
    })
}

/// Beyond loopback, a registry without auth lets anyone push and delete, and basic auth over
/// plain HTTP sends passwords in clear: both are refused unless asked for by name.
fn check_exposure(args: &RegistryServeArgs, address: SocketAddr) -> Result<(), CliError> {
    if address.ip().is_loopback() {
        return Ok(());
    }
    if args.htpasswd.is_none() && !args.insecure_no_auth {
        return Err(CliError::new(format!(
            "refusing to serve {address} without authentication: anyone who can reach it could push, overwrite and delete images and signatures"
        ))
        .with_hint(
            "give --htpasswd FILE (with --tls-cert/--tls-key), listen on 127.0.0.1, or pass --insecure-no-auth if that is really what you want",
        ));
    }
    if args.htpasswd.is_some() && args.tls_cert.is_none() {
        return Err(CliError::new(format!(
            "refusing basic auth over plain HTTP on {address}: passwords would cross the network in clear"
        ))
        .with_hint("give --tls-cert and --tls-key, or listen on 127.0.0.1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(htpasswd: bool, tls: bool, insecure_no_auth: bool) -> RegistryServeArgs {
        RegistryServeArgs {
            address: String::new(),
            storage: None,
            htpasswd: htpasswd.then(|| "htpasswd".into()),
            tls_cert: tls.then(|| "cert.pem".into()),
            tls_key: tls.then(|| "key.pem".into()),
            insecure_no_auth,
            client_timeout: 30,
        }
    }

    #[test]
    fn beyond_loopback_auth_over_tls_or_an_explicit_insecure_flag() {
        let exposed: SocketAddr = "0.0.0.0:5000".parse().expect("address");
        let loopback: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        let loopback_v6: SocketAddr = "[::1]:5000".parse().expect("address");
        assert!(check_exposure(&args(false, false, false), loopback).is_ok());
        assert!(check_exposure(&args(false, false, false), loopback_v6).is_ok());
        assert!(check_exposure(&args(false, false, false), exposed).is_err());
        assert!(check_exposure(&args(false, false, true), exposed).is_ok());
        assert!(check_exposure(&args(true, false, false), exposed).is_err());
        assert!(check_exposure(&args(true, true, false), exposed).is_ok());
    }
}
