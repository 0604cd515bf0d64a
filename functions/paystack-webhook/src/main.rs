//! The paystack-webhook function's cold start: configuration and clients once, then every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kitchen::telemetry::init();
    let state = kitchen::AppState::from_env().await?;
    // Without the secret key no signature can be checked: refuse to start, naming the variables.
    state.config.require_paystack()?;
    lambda_http::run(paystack_webhook::router(state)).await
}
