//! The orders function's cold start. Besides its HTTP routes it takes two scheduled events (from
//! EventBridge, see template.yaml): the sweep's, a scheduled-event envelope told by its `source`
//! (unpaid orders past their deadline cancelled, payments pending too long settled, money still
//! owed given back), and the kitchen's reminders, whose `Input` names the job
//! (`{"job": "remind_kitchen"}`).

use lambda_http::{
    Adapter, LambdaEvent,
    lambda_runtime::{self, Error, service_fn},
    request::LambdaRequest,
    tower::ServiceExt,
};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    kitchen::telemetry::init();
    let state = kitchen::AppState::from_env(orders::FUNCTION.settings).await?;
    let http = Adapter::from(orders::router(state.clone()));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (state, http) = (state.clone(), http.clone());
        async move {
            let (payload, context) = event.into_parts();
            if let Some(job) = payload.get("job") {
                return match job.as_str() {
                    Some("remind_kitchen") => {
                        let reminded = orders::remind_kitchen(&state)
                            .await
                            .map_err(|err| Error::from(err.to_string()))?;
                        Ok(serde_json::json!({
                            "waiting": reminded.waiting,
                            "sent": reminded.sent,
                        }))
                    }
                    _ => Err(Error::from(format!("unknown scheduled job {job}"))),
                };
            }
            if payload.get("source").and_then(Value::as_str) == Some("aws.events") {
                let swept = orders::sweep(&state)
                    .await
                    .map_err(|err| Error::from(err.to_string()))?;
                return Ok::<Value, Error>(serde_json::json!({
                    "cancelled": swept.cancelled,
                    "recorded": swept.recorded,
                    "released": swept.released,
                    "refunds_started": swept.refunds_started,
                }));
            }
            let request: LambdaRequest = serde_json::from_value(payload)?;
            let response = http.oneshot(LambdaEvent::new(request, context)).await?;
            Ok(serde_json::to_value(response)?)
        }
    }))
    .await
}
