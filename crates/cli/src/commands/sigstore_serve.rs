//! `cosign sigstore serve`: a local Sigstore for labs and tests (an OIDC issuer, a
//! Fulcio-compatible CA with a CT log, a Rekor v2-compatible log, an RFC 3161 TSA) on one
//! loopback listener, until interrupted. Its trust files are in `--out` before it answers.

use std::net::SocketAddr;

use cosign_sigstore::{Sigstore, SigstoreConfig};

use crate::args::SigstoreServeArgs;
use crate::console;
use crate::error::CliError;
use crate::settings::GlobalSettings;

pub fn run(args: &SigstoreServeArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let runtime = crate::runtime()?;
    runtime.block_on(async {
        let (listener, address) = crate::serving::listen(&args.address, refuse_exposure).await?;
        let temporary;
        let storage = match &args.storage {
            Some(dir) => dir.clone(),
            None => {
                temporary = tempfile::Builder::new()
                    .prefix("cosign-sigstore-")
                    .tempdir()
                    .map_err(|error| CliError::new(format!("making temporary storage: {error}")))?;
                temporary.path().to_path_buf()
            }
        };
        let base_url = format!("http://{address}");
        let mut config = SigstoreConfig {
            storage: storage.clone(),
            out: args.out.clone(),
            base_url: base_url.clone(),
            verbose: settings.verbose,
            connections: cosign_server::ConnectionLimits::default(),
        };
        let timeout = std::time::Duration::from_secs(args.client_timeout);
        config.connections.header_read = timeout;
        config.connections.body_idle = timeout;
        config.connections.idle = timeout * 2;
        let sigstore = Sigstore::open(config)
            .map_err(|failure| CliError::new(format!("starting the local Sigstore: {failure}")))?;
        console::info(format_args!(
            "serving a local Sigstore (for labs and tests) on {base_url} ({} in {}, {} log entries); trust files in {}; tokens: {}/token?sub=alice@example.com",
            if args.storage.is_some() { "storage" } else { "temporary storage" },
            storage.display(),
            sigstore.log_size(),
            args.out.display(),
            sigstore.issuer_url(),
        ));
        cosign_sigstore::serve(listener, sigstore, crate::serving::shutdown_signal())
            .await
            .map_err(|error| CliError::new(format!("serving: {error}")))
    })
}

/// Its issuer mints a token for anyone who asks: it listens on loopback only.
fn refuse_exposure(address: SocketAddr) -> Result<(), CliError> {
    if address.ip().is_loopback() {
        return Ok(());
    }
    Err(CliError::new(format!(
        "refusing to serve a local Sigstore on {address}: its issuer mints a token for anyone who asks, so it is for loopback only"
    ))
    .with_hint("listen on 127.0.0.1 (the default), and use a real Sigstore where others must trust the signatures"))
}
