//! The notifier function's cold start.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    kitchen::telemetry::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        notifier::log_records(&event.payload);
        Ok::<(), Error>(())
    }))
    .await
}
