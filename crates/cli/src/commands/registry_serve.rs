//! `cosign registry serve`: the embedded OCI registry, for labs and tests with nothing else
//! installed. Serves until interrupted (Ctrl-C or SIGTERM).

use cosign_registry::{Registry, Storage};

use crate::args::RegistryServeArgs;
use crate::console;
use crate::error::CliError;
use crate::settings::GlobalSettings;

pub fn run(args: &RegistryServeArgs, settings: &GlobalSettings) -> Result<(), CliError> {
    let storage = match &args.storage {
        Some(dir) => Storage::in_directory(dir).map_err(|error| {
            CliError::new(format!("opening storage {}: {error}", dir.display()))
        })?,
        None => Storage::in_memory(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| CliError::new(format!("starting the runtime: {error}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.address)
            .await
            .map_err(|error| CliError::new(format!("listening on {}: {error}", args.address)))?;
        let address = listener
            .local_addr()
            .map(|address| address.to_string())
            .unwrap_or_else(|_| args.address.clone());
        console::info(format_args!(
            "serving an OCI registry on http://{address} ({})",
            args.storage.as_ref().map_or_else(
                || "in memory".to_owned(),
                |dir| format!("storage in {}", dir.display())
            )
        ));
        let registry = Registry::new(storage, settings.verbose);
        cosign_registry::serve(listener, registry, shutdown_signal())
            .await
            .map_err(|error| CliError::new(format!("serving: {error}")))
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
