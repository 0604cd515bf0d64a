//! `paystack-sim`: runs the Paystack simulator until Ctrl-C. Flags and environment variables are
//! listed by `paystack-sim --help`.

use std::process::ExitCode;

use clap::Parser;
use paystack_sim::{SimConfig, try_spawn};
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(false)
        .init();

    let config = SimConfig::parse();
    let port = config.port;
    let (addr, mut sim) = match try_spawn(config).await {
        Ok(started) => started,
        Err(cause) => {
            error!(port, %cause, "cannot listen on 127.0.0.1:{port} (PAYSTACK_SIM_PORT)");
            return ExitCode::FAILURE;
        }
    };
    info!(
        %addr,
        public_url = sim.state().public_url(),
        webhook_url = %sim.state().webhook_url(),
        "Paystack simulator listening"
    );

    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            info!("stopping");
            match sim.shutdown().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(cause) => { error!(%cause, "stopping the server"); ExitCode::FAILURE }
            }
        }
        served = sim.wait() => {
            if let Err(cause) = served {
                error!(%cause, "server failed");
            }
            ExitCode::FAILURE
        }
    }
}
