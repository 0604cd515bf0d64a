//! Tests drive a function's router in-process against the real DynamoDB Local, each test on a
//! table of its own, created from template.yaml.
//!
//! `make test` starts DynamoDB Local and moto and exports their endpoints; run outside it, these
//! helpers stop with a message saying so rather than skipping anything.

use crate::iam::Gate;
use crate::stack::{LocalBindings, Stack, Template};
use crate::table::TableDefinition;
use axum::{Router, body::Body};
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kitchen::state::Function;
use kitchen::{
    AppState, Config,
    db::{Db, NewUser},
    domain::{Email, Password, Role, SessionId},
    domain::{Session, User},
    token::RefreshToken,
};
use serde_json::Value;
use std::collections::BTreeMap;
use tower::ServiceExt;

/// The development key every test app signs access tokens with (tools/dev-keys; never trusted by a
/// deployment).
pub const TEST_TOKEN_SIGNING_KEY: &str = include_str!("../../dev-keys/token-signing-dev.pem");
/// Its public half: the public key set of every test app, unless the test gives another.
pub const TEST_TOKEN_PUBLIC_KEYS: &str = include_str!("../../dev-keys/token-public-dev.pem");
/// A second development key pair, the "new" key of a rotation.
pub const TEST_NEXT_TOKEN_SIGNING_KEY: &str =
    include_str!("../../dev-keys/token-signing-dev-next.pem");
pub const TEST_NEXT_TOKEN_PUBLIC_KEY: &str =
    include_str!("../../dev-keys/token-public-dev-next.pem");
/// The development cursor key every test app signs page cursors with.
pub const TEST_CURSOR_KEY: &str = include_str!("../../dev-keys/cursor-dev.key");
/// The password of users made by [`TestApp::user`].
pub const TEST_PASSWORD: &str = "correct horse battery";
/// The Paystack secret key of every test app (and of its simulator, with [`TestAppBuilder::paystack_sim`]).
pub const TEST_PAYSTACK_SECRET: &str = "sk_test_kitchen_tests_0123456789";

/// Makes sure the stand-ins' endpoints are set, naming the command that sets them if not.
pub fn require_local_stack() {
    for var in [
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_SNS",
        "AWS_ENDPOINT_URL_SSM",
    ] {
        if std::env::var(var).map(|v| v.is_empty()).unwrap_or(true) {
            panic!(
                "{var} is not set: these tests run against DynamoDB Local and moto, which `make test` \
                 starts and points them at"
            );
        }
    }
}

/// Builds a [`TestApp`]: the stack's parameters first, then the function.
///
/// Each app is a deployment of template.yaml of its own: its own table, topic and SSM parameters,
/// and each function runs with exactly the environment its template entry gives it and with its
/// template policy checked on every AWS call (see [`crate::iam`]).
#[derive(Default)]
pub struct TestAppBuilder {
    parameters: BTreeMap<String, String>,
    paystack_secret: Option<String>,
    token_keys: Option<(String, String)>,
    unreachable_table: bool,
    capture_events: bool,
    paystack_sim: bool,
    template: Option<Template>,
}

impl TestAppBuilder {
    /// Deploys with this value of one of template.yaml's parameters (checked as CloudFormation
    /// checks it: a value it would refuse fails the test).
    pub fn parameter(mut self, name: &str, value: impl Into<String>) -> Self {
        self.parameters.insert(name.to_string(), value.into());
        self
    }

    /// Deploys `template` instead of the repository's template.yaml (to show what a change to it does).
    pub fn template(mut self, template: Template) -> Self {
        self.template = Some(template);
        self
    }

    /// The Paystack secret key the stack's SSM parameter holds (default [`TEST_PAYSTACK_SECRET`]). The
    /// simulator's own key stays [`TEST_PAYSTACK_SECRET`], so another key here is a wrong key.
    pub fn paystack_secret(mut self, key: &str) -> Self {
        self.paystack_secret = Some(key.to_string());
        self
    }

    /// The token signing key (PKCS#8 PEM) and public key set (PEM) the stack's SSM parameters hold
    /// (default [`TEST_TOKEN_SIGNING_KEY`] and [`TEST_TOKEN_PUBLIC_KEYS`]): a rotation's stages.
    pub fn token_keys(mut self, signing_key: &str, public_keys: &str) -> Self {
        self.token_keys = Some((signing_key.to_string(), public_keys.to_string()));
        self
    }

    /// Subscribes a queue to the app's topic, so the test can read back every event the app
    /// published ([`TestApp::published_events`]).
    pub fn capture_events(mut self) -> Self {
        self.capture_events = true;
        self
    }

    /// Starts the Paystack simulator in-process (port 0, [`TEST_PAYSTACK_SECRET`], no webhook
    /// retries) and points the `PaystackBaseUrl` parameter at it; [`TestApp::paystack`] is its handle.
    /// Without it, `PaystackBaseUrl` names a port where nothing listens, as if Paystack were down.
    pub fn paystack_sim(mut self) -> Self {
        self.paystack_sim = true;
        self
    }

    /// Points the function's DynamoDB client at an endpoint where nothing listens, as if the table
    /// were down.
    pub fn unreachable_table(mut self) -> Self {
        self.unreachable_table = true;
        self
    }

    pub async fn spawn(self, function: Function) -> TestApp {
        require_local_stack();
        // The functions' own log lines, when a developer asks for them (with --no-capture).
        if std::env::var_os("KITCHEN_TEST_LOG").is_some() {
            kitchen::telemetry::init();
        }
        let table = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let operator = kitchen::state::aws_sdk_config().await;
        let events = if self.capture_events {
            Some(event_capture(&operator, &table).await)
        } else {
            create_topic(&operator, &table).await;
            None
        };
        let paystack_secret = self
            .paystack_secret
            .unwrap_or_else(|| TEST_PAYSTACK_SECRET.to_string());
        let paystack = if self.paystack_sim {
            let (_, sim) = paystack_sim::spawn(paystack_sim::SimConfig {
                port: 0,
                secret_key: TEST_PAYSTACK_SECRET.into(),
                // Set by the test once its receiver is up (`sim.state().set_webhook_url`).
                webhook_url: format!("{}/webhooks/paystack", closed_port_url()),
                retry_attempts: 0,
                ..paystack_sim::SimConfig::default()
            })
            .await;
            Some(std::sync::Arc::new(sim))
        } else {
            None
        };
        let (signing_key, public_keys) = self.token_keys.unwrap_or_else(|| {
            (
                TEST_TOKEN_SIGNING_KEY.to_string(),
                TEST_TOKEN_PUBLIC_KEYS.to_string(),
            )
        });
        let mut bindings = LocalBindings::new(&table, &table)
            .parameter(
                "TokenSigningKeyParameterName",
                format!("/{table}/token-signing-key"),
            )
            .parameter(
                "TokenPublicKeysParameterName",
                format!("/{table}/token-public-keys"),
            )
            .parameter("CursorKeyParameterName", format!("/{table}/cursor-key"))
            .parameter(
                "PaystackSecretParameterName",
                format!("/{table}/paystack-secret-key"),
            )
            .parameter(
                "PaystackBaseUrl",
                paystack
                    .as_ref()
                    .map(|sim| sim.base_url())
                    .unwrap_or_else(closed_port_url),
            )
            .parameter("PaystackCallbackUrl", "http://127.0.0.1/paid");
        for (name, value) in self.parameters {
            bindings = bindings.parameter(&name, value);
        }
        let (stack, gate) = deploy(self.template, &bindings);
        if let Some(sender) = stack.parameter("EmailFromAddress") {
            verify_sender(&operator, &sender).await;
        }
        let ssm = aws_sdk_ssm::Client::new(&operator);
        for (parameter, value) in [
            ("TokenSigningKeyParameterName", signing_key.as_str()),
            ("TokenPublicKeysParameterName", public_keys.as_str()),
            ("CursorKeyParameterName", TEST_CURSOR_KEY),
            ("PaystackSecretParameterName", paystack_secret.as_str()),
        ] {
            let name = stack.parameter(parameter).expect("a declared parameter");
            put_secure_parameter(&ssm, &name, value).await;
        }
        TableDefinition::from_repo()
            .expect("template.yaml defines the table")
            .create(&aws_sdk_dynamodb::Client::new(&operator), &table)
            .await
            .expect("DynamoDB Local creates the test table");
        let deployment = std::sync::Arc::new(Deployment {
            stack,
            gate,
            operator: Db::new(aws_sdk_dynamodb::Client::new(&operator), table),
            unreachable_table: self.unreachable_table,
            signing_key,
        });
        let state = deployment.function_state(&function).await;
        TestApp {
            router: (function.router)(state.clone()),
            state,
            deployment,
            events,
            paystack,
        }
    }
}

/// What the functions of one test app share: the stack they are deployed in, its IAM check and an
/// unchecked client for the test's own fixtures.
struct Deployment {
    stack: Stack,
    gate: std::sync::Arc<Gate>,
    operator: Db,
    unreachable_table: bool,
    /// What the stack's token signing-key parameter holds, for tokens of users made by the test.
    signing_key: String,
}

impl Deployment {
    /// `function`'s cold start as in AWS: the configuration from its template environment and
    /// nothing else, SDK clients whose every call its template policy must allow.
    async fn function_state(&self, function: &Function) -> AppState {
        self.function_state_with(function, |table| table).await
    }

    /// [`Deployment::function_state`] with its table client's configuration changed by `table`.
    async fn function_state_with(
        &self,
        function: &Function,
        table: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> AppState {
        let definition = self
            .stack
            .template()
            .function(function.name)
            .unwrap_or_else(|err| panic!("{err:#}"));
        let env = self
            .stack
            .function_environment(&definition)
            .unwrap_or_else(|err| panic!("{err:#}"));
        let config = Config::for_function(function.settings, |name| env.get(name).cloned())
            .unwrap_or_else(|err| panic!("the {} function's cold start: {err}", function.name));
        let sdk = function_sdk_config(&self.gate, function.name).await;
        let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
        if self.unreachable_table {
            // On the client's own config: AWS_ENDPOINT_URL_DYNAMODB outranks the shared config's.
            builder = builder.endpoint_url(closed_port_url());
        }
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(table(builder).build());
        AppState::build_with_table_client(config, &sdk, dynamodb)
            .await
            .unwrap_or_else(|err| panic!("the {} function's cold start: {err}", function.name))
    }
}

/// `template` (the repository's when `None`) deployed with `bindings`, and its IAM check; a template
/// that cannot be deployed so fails the test, saying why.
fn deploy(template: Option<Template>, bindings: &LocalBindings) -> (Stack, std::sync::Arc<Gate>) {
    let template = template.unwrap_or_else(|| Template::from_repo().expect("template.yaml"));
    let stack = Stack::new(&template, bindings)
        .unwrap_or_else(|err| panic!("template.yaml cannot be deployed so: {err:#}"));
    let gate = Gate::new(&stack).unwrap_or_else(|err| panic!("template.yaml's IAM: {err:#}"));
    (stack, gate)
}

/// A function that is not an HTTP router (the notifier), deployed alone: its template environment
/// and an SDK configuration whose every call its template policy must allow.
pub struct DeployedFunction {
    pub env: BTreeMap<String, String>,
    pub sdk: aws_config::SdkConfig,
}

/// Deploys template.yaml with `parameters` (a table and topic named for the test) and returns the
/// function built as `binary`, as [`TestAppBuilder::spawn`] does for the HTTP functions.
pub async fn deploy_function(binary: &str, parameters: &[(&str, &str)]) -> DeployedFunction {
    require_local_stack();
    let name = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
    let mut bindings =
        LocalBindings::new(&name, &name).parameter("PaystackCallbackUrl", "http://127.0.0.1/paid");
    for (parameter, value) in parameters {
        bindings = bindings.parameter(parameter, *value);
    }
    let (stack, gate) = deploy(None, &bindings);
    let definition = stack
        .template()
        .function(binary)
        .unwrap_or_else(|err| panic!("{err:#}"));
    DeployedFunction {
        env: stack
            .function_environment(&definition)
            .unwrap_or_else(|err| panic!("{err:#}")),
        sdk: function_sdk_config(&gate, binary).await,
    }
}

/// The SDK configuration of one function: the stand-ins' endpoints, the function's own local
/// credentials, and every request checked against its template policy.
async fn function_sdk_config(gate: &std::sync::Arc<Gate>, binary: &str) -> aws_config::SdkConfig {
    let operator = kitchen::state::aws_sdk_config().await;
    let inner = operator
        .http_client()
        .expect("the SDK configuration has an HTTP client");
    operator
        .to_builder()
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new(
                crate::iam::access_key_of(binary),
                "local",
                None,
                None,
                "kitchen-local",
            ),
        ))
        .http_client(crate::iam::GatedHttpClient::new(
            gate.clone(),
            binary,
            inner,
        ))
        .build()
}

/// Stores a SecureString in SSM (moto), as the deployment's operator does in AWS.
pub async fn put_secure_parameter(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|err| panic!("moto stores SSM parameter {name}: {err:?}"));
}

/// Verifies `address` as an SES identity (moto's), as an operator does before SES sends from it.
pub async fn verify_sender(sdk: &aws_config::SdkConfig, address: &str) {
    aws_sdk_sesv2::Client::new(sdk)
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .unwrap_or_else(|err| panic!("moto's SES verifies {address}: {err:?}"));
}

/// One email moto's SES accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SentEmail {
    pub source: String,
    pub subject: String,
    pub body: String,
    pub destinations: BTreeMap<String, Vec<String>>,
}

impl SentEmail {
    /// The `token` of the first link in the body to `path` (such as `/auth/email/verify`).
    pub fn link_token(&self, path: &str) -> Option<String> {
        let line = self
            .body
            .lines()
            .find(|line| line.contains(&format!("{path}?token=")))?;
        let query = line.split_once('?')?.1;
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "token")
            .map(|(_, value)| value.into_owned())
    }
}

/// Every email moto's SES has accepted for `to`, oldest first (moto keeps them at
/// `GET /moto-api/data.json`, under `ses.Message`).
pub async fn emails_to(to: &str) -> Vec<SentEmail> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SESV2")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SNS"))
        .expect("make test sets the moto endpoint");
    emails_at(&endpoint, to)
        .await
        .expect("moto answers with its state")
}

/// [`emails_to`] from the moto at `endpoint` (`make load` names it); `Err` if moto did not answer.
pub async fn emails_at(endpoint: &str, to: &str) -> Result<Vec<SentEmail>, reqwest::Error> {
    let endpoint = endpoint.trim_end_matches('/');
    let state: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await?
        .json()
        .await?;
    let messages = state["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(messages
        .into_iter()
        .filter_map(|m| serde_json::from_value::<SentEmail>(m).ok())
        .filter(|m| m.destinations.values().flatten().any(|d| d == to))
        .collect())
}

/// `http://127.0.0.1:<a port where nothing listens>`.
pub fn closed_port_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", closed.local_addr().expect("an address"));
    drop(closed);
    url
}

/// One function's router on a fresh deployment.
pub struct TestApp {
    /// The function's own state: its configuration, and clients under its IAM policy.
    pub state: AppState,
    pub router: Router,
    deployment: std::sync::Arc<Deployment>,
    /// The queue subscribed to the app's topic, when it captures events.
    pub events: Option<String>,
    /// The in-process Paystack simulator, with [`TestAppBuilder::paystack_sim`].
    pub paystack: Option<std::sync::Arc<paystack_sim::SimHandle>>,
}

async fn create_topic(sdk: &aws_config::SdkConfig, name: &str) -> String {
    let topic = aws_sdk_sns::Client::new(sdk)
        .create_topic()
        .name(name)
        .send()
        .await
        .expect("moto creates a topic");
    topic.topic_arn().expect("a topic ARN").to_string()
}

/// Creates a topic named after the test's table and an SQS queue subscribed to it (raw delivery, so
/// each message is the event itself). Returns the queue URL.
async fn event_capture(sdk: &aws_config::SdkConfig, name: &str) -> String {
    let sns = aws_sdk_sns::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(&sqs_config(sdk));
    let topic_arn = create_topic(sdk, name).await;
    let queue = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("moto creates a queue");
    let queue_url = queue.queue_url().expect("a queue URL").to_string();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("a queue ARN")
        .clone();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("moto subscribes the queue");
    queue_url
}

/// moto serves SQS on the same port as SNS.
fn sqs_config(sdk: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SQS")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL_SNS"))
        .expect("make test sets the moto endpoint");
    sdk.to_builder().endpoint_url(endpoint).build()
}

/// A user made directly in the table, signed in.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub access_token: String,
    pub refresh_token: String,
    /// The session both tokens belong to.
    pub session_id: SessionId,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub async fn spawn(function: Function) -> TestApp {
        Self::builder().spawn(function).await
    }

    /// Another function of the same deployment (the same table, topic and parameters), with its own
    /// environment and IAM policy.
    pub async fn with_function(&self, function: Function) -> TestApp {
        self.with_function_table(function, |table| table).await
    }

    /// [`TestApp::with_function`] with the function's table client changed by `table` (a fault
    /// injected, say).
    pub async fn with_function_table(
        &self,
        function: Function,
        table: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
    ) -> TestApp {
        let state = self.deployment.function_state_with(&function, table).await;
        TestApp {
            router: (function.router)(state.clone()),
            state,
            deployment: self.deployment.clone(),
            events: self.events.clone(),
            paystack: self.paystack.clone(),
        }
    }

    /// The table as the test's operator sees it: no IAM check, for fixtures and for reading back
    /// what the functions wrote.
    pub fn db(&self) -> &Db {
        &self.deployment.operator
    }

    /// `GET path` with `token`, and the request log line the function printed for it (what it cost
    /// the table: `db_reads`, `db_waited`, …).
    pub async fn get_logged(&self, path: &str, token: &str) -> (TestResponse, Value) {
        self.request_logged(Method::GET, path, None, token).await
    }

    /// [`TestApp::request`] with `token`, and the request log line the function printed for it.
    pub async fn request_logged(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: &str,
    ) -> (TestResponse, Value) {
        let (captured, guard) = kitchen::telemetry::Captured::install(None);
        let response = self.request(method, path, body, Some(token)).await;
        drop(guard);
        let mut lines: Vec<Value> = captured
            .lines()
            .into_iter()
            .filter(|line| line["message"] == "request")
            .collect();
        assert_eq!(lines.len(), 1, "one request line for {path}: {lines:?}");
        (response, lines.remove(0))
    }

    /// A customer's own list at `path` waits one table round trip (the session check beside its
    /// Query), and shows nothing once the session is gone.
    pub async fn assert_own_list_is_read_beside_the_session_check(
        &self,
        caller: &Caller,
        path: &str,
    ) {
        let (listed, line) = self.get_logged(path, &caller.access_token).await;
        listed.assert_status(200);
        assert_eq!(line["db_reads"], 2, "{path}: {line}");
        assert_eq!(line["db_waited"], 1, "{path}: {line}");
        self.db()
            .delete_session(&caller.user.id, &caller.session_id)
            .await
            .expect("deleting the session");
        let refused = self.get(path, Some(&caller.access_token)).await;
        refused.assert_problem(401);
        assert!(
            refused.json.get("items").is_none(),
            "{path}: {}",
            refused.text
        );
    }

    /// `admin` deactivates `user`, which ends every session of theirs.
    pub async fn deactivate(&self, admin: &Caller, user: &Caller) {
        self.patch(
            &format!("/admin/users/{}", user.user.id),
            &serde_json::json!({"active": false}),
            Some(&admin.access_token),
        )
        .await
        .assert_status(200);
    }

    /// Order `id` as the table holds it now (strongly consistent); the test fails if there is none.
    pub async fn stored_order(&self, id: &str) -> kitchen::db::StoredOrder {
        let parsed = kitchen::domain::OrderId::parse(id).expect("an order id");
        self.db()
            .get_order(&parsed)
            .await
            .expect("the table answers")
            .unwrap_or_else(|| panic!("order {id} is stored"))
    }

    /// The deployment's stack: its parameters and each function's environment.
    pub fn stack(&self) -> &Stack {
        &self.deployment.stack
    }

    /// Changes what the stack's SSM parameter named by template parameter `parameter` holds, as an
    /// operator does in AWS; a function reads it at its next cold start ([`TestApp::with_function`]).
    pub async fn put_stack_secret(&self, parameter: &str, value: &str) {
        let name = self
            .stack()
            .parameter(parameter)
            .unwrap_or_else(|| panic!("template.yaml has no parameter {parameter}"));
        let ssm = aws_sdk_ssm::Client::new(&kitchen::state::aws_sdk_config().await);
        put_secure_parameter(&ssm, &name, value).await;
    }

    /// The IAM grants this process's functions have used so far.
    pub fn iam_grants_used(&self) -> std::collections::BTreeSet<crate::iam::Grant> {
        self.deployment.gate.used()
    }

    /// The Paystack simulator's handle. Needs [`TestAppBuilder::paystack_sim`].
    pub fn paystack(&self) -> &paystack_sim::SimHandle {
        self.paystack
            .as_deref()
            .expect("build the app with paystack_sim()")
    }

    /// Serves the router over real HTTP on a free port of 127.0.0.1 until the test ends, for
    /// callers that are not the test itself (the simulator's webhooks). Returns its base URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let router = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }

    /// Every event published since the last call, in order. Needs [`TestAppBuilder::capture_events`].
    pub async fn published_events(&self) -> Vec<kitchen::events::OrderEvent> {
        let queue = self
            .events
            .as_ref()
            .expect("build the app with capture_events()");
        let sdk = kitchen::state::aws_sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&sqs_config(&sdk));
        let mut events = Vec::new();
        loop {
            let output = sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("moto answers");
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let body = message.body().expect("a message body");
                events.push(serde_json::from_str(body).expect("an OrderEvent"));
                if let Some(receipt) = message.receipt_handle() {
                    sqs.delete_message()
                        .queue_url(queue)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .expect("delete");
                }
            }
        }
        events
    }

    /// Sends one request through the router. `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(json).expect("JSON"))
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("a request")).await
    }

    /// Sends a request built by the test (raw bodies, odd headers).
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let (method, path) = (request.method().clone(), request.uri().path().to_string());
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if let Err(mismatch) =
            crate::openapi::check_response(&method, &path, status.as_u16(), content_type, &bytes)
        {
            panic!("{mismatch}; body: {}", String::from_utf8_lossy(&bytes));
        }
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        TestResponse {
            status,
            headers,
            json,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::GET, path, None, token).await
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.request(Method::POST, path, Some(body), token).await
    }

    pub async fn patch(&self, path: &str, body: &Value, token: Option<&str>) -> TestResponse {
        self.request(Method::PATCH, path, Some(body), token).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.request(Method::DELETE, path, None, token).await
    }

    /// Sends `body` and asserts that the API and the OpenAPI document agree on it: a body the
    /// document's request schema accepts is not refused as malformed (anything but 400), and one it
    /// refuses is answered 400. Returns the response for further checks.
    pub async fn agrees_with_document(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> TestResponse {
        let errors = crate::openapi::request_body_errors(&method, path, body);
        let response = self.request(method.clone(), path, Some(body), token).await;
        if errors.is_empty() {
            assert_ne!(
                response.status, 400,
                "openapi.json allows {method} {path} {body}, but the API refused it: {}",
                response.text
            );
        } else {
            assert_eq!(
                response.status,
                400,
                "openapi.json refuses {method} {path} {body} ({}), but the API answered: {}",
                errors.join("; "),
                response.text
            );
        }
        response
    }

    /// A user with [`TEST_PASSWORD`], a verified email and a live session, written straight to
    /// the table.
    pub async fn user(&self, role: Role) -> Caller {
        self.user_with(role, true).await
    }

    /// A customer as [`TestApp::user`] makes one, but whose email is not verified yet.
    pub async fn unverified_user(&self) -> Caller {
        self.user_with(Role::Customer, false).await
    }

    async fn user_with(&self, role: Role, email_verified: bool) -> Caller {
        let email = Email::parse(&format!(
            "user-{}@example.com",
            ulid::Ulid::new().to_string().to_lowercase()
        ))
        .expect("an email");
        let hash = kitchen::password::hash(&Password::parse(TEST_PASSWORD).expect("a password"))
            .await
            .expect("hashing");
        let now = kitchen::now();
        let user = NewUser {
            email: Some(email),
            role: Some(role),
            password_hash: Some(hash),
            email_verified,
            ..NewUser::default()
        }
        .into_user(now);
        let session_id = SessionId::new();
        let refresh = RefreshToken::generate(user.id.clone(), session_id.clone());
        let config = &self.state.config;
        let session = Session::start(
            &user,
            session_id.clone(),
            refresh.hash(),
            now,
            config.refresh_token_ttl,
            config.session_max_age,
        );
        self.db()
            .create_user(&user, Some(&session))
            .await
            .expect("creating a test user");
        // Signed with the stack's signing key: the function's own where it holds it (auth), else
        // the key in the stack's parameter, as the auth function of the same stack would sign.
        let stack_key;
        let keys = match self.state.tokens() {
            Ok(keys) => keys,
            Err(_) => {
                stack_key = kitchen::token::TokenKeys::from_pem(
                    &self.deployment.signing_key,
                    self.state.config.access_token_ttl,
                )
                .expect("the stack's signing key");
                &stack_key
            }
        };
        let access_token = keys
            .issue_access(&user.id, &session_id, role, now)
            .expect("a token");
        Caller {
            user,
            access_token,
            refresh_token: refresh.expose(),
            session_id,
        }
    }
}

/// A response, its body read as JSON (`Null` if empty or not JSON) and as text.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl TestResponse {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status.
    #[track_caller]
    pub fn assert_problem(&self, expected: u16) -> &Self {
        self.assert_status(expected);
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "a problem needs its content type; body: {}",
            self.text
        );
        assert_eq!(
            self.json["status"], expected,
            "problem status member; body: {}",
            self.text
        );
        assert!(
            self.json["title"].is_string() && self.json["type"].is_string(),
            "problem members: {}",
            self.text
        );
        if expected == 401 {
            assert_eq!(
                self.headers
                    .get(header::WWW_AUTHENTICATE)
                    .map(|v| v.as_bytes()),
                Some(&b"Bearer"[..])
            );
        }
        self
    }

    /// The field names of a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A dish for tests: open-ended from `from`, active, lunch, ₦2,500.00, unless changed after.
/// A new ULID of instant `at`: an id (order, payment, refund) as if it had been made then.
pub fn ulid_at(at: time::OffsetDateTime) -> String {
    ulid::Ulid::from_datetime(std::time::SystemTime::from(at)).to_string()
}

/// Values an order's `note` (or a move's) must refuse with a 400 naming it: empty or blank, over 280
/// characters, a control character other than a line break, an invisible format character, and
/// what is not a string.
pub fn not_notes() -> Vec<Value> {
    vec![
        serde_json::json!(""),
        serde_json::json!("   "),
        serde_json::json!("x".repeat(281)),
        serde_json::json!("tab\there"),
        serde_json::json!("carriage\rreturn"),
        serde_json::json!("zero\u{200b}width"),
        serde_json::json!("right-to-left \u{202e}override"),
        Value::Null,
        serde_json::json!(7),
        serde_json::json!(["a"]),
    ]
}

pub fn dish(name: &str, from: kitchen::domain::Date) -> kitchen::domain::Dish {
    use kitchen::domain::{Currency, Description, DishId, DishName, DishType, Price};
    let now = kitchen::now();
    kitchen::domain::Dish {
        id: DishId::new(),
        name: DishName::parse(name).expect("a dish name"),
        description: Description::parse("A test dish").expect("a description"),
        price: Price::parse(250_000).expect("a price"),
        currency: Currency::Ngn,
        dish_type: DishType::Lunch,
        tags: Vec::new(),
        available_from: from,
        available_until: None,
        daily_portions: None,
        active: true,
        created_at: now,
        updated_at: now,
    }
}

/// `dish` with its name and description exactly as given, unchecked: what a rule older than today's
/// may have stored (a line break in a name, say). Made as the table's reads make a stored dish, which
/// take its text as written.
pub fn dish_stored_unchecked(
    dish: &kitchen::domain::Dish,
    name: &str,
    description: &str,
) -> kitchen::domain::Dish {
    let mut stored = serde_json::to_value(dish).expect("a dish as JSON");
    stored["name"] = Value::from(name);
    stored["description"] = Value::from(description);
    serde_json::from_value(stored).expect("a stored dish reads whatever its text")
}

impl TestApp {
    /// Writes dishes straight to the table.
    /// Sets a user's names and address to exactly these texts, unchecked, as a rule older than
    /// today's may have stored them (written by the operator, through the profile update).
    pub async fn store_profile_unchecked(
        &self,
        id: &kitchen::domain::UserId,
        first_name: &str,
        last_name: &str,
        address: &str,
    ) {
        use kitchen::domain::Patch;
        let user = self
            .db()
            .get_user(id)
            .await
            .expect("the table answers")
            .expect("the user exists");
        let mut stored = serde_json::to_value(&user).expect("a user as JSON");
        stored["first_name"] = Value::from(first_name);
        stored["last_name"] = Value::from(last_name);
        stored["address"] = Value::from(address);
        let old: User =
            serde_json::from_value(stored).expect("a stored user reads whatever its text");
        let changes = kitchen::db::ProfileChanges {
            first_name: Patch::Value(old.first_name.expect("set above")),
            last_name: Patch::Value(old.last_name.expect("set above")),
            address: Patch::Value(old.address.expect("set above")),
            ..Default::default()
        };
        self.db()
            .update_profile(id, &changes, kitchen::now())
            .await
            .expect("the old profile is written");
    }

    pub async fn add_dishes(&self, dishes: &[kitchen::domain::Dish]) {
        for dish in dishes {
            self.db()
                .create_dish(dish)
                .await
                .expect("creating a test dish");
        }
    }

    /// The kitchen's today, as the functions compute it.
    /// Changes the kitchen's settings as `PATCH /admin/kitchen` would (`change` is its body),
    /// straight in the table; the settings now in force.
    pub async fn set_kitchen(&self, change: Value) -> kitchen::domain::KitchenSettings {
        let change: kitchen::domain::KitchenChange =
            serde_json::from_value(change).expect("a kitchen change");
        let stored = self.db().kitchen().await.expect("the kitchen's settings");
        let current = kitchen::app::calendar::in_force(
            stored.settings.clone(),
            &self.state.config.kitchen_zone,
        );
        let next = change.apply(current).expect("a valid change");
        assert!(
            self.db()
                .put_kitchen(&stored, &next)
                .await
                .expect("a write"),
            "nothing else changes the settings in a test"
        );
        next
    }

    pub fn today(&self) -> kitchen::domain::Date {
        kitchen::domain::Date::today_in(&self.state.config.kitchen_zone)
    }

    /// Follows `next_cursor` from `path` to the end; returns every item and the number of pages.
    pub async fn collect_pages(&self, path: &str, token: Option<&str>) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut next: Option<String> = None;
        loop {
            let url = match &next {
                None => path.to_string(),
                Some(cursor) => {
                    let joiner = if path.contains('?') { '&' } else { '?' };
                    format!("{path}{joiner}cursor={cursor}")
                }
            };
            let response = self.get(&url, token).await;
            response.assert_status(200);
            pages += 1;
            items.extend(
                response.json["items"]
                    .as_array()
                    .expect("a page of items")
                    .iter()
                    .cloned(),
            );
            match response.json["next_cursor"].as_str() {
                Some(cursor) => next = Some(cursor.to_string()),
                None => break,
            }
            assert!(pages < 1000, "pagination does not end");
        }
        (items, pages)
    }
}

impl TestApp {
    /// `order` paid through the Paystack simulator (needs [`TestAppBuilder::paystack_sim`] and a
    /// function that calls Paystack): a payment started, charged at the simulator without its
    /// webhook, and recorded by the path verify takes. The payment as recorded.
    pub async fn charge(&self, order: &kitchen::domain::Order) -> kitchen::domain::Payment {
        let payment = self.started_payment(order).await;
        let paystack = self
            .state
            .paystack()
            .expect("a function that calls Paystack");
        self.paystack()
            .state()
            .succeed_without_webhook(payment.reference.as_str(), Default::default())
            .expect("charged at the simulator");
        let charge = paystack.verify(&payment.reference).await.expect("verify");
        let stored = self
            .db()
            .get_payment(&payment.reference)
            .await
            .expect("a read")
            .expect("the payment");
        let (_, recorded) = self
            .state
            .orders()
            .record_charge(stored, Default::default(), &charge)
            .await
            .expect("recorded");
        recorded
    }

    /// A payment of `order` started at the Paystack simulator as the payments function starts one:
    /// stored pending, initialized, and stored again with its checkout link.
    /// An item as the table holds it, every attribute (including those no domain type reads).
    pub async fn raw_item(&self, pk: &str, sk: &str) -> Option<kitchen::db::Item> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.db()
            .client()
            .get_item()
            .table_name(self.db().table_name())
            .key("pk", AttributeValue::S(pk.into()))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("a read of the table")
            .item
    }

    pub async fn started_payment(
        &self,
        order: &kitchen::domain::Order,
    ) -> kitchen::domain::Payment {
        self.started_payment_at(order, kitchen::now()).await
    }

    /// [`TestApp::started_payment`] as if it had been started at `started_at` (its reference, a
    /// ULID, and its times are of then): a payment left pending for hours without waiting.
    pub async fn started_payment_at(
        &self,
        order: &kitchen::domain::Order,
        started_at: time::OffsetDateTime,
    ) -> kitchen::domain::Payment {
        let mut payment = kitchen::domain::Payment::start(order, started_at);
        payment.reference = kitchen::domain::PaymentReference::parse(&ulid_at(started_at))
            .expect("a ULID is a payment reference");
        self.db().create_payment(&payment).await.expect("a payment");
        let link = self
            .state
            .paystack()
            .expect("a function that calls Paystack")
            .initialize(&payment, "customer@example.com")
            .await
            .expect("initialize");
        let started = kitchen::domain::Payment {
            authorization_url: Some(link.authorization_url),
            access_code: Some(link.access_code),
            ..payment
        };
        self.db()
            .payment_started(&started, None)
            .await
            .expect("the started payment");
        started
    }

    /// An unpaid order of `customer`'s for today: `portions` of a ₦2,500.00 dish, written straight
    /// to the table (no menu needed).
    pub async fn unpaid_order(&self, customer: &Caller, portions: u32) -> kitchen::domain::Order {
        self.unpaid_order_placed(customer, portions, kitchen::now())
            .await
    }

    /// [`TestApp::unpaid_order`] as if it had been placed at `placed_at` (its id and every time in
    /// it are of then): the unpaid-order expiry without waiting for it.
    pub async fn unpaid_order_placed(
        &self,
        customer: &Caller,
        portions: u32,
        placed_at: time::OffsetDateTime,
    ) -> kitchen::domain::Order {
        use kitchen::domain::{Actor, Address, Currency, DishId, Money, OrderId, Quantity};
        let unit_price = Money::from_minor_units(250_000);
        let quantity = Quantity::parse(portions).expect("1 to 50 portions");
        let item = kitchen::domain::OrderItem {
            dish_id: DishId::new(),
            dish_name: "Jollof".into(),
            unit_price,
            quantity,
            line_total: unit_price.times(quantity),
            currency: Currency::Ngn,
        };
        let mut order = kitchen::app::pricing::new_order(
            &customer.user,
            vec![item],
            unit_price.times(quantity),
            self.today(),
            Address::parse("12 Marina, Lagos").expect("an address"),
            Actor::Customer,
            placed_at,
        );
        order.id = OrderId::parse(&ulid_at(placed_at)).expect("a ULID is an order id");
        self.db()
            .place_order(&order, None, None, &Default::default())
            .await
            .expect("placing a test order");
        order
    }
}
