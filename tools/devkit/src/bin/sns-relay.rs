//! `sns-relay`: hands each message of the local SNS topic to the notifier, as SNS hands it to Lambda
//! in AWS, so that an order placed under `make dev` ends in the SMS its customer would get.
//!
//! moto could POST the messages to an HTTP subscriber itself, but a Publish fails with a 500 while
//! any HTTP subscriber is unreachable (the API still compiling, say), and that would fail the
//! publishing function's request. So the relay subscribes an SQS queue in moto instead, long-polls
//! it, wraps each message in the SNS event Lambda would deliver, and invokes the notifier through
//! `cargo lambda watch`'s Lambda Invoke API (`POST /2015-03-31/functions/notifier/invocations`). A
//! message is deleted once the notifier has taken it; otherwise it is tried again a few seconds
//! later: forever while the API cannot be reached, three times in all when the notifier itself fails
//! (then dropped, as Lambda's asynchronous retries would give up).
//!
//! Environment: `TOPIC_ARN` (required; the topic is created when missing), `AWS_ENDPOINT_URL_SQS`
//! (default: `AWS_ENDPOINT_URL_SNS`, moto serves both on one port), `API_PORT` (default 9000) or
//! `NOTIFIER_INVOKE_URL`, and the usual AWS region and credentials. Stops on SIGINT or SIGTERM.

use anyhow::{Context, Result};
use aws_config::timeout::TimeoutConfig;
use aws_lambda_events::sns::{SnsEvent, SnsMessage, SnsRecord};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use std::{cell::Cell, future::Future, time::Duration};
use tokio::signal::unix::{SignalKind, signal};

const QUEUE_NAME: &str = "kitchen-notifier-relay";
/// How long one receive waits for a message (moto holds the request open that long).
const POLL_SECONDS: i32 = 10;
/// A received message stays hidden this long: more than the first invocation may take, which
/// compiles the function.
const IN_FLIGHT_SECONDS: i32 = 300;
/// How soon a message the notifier did not take is tried again.
const RETRY_SECONDS: i32 = 5;
/// Lambda tries an asynchronous event three times in all before giving up on it.
const MAX_FUNCTION_ATTEMPTS: u32 = 3;

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn say(line: impl std::fmt::Display) {
    println!("sns-relay: {line}");
}

#[tokio::main]
async fn main() -> Result<()> {
    let topic_arn = var("TOPIC_ARN").context("TOPIC_ARN is not set")?;
    let invoke_url = var("NOTIFIER_INVOKE_URL").unwrap_or_else(|| {
        let port = var("API_PORT").unwrap_or_else(|| "9000".into());
        format!("http://127.0.0.1:{port}/2015-03-31/functions/notifier/invocations")
    });

    let mut stop = Box::pin(shutdown()?);
    let relay = tokio::select! {
        relay = Relay::connect(&topic_arn, invoke_url) => relay?,
        () = &mut stop => return Ok(()),
    };
    say(format_args!(
        "relaying {} to {} (queue {})",
        relay.topic_arn, relay.invoke_url, relay.queue_url
    ));
    tokio::select! {
        result = relay.run() => result,
        () = &mut stop => {
            say("stopped");
            Ok(())
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM.
fn shutdown() -> Result<impl Future<Output = ()>> {
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

struct Relay {
    sqs: aws_sdk_sqs::Client,
    http: reqwest::Client,
    topic_arn: String,
    subscription_arn: String,
    queue_url: String,
    invoke_url: String,
    /// Whether the last invocation found nothing listening.
    api_down: Cell<bool>,
}

/// What became of one message.
enum Delivery {
    Taken(String),
    FunctionFailed(String),
    Unreachable(String),
}

impl Relay {
    /// Creates the topic (if missing) and the queue, and subscribes the queue to the topic. All three
    /// calls are idempotent, so a restarted relay picks up where the last one stopped.
    async fn connect(topic_arn: &str, invoke_url: String) -> Result<Self> {
        let sdk = kitchen::state::aws_sdk_config().await;
        let sns = aws_sdk_sns::Client::new(&sdk);
        let mut sqs_config = aws_sdk_sqs::config::Builder::from(&sdk).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(POLL_SECONDS as u64 + 10))
                .operation_timeout(Duration::from_secs(POLL_SECONDS as u64 + 20))
                .build(),
        );
        if var("AWS_ENDPOINT_URL_SQS").is_none()
            && let Some(sns_endpoint) = var("AWS_ENDPOINT_URL_SNS")
        {
            sqs_config = sqs_config.endpoint_url(sns_endpoint);
        }
        let sqs = aws_sdk_sqs::Client::from_conf(sqs_config.build());

        let topic_name = topic_arn.rsplit(':').next().unwrap_or(topic_arn);
        let topic_arn = sns
            .create_topic()
            .name(topic_name)
            .send()
            .await
            .context("creating the SNS topic")?
            .topic_arn
            .unwrap_or_else(|| topic_arn.to_string());
        let queue_url = sqs
            .create_queue()
            .queue_name(QUEUE_NAME)
            .send()
            .await
            .context("creating the relay's SQS queue")?
            .queue_url
            .context("CreateQueue returned no queue URL")?;
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .context("reading the queue's ARN")?
            .attributes
            .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
            .context("the queue has no ARN")?;
        // Not raw delivery: each SQS message is then SNS's own JSON envelope, the very `Sns` object
        // of the Lambda event (Message, MessageAttributes, MessageId, Timestamp, …).
        let subscription_arn = sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .context("subscribing the queue to the topic")?
            .subscription_arn
            .unwrap_or_default();

        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(IN_FLIGHT_SECONDS as u64 - 10))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            sqs,
            http,
            topic_arn,
            subscription_arn,
            queue_url,
            invoke_url,
            api_down: Cell::new(false),
        })
    }

    async fn run(&self) -> Result<()> {
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(POLL_SECONDS)
                .visibility_timeout(IN_FLIGHT_SECONDS)
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await;
            let messages = match received {
                Ok(output) => output.messages.unwrap_or_default(),
                Err(error) => {
                    say(format_args!(
                        "could not read the queue ({}); trying again in {RETRY_SECONDS}s",
                        kitchen::error::cause_chain(&error)
                    ));
                    tokio::time::sleep(Duration::from_secs(RETRY_SECONDS as u64)).await;
                    continue;
                }
            };
            for message in messages {
                self.relay(message).await;
            }
        }
    }

    async fn relay(&self, message: aws_sdk_sqs::types::Message) {
        let Some(receipt) = message.receipt_handle() else {
            return;
        };
        let attempt: u32 = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let envelope: SnsMessage = match serde_json::from_str(message.body().unwrap_or_default()) {
            Ok(envelope) => envelope,
            Err(error) => {
                say(format_args!(
                    "dropped a message that is no SNS notification: {error}"
                ));
                self.delete(receipt).await;
                return;
            }
        };
        let event_type = envelope
            .message_attributes
            .get(kitchen::events::EVENT_TYPE_ATTRIBUTE)
            .map(|attribute| attribute.value.clone())
            .unwrap_or_else(|| "(no event_type)".into());
        let order_id = serde_json::from_str::<serde_json::Value>(&envelope.message)
            .ok()
            .and_then(|message| message["order_id"].as_str().map(String::from));
        let what = match order_id {
            Some(order_id) => format!("{event_type} order {order_id}"),
            None => format!("{event_type} message {}", envelope.message_id),
        };

        let delivery = self.invoke(self.lambda_event(envelope)).await;
        if !matches!(delivery, Delivery::Unreachable(_)) {
            self.api_down.set(false);
        }
        match delivery {
            Delivery::Taken(result) => {
                say(format_args!("{what} -> notifier: {result}"));
                self.delete(receipt).await;
            }
            Delivery::FunctionFailed(error) if attempt >= MAX_FUNCTION_ATTEMPTS => {
                say(format_args!(
                    "{what} -> notifier failed ({error}); dropped after {attempt} attempts"
                ));
                self.delete(receipt).await;
            }
            Delivery::FunctionFailed(error) => {
                say(format_args!(
                    "{what} -> notifier failed ({error}); attempt {attempt} of \
                     {MAX_FUNCTION_ATTEMPTS}, again in {RETRY_SECONDS}s"
                ));
                self.retry_later(receipt).await;
            }
            Delivery::Unreachable(error) => {
                // Said once, not every few seconds while the API starts or is stopped.
                if !self.api_down.replace(true) {
                    say(format_args!(
                        "the notifier cannot be reached ({error}); holding events until it can"
                    ));
                }
                self.retry_later(receipt).await;
            }
        }
    }

    /// The event Lambda hands a function subscribed to the topic: one record, its `Sns` being the
    /// notification as SNS sent it.
    fn lambda_event(&self, envelope: SnsMessage) -> SnsEvent {
        let mut record = SnsRecord::default();
        record.event_source = "aws:sns".into();
        record.event_version = "1.0".into();
        record.event_subscription_arn = self.subscription_arn.clone();
        record.sns = envelope;
        let mut event = SnsEvent::default();
        event.records = vec![record];
        event
    }

    async fn invoke(&self, event: SnsEvent) -> Delivery {
        let response = match self.http.post(&self.invoke_url).json(&event).send().await {
            Ok(response) => response,
            Err(error) => return Delivery::Unreachable(kitchen::error::cause_chain(&error)),
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let body = body.trim().to_string();
        if status.is_success() {
            Delivery::Taken(body)
        } else if status.is_server_error() {
            // cargo lambda watch answers 500 with the function's error (errorType, errorMessage).
            Delivery::FunctionFailed(body)
        } else {
            // 404: no function of that name; anything else is not the function's doing either.
            Delivery::Unreachable(format!("{status} {body}"))
        }
    }

    async fn delete(&self, receipt: &str) {
        if let Err(error) = self
            .sqs
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
        {
            say(format_args!(
                "could not delete a relayed message ({}); it may be relayed again",
                kitchen::error::cause_chain(&error)
            ));
        }
    }

    async fn retry_later(&self, receipt: &str) {
        // Failing this, the message comes back when its in-flight time ends.
        let _ = self
            .sqs
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(RETRY_SECONDS)
            .send()
            .await;
    }
}
