//! A local Lambda Runtime API, one per function process, and the process it serves.
//!
//! The function polls `GET /2018-06-01/runtime/invocation/next` as it would in Lambda; the bench hands
//! it events with [`Function::invoke`] and times each one from the moment the event is handed out to
//! the moment the function posts its answer: the in-function time, as Lambda bills it. The first poll
//! marks the end of the cold start's init.

use anyhow::{Context, Result, anyhow, bail};
use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::Value;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path as FsPath;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};

/// How long one invocation may take before the bench gives up on it (the functions' own timeouts
/// in template.yaml are 10–30 s).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// What came back for one event.
#[derive(Debug)]
pub struct Answer {
    pub request_id: String,
    pub body: Bytes,
    /// From handing out the event to receiving the function's answer.
    pub in_function: Duration,
    pub answered_at: Instant,
    pub error: bool,
}

struct Queued {
    event: Bytes,
    reply: oneshot::Sender<Answer>,
}

struct InFlight {
    handed_at: Instant,
    reply: oneshot::Sender<Answer>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
    init_error: Mutex<Option<String>>,
    next_id: AtomicU64,
    function_name: String,
}

/// The Runtime API server for one function.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Queued>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function_name: &str) -> Result<Self> {
        let (queue, receiver) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            polled: Notify::new(),
            init_error: Mutex::new(None),
            next_id: AtomicU64::new(1),
            function_name: function_name.to_string(),
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            addr,
            shared,
            queue,
            server,
        })
    }

    /// When the function first asked for an event, waiting up to `timeout`.
    pub async fn first_poll(&self, timeout: Duration) -> Result<Instant> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.polled.notified();
            if let Some(at) = *self.shared.first_poll.lock().unwrap() {
                return Ok(at);
            }
            if let Some(message) = self.shared.init_error.lock().unwrap().clone() {
                bail!("{} failed to start: {message}", self.shared.function_name);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                bail!(
                    "{} did not poll for an event within {timeout:?}",
                    self.shared.function_name
                );
            }
        }
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: &Value) -> Result<Answer> {
        let (reply, answer) = oneshot::channel();
        let event = Bytes::from(serde_json::to_vec(event)?);
        self.queue
            .send(Queued { event, reply })
            .map_err(|_| anyhow!("the runtime API has stopped"))?;
        tokio::time::timeout(INVOKE_TIMEOUT, answer)
            .await
            .with_context(|| format!("{} did not answer in time", self.shared.function_name))?
            .context("the function went away mid-invocation")
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    {
        let mut first = shared.first_poll.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            shared.polled.notify_waiters();
        }
    }
    let Some(queued) = shared.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = format!(
        "bench-{:08}",
        shared.next_id.fetch_add(1, Ordering::Relaxed)
    );
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", id.clone());
    set(
        "lambda-runtime-deadline-ms",
        (now_ms + INVOKE_TIMEOUT.as_millis()).to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            shared.function_name
        ),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
    );
    set("content-type", "application/json".to_string());
    shared.in_flight.lock().unwrap().insert(
        id,
        InFlight {
            handed_at: Instant::now(),
            reply: queued.reply,
        },
    );
    (headers, queued.event).into_response()
}

fn finish(shared: &Shared, id: &str, body: Bytes, error: bool) -> StatusCode {
    let answered_at = Instant::now();
    let Some(in_flight) = shared.in_flight.lock().unwrap().remove(id) else {
        return StatusCode::BAD_REQUEST;
    };
    let _ = in_flight.reply.send(Answer {
        request_id: id.to_string(),
        body,
        in_function: answered_at - in_flight.handed_at,
        answered_at,
        error,
    });
    StatusCode::ACCEPTED
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, body, false)
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, body, true)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    shared.polled.notify_waiters();
    StatusCode::ACCEPTED
}

/// The request log lines a function printed, by Lambda request id.
pub type RequestLogs = Arc<Mutex<HashMap<String, Value>>>;

/// A function process attached to its own Runtime API.
pub struct Function {
    pub name: String,
    pub api: RuntimeApi,
    pub started_at: Instant,
    child: Child,
    logs: RequestLogs,
}

impl Function {
    /// Starts `binary` against a fresh Runtime API with `env` (plus the variables Lambda sets).
    pub async fn start(name: &str, binary: &FsPath, env: &[(String, String)]) -> Result<Self> {
        let api = RuntimeApi::start(name).await?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let started_at = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let logs: RequestLogs = Arc::default();
        let stdout = child.stdout.take().expect("stdout is piped");
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if value["message"] == "request"
                    && let Some(id) = value["request_id"].as_str()
                {
                    sink.lock().unwrap().insert(id.to_string(), value);
                }
            }
        });
        Ok(Self {
            name: name.to_string(),
            api,
            started_at,
            child,
            logs,
        })
    }

    pub async fn invoke(&self, event: &Value) -> Result<Answer> {
        let answer = self.api.invoke(event).await?;
        if answer.error {
            bail!(
                "{} answered an error: {}",
                self.name,
                String::from_utf8_lossy(&answer.body)
            );
        }
        Ok(answer)
    }

    /// The request log line for `request_id`, once the function has printed it.
    pub async fn request_log(&self, request_id: &str) -> Option<Value> {
        for _ in 0..200 {
            if let Some(line) = self.logs.lock().unwrap().get(request_id) {
                return Some(line.clone());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        None
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mb(&self) -> Result<f64> {
        let pid = self.child.id().context("the process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kb / 1024.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
