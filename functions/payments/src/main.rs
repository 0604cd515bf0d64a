//! The payments function's cold start: configuration and clients once, then every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    kitchen::telemetry::init();
    let state = kitchen::AppState::from_env().await?;
    lambda_http::run(payments::router(state)).await
}
