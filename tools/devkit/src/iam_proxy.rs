//! The IAM gate of the local stack: an HTTP proxy in front of DynamoDB Local and moto that the
//! functions of `make dev`, `make load`, `make fuzz` and `make bench` reach all AWS through
//! (`AWS_ENDPOINT_URL`). It tells the functions apart by the access key of their local credentials
//! ([`crate::iam::access_key_of`]), as AWS tells their roles apart, checks each request against that
//! function's policy in template.yaml ([`crate::iam::Gate`]), answers a refused one as AWS would, and
//! forwards the rest unchanged: DynamoDB requests to DynamoDB Local, everything else to moto.
//!
//! The operator's key ([`crate::iam::OPERATOR_ACCESS_KEY`]: set-up, seeding, the bench's own direct
//! requests) is not a function and passes unchecked. Any other key is refused.
//!
//! When a stand-in cannot be reached the proxy drops the caller's connection without an answer, so
//! the SDK sees the same connection failure it would see without the proxy (and the function
//! answers 503 as it does then), rather than an HTTP error AWS would never send.

use crate::iam::{Gate, OPERATOR_ACCESS_KEY, WireRequest, signing_scope};
use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use std::sync::Arc;

/// Answers 200 without touching a stand-in, for the scripts that wait for the gate to be up.
pub const HEALTH_PATH: &str = "/_gate/health";

/// Where the proxy forwards: DynamoDB Local, and moto for every other service.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub dynamodb: String,
    pub moto: String,
}

struct Proxy {
    gate: Arc<Gate>,
    upstreams: Upstreams,
    documents: Documents,
    http: reqwest::Client,
}

/// Serves the proxy on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gate: Arc<Gate>,
    upstreams: Upstreams,
) -> Result<()> {
    serve_with_documents(listener, gate, upstreams, Documents::new()).await
}

/// JSON documents the gate answers itself, by path, to anyone (no signature): what the local stack
/// serves in place of a third party's published document (the development Google JWKS), on the one
/// port every local stack already has.
pub type Documents = std::collections::HashMap<String, Bytes>;

/// [`serve`], also answering `GET` of each of `documents`' paths with its JSON.
pub async fn serve_with_documents(
    listener: tokio::net::TcpListener,
    gate: Arc<Gate>,
    upstreams: Upstreams,
    documents: Documents,
) -> Result<()> {
    let proxy = Arc::new(Proxy {
        gate,
        upstreams,
        documents,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("an HTTP client for the stand-ins")?,
    });
    loop {
        let (stream, _) = listener.accept().await.context("accepting a connection")?;
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let proxy = proxy.clone();
                async move { proxy.handle(request).await }
            });
            // An error here is a caller that went away, or a connection dropped on purpose above.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A denial or a forwarded answer; `Err` drops the connection.
type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

impl Proxy {
    async fn handle(&self, request: Request<Incoming>) -> Answer {
        let (parts, body) = request.into_parts();
        if parts.uri.path() == HEALTH_PATH {
            return Ok(plain(200, "ok"));
        }
        if let Some(document) = self.documents.get(parts.uri.path()) {
            return Ok(Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .header("cache-control", "public, max-age=3600")
                .body(Full::new(document.clone()))
                .expect("a valid response"));
        }
        let body = body
            .collect()
            .await
            .map_err(|err| std::io::Error::other(err.to_string()))?
            .to_bytes();
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let authorization = header("authorization");
        let (key, service) = match authorization.and_then(signing_scope) {
            Some((key, _, service)) => (key.to_string(), service.to_string()),
            None => return Ok(plain(403, "the local IAM gate refuses unsigned requests")),
        };
        if key != OPERATOR_ACCESS_KEY {
            let Some(binary) = self.gate.function_of_key(&key) else {
                return Ok(plain(
                    403,
                    &format!("the access key {key} belongs to no function of template.yaml"),
                ));
            };
            let wire = WireRequest {
                authorization,
                target: header("x-amz-target"),
                method: parts.method.as_str(),
                path: parts.uri.path(),
                body: &body,
            };
            if let Err(denial) = self.gate.check(binary, &service, &wire) {
                let mut response = Response::builder().status(denial.status);
                for (name, value) in &denial.headers {
                    response = response.header(*name, value);
                }
                return Ok(response
                    .body(Full::new(Bytes::from(denial.body)))
                    .expect("a valid response"));
            }
        }
        let upstream = if service == "dynamodb" {
            &self.upstreams.dynamodb
        } else {
            &self.upstreams.moto
        };
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let mut forward = self
            .http
            .request(parts.method.clone(), format!("{upstream}{path}"))
            .body(body);
        for (name, value) in &parts.headers {
            if !matches!(name.as_str(), "host" | "content-length" | "connection") {
                forward = forward.header(name, value);
            }
        }
        let answer = forward
            .send()
            .await
            .map_err(|err| std::io::Error::other(err.to_string()))?;
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                response = response.header(name, value);
            }
        }
        let bytes = answer
            .bytes()
            .await
            .map_err(|err| std::io::Error::other(err.to_string()))?;
        Ok(response.body(Full::new(bytes)).expect("a valid response"))
    }
}

fn plain(status: u16, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(message.to_string())))
        .expect("a valid response")
}
