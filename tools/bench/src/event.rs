//! The events Lambda hands the functions: API Gateway HTTP API (payload 2.0) requests, and SNS
//! notifications for the notifier.

use serde_json::{Map, Value, json};

/// An API Gateway HTTP API request for `method path?query` on the route `pattern`.
pub fn http(
    method: &str,
    pattern: &str,
    path_and_query: &str,
    bearer: Option<&str>,
    extra_headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut headers = Map::new();
    headers.insert("accept".into(), json!("application/json"));
    headers.insert(
        "host".into(),
        json!("bench.execute-api.us-east-1.amazonaws.com"),
    );
    headers.insert("user-agent".into(), json!("kitchen-bench"));
    headers.insert("x-forwarded-proto".into(), json!("https"));
    if let Some(token) = bearer {
        headers.insert("authorization".into(), json!(format!("Bearer {token}")));
    }
    let body = body.map(Value::to_string);
    if body.is_some() {
        headers.insert("content-type".into(), json!("application/json"));
    }
    for (name, value) in extra_headers {
        headers.insert(name.to_string(), json!(value));
    }
    let route_key = format!("{method} {pattern}");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "kitchen-bench"
            },
            "requestId": "bench",
            "routeKey": route_key,
            "stage": "$default",
            "time": "23/Nov/2026:09:15:30 +0000",
            "timeEpoch": 1795425330000u64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

/// The same request with a raw body string (the webhook's exact signed bytes).
pub fn http_raw(pattern: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let mut event = http("POST", pattern, path, None, headers, None);
    event["headers"]["content-type"] = json!("application/json");
    event["body"] = json!(body);
    event
}

/// An SNS delivery of one order event, as the notifier receives it.
pub fn sns(topic_arn: &str, message: &Value) -> Value {
    let kind = message["type"].as_str().unwrap_or("order.placed");
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic_arn}:bench"),
            "Sns": {
                "Type": "Notification",
                "MessageId": ulid::Ulid::new().to_string(),
                "TopicArn": topic_arn,
                "Subject": null,
                "Message": message.to_string(),
                "Timestamp": "2026-11-23T09:15:03.412Z",
                "SignatureVersion": "1",
                "Signature": "bench",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/bench.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {
                    "event_type": {"Type": "String", "Value": kind}
                }
            }
        }]
    })
}

/// The status code and parsed JSON body of a function's API Gateway answer.
pub fn response(body: &[u8]) -> (u16, Value) {
    let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let status = answer["statusCode"].as_u64().unwrap_or(0) as u16;
    let payload = answer["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    (status, payload)
}
