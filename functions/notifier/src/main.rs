//! The notifier function's cold start: configuration and the SNS client once, then every event.

use aws_lambda_events::sns::SnsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use notifier::Notifier;

#[tokio::main]
async fn main() -> Result<(), Error> {
    kitchen::telemetry::init();
    let config = kitchen::Config::from_env(notifier::SETTINGS)?;
    let sdk = kitchen::state::function_sdk_config().await;
    let notifier = Notifier::new(aws_sdk_sns::Client::new(&sdk), config);
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SnsEvent>| async move {
        notifier.handle(event.payload).await
    }))
    .await
}
