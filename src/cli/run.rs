//! `herald run`: the service, until SIGINT or SIGTERM.

use super::{Exit, app_options, store_failure};
use herald::app::App;
use herald::config::Config;
use tokio_util::sync::CancellationToken;

/// `stop`: from [`take_signals`], called before the config is read.
pub async fn run(config: Config, stop: CancellationToken) -> Result<(), Exit> {
    let listen = config.server.listen;
    herald::server::zerocopy::raise_open_files_limit();
    // What `check` warns of, in the journal of a service that never ran `check`: a renamed
    // source announces its releases again.
    for warning in herald::app::renamed_source_warnings(&config) {
        tracing::warn!("{warning}");
    }
    let app = App::new(config, app_options()).map_err(store_failure)?;
    let general = &app.config().general;
    herald::server::zerocopy::keep_bodies_in(&general.data_dir, general.min_free_bytes);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Exit(1, format!("cannot listen on {listen}: {e}")))?;
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        sources = app.config().sources.len(),
        "herald is running"
    );
    app.run(listener, stop).await?;
    Ok(())
}

/// The stop of `run`, cancelled by SIGINT or SIGTERM; taken before the config is read, so that
/// a signal sent while herald starts (a reload included: see `stop_on_signal`) is never lost.
pub fn take_signals() -> Result<CancellationToken, Exit> {
    let stop = CancellationToken::new();
    stop_on_signal(stop.clone())?;
    Ok(stop)
}

/// SIGINT or SIGTERM starts a clean stop, SIGHUP (the unit's reload) re-reads the config. The
/// handlers are registered before this returns, so a signal that arrives while herald is still
/// starting is not lost (nor fatal).
fn stop_on_signal(stop: CancellationToken) -> Result<(), Exit> {
    use tokio::signal::unix::{SignalKind, signal};
    let refused = |e: std::io::Error| Exit(1, format!("cannot handle signals: {e}"));
    let register = |kind| signal(kind).map_err(refused);
    let mut term = register(SignalKind::terminate())?;
    let mut int = register(SignalKind::interrupt())?;
    herald::watch::hold_sighup().map_err(refused)?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("stopping");
        stop.cancel();
    });
    Ok(())
}
