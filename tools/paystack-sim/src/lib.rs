//! A local stand-in for Paystack, for development and tests only (never deployed).
//!
//! It speaks Paystack's documented shapes for the calls the payments code makes —
//! `POST /transaction/initialize`, `GET /transaction/verify/{reference}` and the refund API —
//! serves the checkout page `authorization_url` points at, and on "Pay" sends a `charge.success`
//! webhook signed exactly as Paystack signs it. Refunds send `refund.*` webhooks as they move on,
//! and a simulated customer can dispute a charge (`charge.dispute.*`). Its request and answer
//! shapes follow Paystack's published API reference and webhook samples.
//!
//! Refund and dispute ids are numbers above 32 bits, like transaction ids. `refund.pending` goes
//! out [`REFUND_WEBHOOK_DELAY`] after `POST /refund` has answered; every other webhook is sent
//! before its `/_sim` route answers, which reports the receiver's status as `webhook_status`.
//!
//! | route | purpose |
//! | --- | --- |
//! | `POST /transaction/initialize` | Paystack API (Bearer secret key) |
//! | `GET /transaction/verify/{reference}` | Paystack API (Bearer secret key) |
//! | `POST /refund` | Paystack API: queue a refund; `refund.pending` follows the answer |
//! | `GET /refund/{id}` | Paystack API: one refund |
//! | `GET /refund?transaction=&perPage=&page=` | Paystack API: refunds, newest first |
//! | `GET /checkout/{access_code}` | the customer's checkout page (Pay / Fail) |
//! | `GET /_sim` | the developer's page: transactions, Refund buttons, refund steps, disputes |
//! | `POST /_sim/transactions/{reference}/succeed` | pay: mark success, send the signed webhook (`{"webhook": false}`: lose it) |
//! | `POST /_sim/transactions/{reference}/fail` | decline: mark failed, no webhook |
//! | `POST /_sim/transactions/{reference}/webhook` | re-send the transaction's last webhook (of any event), byte for byte; a lost one goes out late |
//! | `POST /_sim/transactions/{reference}/refund` | `POST /refund` of this transaction, no key needed |
//! | `POST /_sim/refunds/{id}/{step}` | step: `processing`, `processed`, `failed`, `needs-attention`; sends `refund.<step>` |
//! | `POST /_sim/transactions/{reference}/dispute` | the customer disputes the charge: `charge.dispute.create` |
//! | `POST /_sim/transactions/{reference}/dispute/remind` | `charge.dispute.remind` for the open dispute |
//! | `POST /_sim/transactions/{reference}/dispute/resolve` | resolve it (default `declined`): `charge.dispute.resolve` |
//! | `GET /_sim/transactions` | every transaction with its webhook deliveries, refunds and dispute |
//! | `GET /_sim/refunds` | every refund |
//! | `GET`, `POST /_sim/config` | read or change `delay_ms` and `webhook_url` at runtime |
//! | `GET /health` | liveness |
//!
//! From a Rust test:
//!
//! ```no_run
//! # async fn example() {
//! use paystack_sim::{SimConfig, spawn};
//! let (addr, sim) = spawn(SimConfig {
//!     port: 0,
//!     webhook_url: "http://127.0.0.1:9000/webhooks/paystack".into(),
//!     ..SimConfig::default()
//! })
//! .await;
//! // PAYSTACK_BASE_URL for the code under test:
//! assert_eq!(sim.base_url(), format!("http://{addr}"));
//! # }
//! ```

mod api;
mod checkout;
mod config;
mod control;
mod dashboard;
mod dispute;
mod error;
mod refund;
mod state;
mod transaction;
mod webhook;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::info;

pub use config::{
    DEFAULT_PORT, DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_MS, DEFAULT_SECRET_KEY,
    DEFAULT_WEBHOOK_URL, SimConfig,
};
pub use dispute::{DisputeStatus, DisputeView, Resolution};
pub use error::{PaystackError, SimError};
pub use refund::{RefundStatus, RefundView};
pub use state::{OpenDispute, ResolveDispute, RuntimeConfig, SimState, SucceedOverrides};
pub use transaction::{Delivery, TransactionStatus, TransactionView};
pub use webhook::{REFUND_WEBHOOK_DELAY, SIGNATURE_HEADER, sign};

/// Every route of the simulator.
pub fn router(state: SimState) -> Router {
    // Only the imitated Paystack API is slowed down; the checkout and control routes stay fast.
    let paystack_api = Router::new()
        .route("/transaction/initialize", post(api::initialize))
        .route("/transaction/verify/{reference}", get(api::verify))
        .route("/refund", post(api::refund).get(api::list_refunds))
        .route("/refund/{id}", get(api::fetch_refund))
        .route_layer(middleware::from_fn_with_state(state.clone(), api::latency));
    Router::new()
        .merge(paystack_api)
        .route("/checkout/{access_code}", get(checkout::page))
        .route("/_sim", get(dashboard::page))
        .route("/_sim/transactions", get(control::list))
        .route(
            "/_sim/transactions/{reference}/succeed",
            post(control::succeed),
        )
        .route("/_sim/transactions/{reference}/fail", post(control::fail))
        .route(
            "/_sim/transactions/{reference}/refund",
            post(control::refund),
        )
        .route(
            "/_sim/transactions/{reference}/dispute",
            post(control::open_dispute),
        )
        .route(
            "/_sim/transactions/{reference}/dispute/remind",
            post(control::remind_dispute),
        )
        .route(
            "/_sim/transactions/{reference}/dispute/resolve",
            post(control::resolve_dispute),
        )
        .route("/_sim/refunds", get(control::refunds))
        .route("/_sim/refunds/{id}/{step}", post(control::advance_refund))
        .route(
            "/_sim/transactions/{reference}/webhook",
            post(control::resend),
        )
        .route(
            "/_sim/config",
            get(control::get_config).post(control::set_config),
        )
        .route("/health", get(health))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn health() -> &'static str {
    "ok"
}

/// One line per request.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    info!(%method, %path, status = response.status().as_u16(), elapsed_ms, "request");
    response
}

/// A running simulator. It serves until [`SimHandle::shutdown`] or until its Tokio runtime ends
/// (the end of a `#[tokio::test]`); dropping the handle does not stop it.
pub struct SimHandle {
    addr: SocketAddr,
    state: SimState,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the code under test uses as `PAYSTACK_BASE_URL`, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live state: inspect transactions, change the webhook URL or delay, or pay directly.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(self) -> std::io::Result<()> {
        // The server may already be gone; then there is nobody to tell.
        let _ = self.stop.send(());
        self.task.await.map_err(std::io::Error::other)?
    }

    /// Waits until the server stops on its own (it only does so on an I/O error). Once this has
    /// returned the server is gone; do not call [`SimHandle::shutdown`] afterwards.
    pub async fn wait(&mut self) -> std::io::Result<()> {
        (&mut self.task).await.map_err(std::io::Error::other)?
    }
}

/// Starts the simulator on `127.0.0.1:<config.port>` (use port 0 in tests) as a task of the
/// current Tokio runtime, and returns the address it listens on.
///
/// # Panics
///
/// If the port cannot be bound; use [`try_spawn`] to handle that.
pub async fn spawn(config: SimConfig) -> (SocketAddr, SimHandle) {
    match try_spawn(config).await {
        Ok(started) => started,
        Err(error) => panic!("starting the Paystack simulator: {error}"),
    }
}

/// [`spawn`], reporting a port that cannot be bound instead of panicking.
pub async fn try_spawn(config: SimConfig) -> std::io::Result<(SocketAddr, SimHandle)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let addr = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let state = SimState::new(&config, public_url).map_err(std::io::Error::other)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                // A dropped sender (handle gone) is not a request to stop.
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
    });
    Ok((
        addr,
        SimHandle {
            addr,
            state,
            stop,
            task,
        },
    ))
}
