//! `make bench`: cold starts, warm overhead, table round trips, memory and package sizes of the seven
//! functions, measured on their release binaries against DynamoDB Local, moto and the Paystack
//! simulator, each function run as Lambda runs it (a process polling a Runtime API; see `runtime`).
//!
//! Writes `target/bench/report.json` and prints a table. It needs the stand-ins up, the table and
//! topic created and seeded (`kitchen-local setup`), and the variables `scripts/bench.sh` exports.

mod direct;
mod event;
mod report;
mod runtime;

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use devkit::stack::Stack;
use direct::{Calls, Direct, Item, key, s};
use report::{Report, RouteFigures, Samples};
use runtime::{Answer, Function};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The functions, in the order the report lists them.
const FUNCTIONS: [&str; 7] = [
    "auth",
    "dishes",
    "orders",
    "payments",
    "admin",
    "paystack-webhook",
    "notifier",
];

#[derive(Parser, Debug)]
#[command(about = "Benchmarks the functions' release binaries on the local stand-ins")]
struct Args {
    /// Where the release binaries are (the seven functions and hello-lambda).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Fresh process starts per binary.
    #[arg(long, default_value_t = 20)]
    starts: usize,
    /// Warm invocations per measured route.
    #[arg(long, default_value_t = 500)]
    invocations: usize,
    /// Where `make package` left the zips (target/lambda/<function>/bootstrap.zip).
    #[arg(long, default_value = "target/lambda")]
    zip_dir: PathBuf,
    #[arg(long, default_value = "target/bench/report.json")]
    out: PathBuf,
}

/// Each function's environment: exactly what its template.yaml entry gives it (resolved as the local
/// stack resolves it), its local credentials, and every AWS call through the IAM gate at `gate`, as
/// under `make dev`. One difference, on purpose: the secrets are handed in the environment
/// (`TOKEN_SIGNING_KEY`, `TOKEN_PUBLIC_KEYS`, `CURSOR_KEY`, `PAYSTACK_SECRET_KEY`) instead of the SSM parameter names, so that the cold-start
/// figures leave out SSM's round trips and stay comparable with earlier runs. hello-lambda gets no
/// more than a `PATH`.
fn environments(
    stack: &Stack,
    gate: &str,
    secrets: &[(&str, &str, String)],
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let mut all = BTreeMap::new();
    let path = (
        "PATH".to_string(),
        std::env::var("PATH").unwrap_or_default(),
    );
    all.insert("hello-lambda".to_string(), vec![path.clone()]);
    for name in FUNCTIONS {
        let function = stack.template().function(name)?;
        let mut env = stack.process_environment(&function, gate)?;
        for (parameter_variable, value_variable, value) in secrets {
            if env.remove(*parameter_variable).is_some() {
                env.insert((*value_variable).to_string(), value.clone());
            }
        }
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        env.push(path.clone());
        all.insert(name.to_string(), env);
    }
    Ok(all)
}

/// Starts the IAM gate in front of the stand-ins on a free port; returns its URL.
async fn start_gate(stack: &Stack) -> Result<String> {
    let gate = devkit::iam::Gate::new(stack)?;
    let upstreams = devkit::iam_proxy::Upstreams {
        dynamodb: var("AWS_ENDPOINT_URL_DYNAMODB")?,
        moto: var("AWS_ENDPOINT_URL_SNS")?,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(devkit::iam_proxy::serve(listener, gate, upstreams));
    Ok(url)
}

fn var(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set (run through scripts/bench.sh)"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let table = var("TABLE_NAME")?;
    let topic_arn = var("TOPIC_ARN")?;
    let secret = var("PAYSTACK_SECRET_KEY")?;
    let (sim_addr, _sim) = paystack_sim::try_spawn(paystack_sim::SimConfig::parse_from([
        "paystack-sim",
        "--port",
        "0",
        "--secret-key",
        &secret,
        // Webhooks are sent by the bench itself, so the simulator's go nowhere.
        "--webhook-url",
        "http://127.0.0.1:9/unused",
    ]))
    .await?;
    let stack = Stack::new(
        &devkit::stack::Template::from_repo()?,
        &devkit::stack::LocalBindings::from_env()
            .parameter("PaystackBaseUrl", format!("http://{sim_addr}"))
            .parameter("PaystackCallbackUrl", "http://127.0.0.1/paid")
            .parameter("KitchenPhone", var("KITCHEN_PHONE")?)
            .parameter("LogLevel", "info"),
    )?;
    let gate = start_gate(&stack).await?;
    let envs = environments(
        &stack,
        &gate,
        &[
            (
                "TOKEN_SIGNING_KEY_PARAMETER",
                "TOKEN_SIGNING_KEY",
                var("TOKEN_SIGNING_KEY")?,
            ),
            (
                "TOKEN_PUBLIC_KEYS_PARAMETER",
                "TOKEN_PUBLIC_KEYS",
                var("TOKEN_PUBLIC_KEYS")?,
            ),
            ("CURSOR_KEY_PARAMETER", "CURSOR_KEY", var("CURSOR_KEY")?),
            (
                "PAYSTACK_SECRET_PARAMETER",
                "PAYSTACK_SECRET_KEY",
                secret.clone(),
            ),
        ],
    )?;
    let env = |name: &str| envs[name].as_slice();
    let binary = |name: &str| args.bin_dir.join(name);
    for name in FUNCTIONS.iter().chain(&["hello-lambda"]) {
        ensure!(
            binary(name).is_file(),
            "{} is missing; build the release binaries first",
            binary(name).display()
        );
    }

    // The direct requests go through the gate too (as the operator), so that both sides of the
    // warm ratio pay its hop.
    let sdk = kitchen::state::aws_sdk_config()
        .await
        .to_builder()
        .endpoint_url(&gate)
        .build();
    let direct = Direct::new(&sdk, &table, &topic_arn);
    // The cold-start baseline opens a new connection for every request, as a function that has
    // just started must; the client itself is warmed once below, so its own first-use costs stay out.
    let fresh_connections = sdk
        .to_builder()
        .http_client(
            aws_smithy_http_client::Builder::new()
                .pool_max_idle_per_host(0)
                .build_http(),
        )
        .build();
    let cold_direct_client = Direct::new(&fresh_connections, &table, &topic_arn);

    let mut report = Report::default();

    // ------------------------------------------------------------------ warm processes and fixtures
    eprintln!("bench: starting the seven functions");
    let mut warm = BTreeMap::new();
    for name in FUNCTIONS {
        let function = Function::start(name, &binary(name), env(name)).await?;
        function.api.first_poll(Duration::from_secs(10)).await?;
        warm.insert(name, function);
    }
    let f = |name: &str| &warm[name];
    let fixtures = Fixtures::create(f("auth"), f("dishes"), f("orders")).await?;
    eprintln!(
        "bench: fixtures ready (customer {})",
        fixtures.customer.user_id
    );

    // ------------------------------------------------------------------ cold starts
    let cold_events = cold_events(&fixtures, &secret, &topic_arn);
    eprintln!(
        "bench: cold starts, {} per binary (hello-lambda and the seven)",
        args.starts
    );
    let today = fixtures.today.to_string();
    for name in FUNCTIONS {
        cold_direct_requests(name, &cold_direct_client, &fixtures, &today).await?;
    }
    let mut cold: BTreeMap<&str, (Samples, Samples)> = BTreeMap::new();
    let mut cold_direct: BTreeMap<&str, Samples> = BTreeMap::new();
    for round in 0..args.starts {
        for name in std::iter::once("hello-lambda").chain(FUNCTIONS) {
            let event = cold_events
                .get(name)
                .cloned()
                .unwrap_or_else(|| json!({"hello": "world"}));
            let started = cold_start(name, &binary(name), env(name), &event)
                .await
                .with_context(|| format!("cold start {round} of {name}"))?;
            let entry = cold.entry(name).or_default();
            entry.0.push(started.init);
            entry.1.push(started.first);
            if name != "hello-lambda" {
                let timer = Instant::now();
                let calls =
                    cold_direct_requests(name, &cold_direct_client, &fixtures, &today).await?;
                cold_direct.entry(name).or_default().push(timer.elapsed());
                report.cold_baseline(name, calls, started.table);
            }
        }
    }
    let hello_init = cold["hello-lambda"].0.median_ms();
    let hello_first = cold["hello-lambda"].1.median_ms();
    report.hello = json!({
        "init_ms_p50": hello_init,
        "first_response_ms_p50": hello_first,
    });
    for name in FUNCTIONS {
        let (init, first) = &cold[name];
        let direct_ms = cold_direct[name].median_ms();
        let figures = report.function(name);
        figures.init_ms_p50 = init.median_ms();
        figures.first_response_ms_p50 = first.median_ms();
        figures.init_ratio = init.median_ms() / hello_init;
        figures.cold_direct_ms_p50 = Some(direct_ms);
        figures.first_answer_excess_ms = Some(first.median_ms() - hello_first - direct_ms);
    }

    // ------------------------------------------------------------------ cold starts with SSM
    // As deployed: each function gets its template's SSM parameter names and reads the values
    // (moto's SSM, through the IAM gate) at its cold start. `kitchen-local setup`, which
    // scripts/bench.sh runs first, stored the same keys there as SecureStrings.
    let ssm_envs = environments(&stack, &gate, &[])?;
    eprintln!(
        "bench: cold starts with the secrets in SSM, {} per function",
        args.starts
    );
    let mut cold_ssm: BTreeMap<&str, (Samples, Samples)> = BTreeMap::new();
    for round in 0..args.starts {
        for name in FUNCTIONS {
            let event = cold_events[name].clone();
            let started = cold_start(name, &binary(name), &ssm_envs[name], &event)
                .await
                .with_context(|| format!("cold start {round} of {name} with SSM"))?;
            let entry = cold_ssm.entry(name).or_default();
            entry.0.push(started.init);
            entry.1.push(started.first);
        }
    }
    for (name, (init, first)) in &cold_ssm {
        let figures = report.function(name);
        figures.init_ms_p50_ssm = Some(init.median_ms());
        figures.first_response_ms_p50_ssm = Some(first.median_ms());
    }

    // ------------------------------------------------------------------ a cold sign-in
    // POST /auth/login as the first request of a fresh auth process, production Argon2id.
    let login = login_event(&fixtures.customer_email, CUSTOMER_PASSWORD);
    let (mut login_first, mut login_in_function) = (Samples::default(), Samples::default());
    for round in 0..args.starts {
        let started = cold_start("auth", &binary("auth"), env("auth"), &login)
            .await
            .with_context(|| format!("cold sign-in {round}"))?;
        login_first.push(started.first);
        login_in_function.push(started.in_function);
    }
    report.login_cold = Some((login_first, login_in_function));

    // ------------------------------------------------------------------ warm routes
    let n = args.invocations;
    eprintln!("bench: warm routes, {n} invocations each, interleaved with the direct requests");

    // GET /dishes
    let mut figures = RouteFigures::new("dishes", "GET /dishes");
    let request = event::http("GET", "/dishes", "/dishes", None, &[], None);
    for _ in 0..n {
        let answer = expect(f("dishes"), &request, 200).await?;
        figures.record(f("dishes"), &answer).await?;
        let started = Instant::now();
        let calls = direct.menu(&today, 20).await?;
        figures.direct(started.elapsed(), calls);
    }
    report.route(figures);

    // GET /orders/{id}
    let mut figures = RouteFigures::new("orders", "GET /orders/{id}");
    let customer = &fixtures.customer;
    let order_id = fixtures.order_id.clone();
    let request = event::http(
        "GET",
        "/orders/{id}",
        &format!("/orders/{order_id}"),
        Some(&customer.access),
        &[],
        None,
    );
    for _ in 0..n {
        let answer = expect(f("orders"), &request, 200).await?;
        figures.record(f("orders"), &answer).await?;
        let started = Instant::now();
        let calls = direct
            .get_order(
                customer.session_key(),
                customer.user_key(),
                key(format!("ORDER#{order_id}"), "ORDER"),
            )
            .await?;
        figures.direct(started.elapsed(), calls);
    }
    report.route(figures);

    // POST /auth/refresh: each answer's refresh token is the next request's. The direct requests
    // rotate a copy of the session, so the two chains do not meet.
    let mut figures = RouteFigures::new("auth", "POST /auth/refresh");
    let mut refresh = customer.refresh.clone();
    let mirror = fixtures.mirror_session(&direct).await?;
    let mut mirror_hash = mirror.hash.clone();
    for i in 0..n {
        let request = event::http(
            "POST",
            "/auth/refresh",
            "/auth/refresh",
            None,
            &[],
            Some(&json!({"refresh_token": refresh})),
        );
        let answer = expect(f("auth"), &request, 200).await?;
        refresh = event::response(&answer.body).1["refresh_token"]
            .as_str()
            .context("no refresh_token")?
            .to_string();
        figures.record(f("auth"), &answer).await?;
        let next_hash = format!("{:064x}", i + 1);
        let started = Instant::now();
        let calls = direct
            .refresh(
                mirror.key.clone(),
                customer.user_key(),
                &mirror_hash,
                &next_hash,
                kitchen::now().unix_timestamp(),
            )
            .await?;
        figures.direct(started.elapsed(), calls);
        mirror_hash = next_hash;
    }
    report.route(figures);

    // POST /orders, from a one-line cart (the line added untimed before each) and with explicit
    // items, each with an Idempotency-Key.
    let template = fixtures.order_templates(&direct, f("orders")).await?;
    let tomorrow = fixtures.today.add_days(1).to_string();
    let mut placed = Vec::with_capacity(2 * n);
    for from_cart in [true, false] {
        let route = if from_cart {
            "POST /orders (cart)"
        } else {
            "POST /orders (items)"
        };
        let mut figures = RouteFigures::new("orders", route);
        let mut body =
            json!({"delivery_date": tomorrow, "delivery_address": "12 Admiralty Way, Lekki"});
        if !from_cart {
            body["items"] = json!([{"dish_id": fixtures.dish_id, "quantity": 2}]);
        }
        for i in 0..n {
            if from_cart {
                fixtures.add_to_cart(f("orders"), customer).await?;
            }
            let key = format!("bench-order-{from_cart}-{i}");
            let request = event::http(
                "POST",
                "/orders",
                "/orders",
                Some(&customer.access),
                &[("idempotency-key", &key)],
                Some(&body),
            );
            let answer = expect(f("orders"), &request, 201).await?;
            placed.push(event::response(&answer.body).1);
            figures.record(f("orders"), &answer).await?;
            if from_cart {
                direct.put(template.cart.clone()).await?;
            }
            let started = Instant::now();
            let calls = direct
                .place_order(direct::PlaceOrder {
                    session: template.session.clone(),
                    user: template.user.clone(),
                    cart: direct::key_of(&template.cart),
                    cart_version: from_cart.then_some(template.cart_version.as_str()),
                    dishes: template.dishes.clone(),
                    order: template.fresh_order(),
                    idempotency: template.fresh_idempotency(i),
                    event: &template.event,
                })
                .await?;
            figures.direct(started.elapsed(), calls);
        }
        report.route(figures);
    }

    // The webhook: a signed charge.success for each order just placed, after its payment was
    // started (untimed) through the payments function and the simulator.
    let mut references = Vec::with_capacity(n);
    for order in placed.iter().take(n) {
        let id = order["id"].as_str().context("order id")?;
        let request = event::http(
            "POST",
            "/orders/{id}/payments",
            &format!("/orders/{id}/payments"),
            Some(&customer.access),
            &[],
            None,
        );
        let answer = expect(f("payments"), &request, 201).await?;
        let (_, payment) = event::response(&answer.body);
        references.push((
            payment["reference"]
                .as_str()
                .context("reference")?
                .to_string(),
            payment["amount"].as_i64().context("amount")?,
            id.to_string(),
        ));
    }
    let paid = template.payment_template(&direct, &references[0]).await?;
    let mut figures = RouteFigures::new("paystack-webhook", "POST /webhooks/paystack");
    for (reference, amount, order_id) in &references {
        let body = json!({
            "event": "charge.success",
            "data": {
                "id": 4099260516u64, "domain": "test", "status": "success", "reference": reference,
                "amount": amount, "currency": "NGN", "channel": "card", "gateway_response": "Successful",
                "paid_at": kitchen::now().format(&time::format_description::well_known::Rfc3339)?,
                "metadata": {"order_id": order_id, "user_id": customer.user_id},
            }
        })
        .to_string();
        let signature = paystack_sim::sign(&secret, body.as_bytes());
        let request = event::http_raw(
            "/webhooks/paystack",
            "/webhooks/paystack",
            &[("x-paystack-signature", &signature)],
            &body,
        );
        let answer = expect(f("paystack-webhook"), &request, 200).await?;
        figures.record(f("paystack-webhook"), &answer).await?;
        let (payment, order) = paid.fresh();
        direct.put(payment.clone()).await?;
        direct.put(order.clone()).await?;
        let started = Instant::now();
        let calls = direct
            .record_payment(payment, order, template.user.clone(), &template.event)
            .await?;
        figures.direct(started.elapsed(), calls);
    }
    report.route(figures);

    // Routes measured for their round trips and to load the remaining functions (memory).
    // POST /auth/login hashes with the production Argon2id parameters: its time is the password check.
    let others: [(&str, &str, Value, u16); 6] = [
        (
            "auth",
            "GET /me",
            event::http("GET", "/me", "/me", Some(&customer.access), &[], None),
            200,
        ),
        ("auth", "POST /auth/login", login, 200),
        (
            "payments",
            "GET /payments",
            event::http(
                "GET",
                "/payments",
                "/payments",
                Some(&customer.access),
                &[],
                None,
            ),
            200,
        ),
        (
            "admin",
            "GET /admin/orders",
            event::http(
                "GET",
                "/admin/orders",
                "/admin/orders",
                Some(&fixtures.admin.access),
                &[],
                None,
            ),
            200,
        ),
        (
            "admin",
            "GET /admin/payments",
            event::http(
                "GET",
                "/admin/payments",
                "/admin/payments",
                Some(&fixtures.admin.access),
                &[],
                None,
            ),
            200,
        ),
        (
            "dishes",
            "GET /dishes/{id}",
            event::http(
                "GET",
                "/dishes/{id}",
                &format!("/dishes/{}", fixtures.dish_id),
                None,
                &[],
                None,
            ),
            200,
        ),
    ];
    for (function, route, request, status) in &others {
        let mut figures = RouteFigures::new(function, route);
        for _ in 0..n.min(200) {
            let answer = expect(f(function), request, *status).await?;
            figures.record(f(function), &answer).await?;
        }
        report.route(figures);
    }

    // The notifier: per-event time for order.placed (one SMS).
    let mut per_event = Samples::default();
    let notice = cold_events["notifier"].clone();
    for _ in 0..n.min(200) {
        let answer = f("notifier").invoke(&notice).await?;
        per_event.push(answer.in_function);
    }
    report.function("notifier").per_event_ms_p50 = Some(per_event.median_ms());

    for (name, function) in &warm {
        report.function(name).rss_mb = function.peak_rss_mb()?;
    }
    for name in FUNCTIONS {
        report.function(name).zip_mb = zip_mb(&args.zip_dir, name);
    }
    for (_, function) in warm {
        function.stop().await;
    }

    report.finish();
    report.print();
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_vec_pretty(&report.to_json())?)?;
    eprintln!("bench: report written to {}", args.out.display());
    Ok(())
}

/// Starts `binary` afresh, hands it `event`, and stops it: (start → first poll, start → answer,
/// the answer's time inside the function).
async fn cold_start(
    name: &str,
    binary: &Path,
    env: &[(String, String)],
    event: &Value,
) -> Result<Cold> {
    let function = Function::start(name, binary, env).await?;
    let polled = function.api.first_poll(Duration::from_secs(10)).await?;
    let answer = function.api.invoke(event).await?;
    if answer.error {
        bail!("{name}: {}", String::from_utf8_lossy(&answer.body));
    }
    // hello-lambda has no table, and the notifier serves SNS events: neither prints a request line.
    let table = match name {
        "hello-lambda" => None,
        "notifier" => Some(Calls::default()),
        _ => function.request_log(&answer.request_id).await.map(|line| {
            let count = |field: &str| line[field].as_u64().unwrap_or(0) as u32;
            Calls {
                reads: count("db_reads"),
                writes: count("db_writes"),
            }
        }),
    };
    let started = function.started_at;
    function.stop().await;
    Ok(Cold {
        init: polled - started,
        first: answer.answered_at - started,
        in_function: answer.in_function,
        table,
    })
}

/// One cold start's figures.
struct Cold {
    /// Start → first poll for an event.
    init: Duration,
    /// Start → the first answer.
    first: Duration,
    in_function: Duration,
    /// The table requests its request log line counted, if it printed one.
    table: Option<Calls>,
}

/// The table (and SNS) requests of each function's cold-start event ([`cold_events`]), made
/// directly by the bench: what [`report::FunctionFigures::first_answer_excess_ms`] takes off the first
/// answer. They go out on new connections, as a cold function's do, from a client that has
/// already made them once.
async fn cold_direct_requests(
    name: &str,
    direct: &Direct,
    fixtures: &Fixtures,
    today: &str,
) -> Result<Calls> {
    let customer = &fixtures.customer;
    match name {
        "auth" => {
            direct
                .session_check(customer.session_key(), customer.user_key())
                .await
        }
        "dishes" => direct.menu(today, 20).await,
        "orders" => {
            direct
                .get_order(
                    customer.session_key(),
                    customer.user_key(),
                    key(format!("ORDER#{}", fixtures.order_id), "ORDER"),
                )
                .await
        }
        "payments" => {
            direct
                .list_beside_session(
                    customer.session_key(),
                    customer.user_key(),
                    "gsi1",
                    &format!("PAYMENTS#{}", customer.user_id),
                    20,
                )
                .await
        }
        "admin" => {
            let admin = &fixtures.admin;
            direct
                .list_beside_session(admin.session_key(), admin.user_key(), "gsi3", "ORDERS", 20)
                .await
        }
        "paystack-webhook" => direct.unknown_payment(UNKNOWN_REFERENCE).await,
        "notifier" => {
            direct
                .sms("+2348012345678", "Order received: Ada, we have your order.")
                .await
        }
        other => anyhow::bail!("no cold-start baseline for {other}"),
    }
}

/// The reference of the webhook's cold-start event, which no payment has.
const UNKNOWN_REFERENCE: &str = "01JD3XB2N6P8R4S7T1V5W9X3YZ";

/// Invokes `request` and insists on `status`.
async fn expect(function: &Function, request: &Value, status: u16) -> Result<Answer> {
    let answer = function.invoke(request).await?;
    let (got, body) = event::response(&answer.body);
    ensure!(
        got == status,
        "{} answered {got} (expected {status}) to {} {}: {body}",
        function.name,
        request["requestContext"]["http"]["method"],
        request["rawPath"]
    );
    Ok(answer)
}

/// One cold-start event per function: a real request that reads the table.
fn cold_events(
    fixtures: &Fixtures,
    secret: &str,
    topic_arn: &str,
) -> BTreeMap<&'static str, Value> {
    let customer = &fixtures.customer;
    let webhook_body = json!({
        "event": "charge.success",
        "data": {"status": "success", "reference": UNKNOWN_REFERENCE, "amount": 100, "currency": "NGN"}
    })
    .to_string();
    let signature = paystack_sim::sign(secret, webhook_body.as_bytes());
    BTreeMap::from([
        (
            "auth",
            event::http("GET", "/me", "/me", Some(&customer.access), &[], None),
        ),
        (
            "dishes",
            event::http("GET", "/dishes", "/dishes", None, &[], None),
        ),
        (
            "orders",
            event::http(
                "GET",
                "/orders/{id}",
                &format!("/orders/{}", fixtures.order_id),
                Some(&customer.access),
                &[],
                None,
            ),
        ),
        (
            "payments",
            event::http(
                "GET",
                "/payments",
                "/payments",
                Some(&customer.access),
                &[],
                None,
            ),
        ),
        (
            "admin",
            event::http(
                "GET",
                "/admin/orders",
                "/admin/orders",
                Some(&fixtures.admin.access),
                &[],
                None,
            ),
        ),
        (
            "paystack-webhook",
            event::http_raw(
                "/webhooks/paystack",
                "/webhooks/paystack",
                &[("x-paystack-signature", &signature)],
                &webhook_body,
            ),
        ),
        (
            "notifier",
            event::sns(
                topic_arn,
                &json!({
                    "type": "order.placed", "order_id": fixtures.order_id, "user_id": customer.user_id,
                    "status": "pending_payment", "total": 350000, "currency": "NGN",
                    "delivery_date": "2026-11-24", "phone": "+2348012345678",
                    "customer_name": "Ada Obi", "occurred_at": "2026-11-23T09:15:02Z"
                }),
            ),
        ),
    ])
}

fn zip_mb(zip_dir: &Path, name: &str) -> Option<f64> {
    let path = zip_dir.join(name).join("bootstrap.zip");
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.len() as f64 / (1024.0 * 1024.0))
}

/// A signed-in customer.
struct Customer {
    user_id: String,
    session_id: String,
    access: String,
    refresh: String,
}

impl Customer {
    fn session_key(&self) -> Item {
        key(
            format!("USER#{}", self.user_id),
            format!("SESSION#{}", self.session_id),
        )
    }

    fn user_key(&self) -> Item {
        key(format!("USER#{}", self.user_id), "PROFILE")
    }

    async fn register(auth: &Function, email: &str) -> Result<Self> {
        let request = event::http(
            "POST",
            "/auth/register",
            "/auth/register",
            None,
            &[],
            Some(&json!({
                "email": email, "password": CUSTOMER_PASSWORD, "first_name": "Ada",
                "last_name": "Obi", "phone": "+2348012345678"
            })),
        );
        let answer = expect(auth, &request, 201).await?;
        let customer = Self::from_tokens(&event::response(&answer.body).1)?;
        // Ordering and paying need a verified email: open the link moto's SES kept, as a customer.
        let token = devkit::testing::emails_to(email)
            .await
            .iter()
            .rev()
            .find_map(|sent| sent.link_token("/auth/email/verify"))
            .context("the verification email")?;
        let verify = event::http(
            "POST",
            "/auth/email/verify",
            "/auth/email/verify",
            None,
            &[],
            Some(&json!({"token": token})),
        );
        expect(auth, &verify, 200).await?;
        Ok(customer)
    }

    fn from_tokens(body: &Value) -> Result<Self> {
        let access = body["access_token"]
            .as_str()
            .context("access_token")?
            .to_string();
        let refresh = body["refresh_token"]
            .as_str()
            .context("refresh_token")?
            .to_string();
        let keys = kitchen::token::TokenVerifier::from_pem(&var("TOKEN_PUBLIC_KEYS")?)
            .context("TOKEN_PUBLIC_KEYS")?;
        let claims = keys.verify_access(&access).context("access token claims")?;
        Ok(Self {
            user_id: claims.sub,
            session_id: claims.sid,
            access,
            refresh,
        })
    }
}

/// `POST /auth/login` with `email` and `password`.
fn login_event(email: &str, password: &str) -> Value {
    event::http(
        "POST",
        "/auth/login",
        "/auth/login",
        None,
        &[],
        Some(&json!({"email": email, "password": password})),
    )
}

/// The bench customers' password.
const CUSTOMER_PASSWORD: &str = "bench password 123";

/// What the measured routes need: customers, a dish, an order, an admin token.
struct Fixtures {
    customer: Customer,
    customer_email: String,
    /// A second customer whose cart and session the direct requests use.
    mirror: Customer,
    admin: Customer,
    dish_id: String,
    order_id: String,
    today: kitchen::domain::Date,
}

impl Fixtures {
    async fn create(auth: &Function, dishes: &Function, orders: &Function) -> Result<Self> {
        let run = ulid::Ulid::new().to_string().to_lowercase();
        let customer_email = format!("bench-{run}@example.com");
        let customer = Customer::register(auth, &customer_email).await?;
        let mirror = Customer::register(auth, &format!("bench-mirror-{run}@example.com")).await?;
        let login = login_event(&var("ADMIN_EMAIL")?, &var("ADMIN_PASSWORD")?);
        let answer = expect(auth, &login, 200).await?;
        let admin = Customer::from_tokens(&event::response(&answer.body).1)?;
        let menu = expect(
            dishes,
            &event::http("GET", "/dishes", "/dishes", None, &[], None),
            200,
        )
        .await?;
        let dish_id = event::response(&menu.body).1["items"][0]["id"]
            .as_str()
            .context("the menu is empty; run kitchen-local setup")?
            .to_string();
        let zone = jiff::tz::TimeZone::get(
            &std::env::var("KITCHEN_TIMEZONE").unwrap_or_else(|_| "Africa/Lagos".into()),
        )?;
        let mut fixtures = Self {
            customer,
            customer_email,
            mirror,
            admin,
            dish_id,
            order_id: String::new(),
            today: kitchen::domain::Date::today_in(&zone),
        };
        fixtures.add_to_cart(orders, &fixtures.customer).await?;
        let tomorrow = fixtures.today.add_days(1).to_string();
        let place = event::http(
            "POST",
            "/orders",
            "/orders",
            Some(&fixtures.customer.access),
            &[],
            Some(
                &json!({"delivery_date": tomorrow, "delivery_address": "12 Admiralty Way, Lekki"}),
            ),
        );
        let answer = expect(orders, &place, 201).await?;
        fixtures.order_id = event::response(&answer.body).1["id"]
            .as_str()
            .context("order id")?
            .to_string();
        Ok(fixtures)
    }

    async fn add_to_cart(&self, orders: &Function, customer: &Customer) -> Result<()> {
        let request = event::http(
            "POST",
            "/cart/items",
            "/cart/items",
            Some(&customer.access),
            &[],
            Some(&json!({"dish_id": self.dish_id, "quantity": 2})),
        );
        expect(orders, &request, 201).await?;
        Ok(())
    }

    /// A copy of the customer's session under another id, for the direct refresh requests.
    async fn mirror_session(&self, direct: &Direct) -> Result<MirrorSession> {
        let mut item = direct.get(self.customer.session_key()).await?;
        let sk = format!("SESSION#bench-{}", ulid::Ulid::new());
        item.insert("sk".into(), s(sk.clone()));
        let hash = format!("{:064x}", 0);
        item.insert("refresh_hash".into(), s(hash.clone()));
        direct.put(item).await?;
        Ok(MirrorSession {
            key: key(format!("USER#{}", self.customer.user_id), sk),
            hash,
        })
    }

    /// The mirror customer's real cart, and the customer's order, captured once and copied per
    /// request so the direct requests move items of the real size.
    async fn order_templates(&self, direct: &Direct, orders: &Function) -> Result<Templates> {
        self.add_to_cart(orders, &self.mirror).await?;
        let cart = direct
            .get(key(format!("USER#{}", self.mirror.user_id), "CART"))
            .await?;
        let cart_version = cart
            .get("version")
            .and_then(|v| v.as_n().ok())
            .cloned()
            .context("cart version")?;
        let order = direct
            .get(key(format!("ORDER#{}", self.order_id), "ORDER"))
            .await?;
        Ok(Templates {
            session: self.mirror.session_key(),
            user: self.mirror.user_key(),
            cart,
            cart_version,
            dishes: vec![key(format!("DISH#{}", self.dish_id), "DISH")],
            order,
            event: json!({
                "type": "order.placed", "order_id": self.order_id, "user_id": self.mirror.user_id,
                "status": "pending_payment", "total": 700000, "currency": "NGN",
                "delivery_date": "2026-11-24", "phone": "+2348012345678",
                "customer_name": "Ada Obi", "occurred_at": "2026-11-23T09:15:02Z"
            }),
        })
    }
}

struct MirrorSession {
    key: Item,
    hash: String,
}

/// Items the direct requests copy, so they read and write items of the real size.
struct Templates {
    session: Item,
    user: Item,
    cart: Item,
    cart_version: String,
    dishes: Vec<Item>,
    order: Item,
    event: Value,
}

impl Templates {
    fn fresh_order(&self) -> Item {
        let mut order = self.order.clone();
        order.insert("pk".into(), s(format!("ORDER#bench-{}", ulid::Ulid::new())));
        order
    }

    fn fresh_idempotency(&self, i: usize) -> Item {
        let mut item = key(
            self.user["pk"].as_s().cloned().unwrap_or_default(),
            format!("IDEMP#bench-{}-{i}", ulid::Ulid::new()),
        );
        item.insert("entity".into(), s("idempotency"));
        item.insert("fingerprint".into(), s(format!("{:064x}", i)));
        item.insert("status".into(), direct::n(201));
        item.insert(
            "body".into(),
            s(serde_json::to_string(&self.event).unwrap_or_default()),
        );
        item.insert(
            "expires_at".into(),
            direct::n(kitchen::now().unix_timestamp() + 86_400),
        );
        item
    }

    /// A pending payment and its unpaid order, read before their webhook, to copy per request.
    async fn payment_template(
        &self,
        direct: &Direct,
        (reference, _, order_id): &(String, i64, String),
    ) -> Result<PaymentTemplate> {
        Ok(PaymentTemplate {
            payment: direct
                .get(key(format!("PAYMENT#{reference}"), "PAYMENT"))
                .await?,
            order: direct
                .get(key(format!("ORDER#{order_id}"), "ORDER"))
                .await?,
        })
    }
}

struct PaymentTemplate {
    payment: Item,
    order: Item,
}

impl PaymentTemplate {
    fn fresh(&self) -> (Item, Item) {
        let id = ulid::Ulid::new();
        let mut payment = self.payment.clone();
        payment.insert("pk".into(), s(format!("PAYMENT#bench-{id}")));
        let mut order = self.order.clone();
        order.insert("pk".into(), s(format!("ORDER#bench-{id}")));
        (payment, order)
    }
}
