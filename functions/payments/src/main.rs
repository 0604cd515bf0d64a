//! The payments function's cold start: configuration and clients once, then every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kitchen::telemetry::init();
    let state = kitchen::AppState::from_env().await?;
    // Refuse to start without Paystack's settings, naming the variables, rather than fail each request.
    state.config.require_paystack()?;
    lambda_http::run(payments::router(state)).await
}
