//! A hello-world Lambda function: the runtime and an echo, nothing else. `make bench` starts it next
//! to the real functions, built with the same release profile, to tell what a cold start costs beyond
//! the runtime itself.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
