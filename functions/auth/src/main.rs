//! The auth function's cold start: configuration and clients once, then every invocation.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    auth::FUNCTION.run().await
}
