//! HTTP to the API and the simulator; every request is timed and recorded under its route pattern.

use crate::stats::{Recorder, Sample, Target};
use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longer than any function's timeout: a request still waiting by then is a hang.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A request body.
pub enum Body {
    Empty,
    Json(Value),
    /// Bytes sent as they are (a signed webhook), as `application/json`.
    Raw(Bytes),
}

/// An answer: status (0 when none came), headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub latency: Duration,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `field` of the JSON body as text, or empty.
    pub fn text(&self, field: &str) -> String {
        self.json()[field].as_str().unwrap_or_default().to_string()
    }

    /// A 5xx or no answer: worth another try later.
    pub fn failed(&self) -> bool {
        self.status == 0 || self.status >= 500
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The status and the start of the body, for a violation's detail.
    pub fn describe(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(200).collect();
        format!("{} {body}", crate::verdict::status_text(self.status))
    }
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    api: String,
    simulator: String,
    /// moto, whose SES keeps every email the API sent.
    mail: String,
    recorder: Arc<Recorder>,
}

impl Http {
    pub fn new(
        api: &str,
        simulator: &str,
        mail: &str,
        recorder: Arc<Recorder>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            client,
            api: api.trim_end_matches('/').to_string(),
            simulator: simulator.trim_end_matches('/').to_string(),
            mail: mail.trim_end_matches('/').to_string(),
            recorder,
        })
    }

    /// The `token` of the link to `path` in the latest email moto's SES holds for `to`, as the
    /// customer would open it. Not API traffic, so not recorded.
    pub async fn mailed_token(&self, to: &str, path: &str) -> Option<String> {
        let sent = devkit::testing::emails_at(&self.mail, to).await.ok()?;
        sent.iter().rev().find_map(|email| email.link_token(path))
    }

    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// A request to the API. `route` is the pattern it is counted under.
    pub async fn api(
        &self,
        route: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Answer {
        let url = format!("{}{path}", self.api);
        self.send(Target::Api, route, method, url, token, headers, body)
            .await
    }

    /// A request to the simulator's control routes.
    pub async fn simulator(&self, route: &'static str, method: Method, path: &str) -> Answer {
        let url = format!("{}{path}", self.simulator);
        self.send(
            Target::Simulator,
            route,
            method,
            url,
            None,
            &[],
            Body::Empty,
        )
        .await
    }

    pub async fn simulator_json(&self, route: &'static str, path: &str, body: Value) -> Answer {
        let url = format!("{}{path}", self.simulator);
        self.send(
            Target::Simulator,
            route,
            Method::POST,
            url,
            None,
            &[],
            Body::Json(body),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        target: Target,
        route: &'static str,
        method: Method,
        url: String,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Answer {
        let mut request = self.client.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(&value),
            Body::Raw(bytes) => request.header(CONTENT_TYPE, "application/json").body(bytes),
        };
        let started = self.recorder.now();
        let clock = Instant::now();
        let result = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let latency = clock.elapsed();
        let (status, headers, body) = result.unwrap_or_default();
        let problem_json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/problem+json"));
        self.recorder.record(Sample {
            route,
            target,
            status,
            problem_json,
            started,
            latency,
        });
        Answer {
            status,
            headers,
            body,
            latency,
        }
    }
}
