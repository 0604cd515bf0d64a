//! `kitchen-load`: many simulated customers against a running local stack (`make load` starts one
//! and runs this), for a fixed time, optionally followed by injected faults; then the invariants
//! are read from the table itself. Prints per-route throughput and latency and writes the same as
//! JSON; exits 1 naming every violation, 2 if the run itself could not be made.
//!
//! ```text
//! kitchen-load --api http://127.0.0.1:9000 --paystack http://127.0.0.1:9100 --customers 32 \
//!     --duration 60s [--faults --fault-hook scripts/load.sh]
//! ```
//!
//! The table is read through the standard AWS variables (`AWS_ENDPOINT_URL_DYNAMODB`, region,
//! credentials) and `TABLE_NAME`; webhooks are signed with `PAYSTACK_SECRET_KEY`, as the stack's.

mod client;
mod customer;
mod faults;
mod invariants;
mod ledger;
mod report;
mod rss;
mod stats;
mod verdict;
mod webhook;

use anyhow::{Context, Result, bail};
use clap::Parser;
use client::Http;
use customer::{Customer, Shared};
use faults::{FaultOutcome, FaultPlan};
use stats::Recorder;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use verdict::{FunctionTimeouts, Rules, Violations};

#[derive(Debug, Parser)]
#[command(
    name = "kitchen-load",
    about = "Simulated customers, Paystack webhooks and injected faults against the local stack; checks the table's invariants afterwards"
)]
struct Args {
    /// The API's base URL.
    #[arg(long, env = "LOAD_API_URL", default_value = "http://127.0.0.1:9000")]
    api: String,

    /// The Paystack simulator's base URL.
    #[arg(
        long,
        env = "LOAD_PAYSTACK_URL",
        default_value = "http://127.0.0.1:9100"
    )]
    paystack: String,

    /// moto's base URL: its SES keeps the verification emails whose links new customers open.
    #[arg(long, env = "LOAD_MAIL_URL", default_value = "http://127.0.0.1:4566")]
    mail: String,

    /// Customers at once.
    #[arg(long, env = "LOAD_CUSTOMERS", default_value_t = 32)]
    customers: usize,

    /// How long the steady phase lasts (`90s`, `2m`, or seconds).
    #[arg(long, env = "LOAD_DURATION", default_value = "60s", value_parser = parse_duration)]
    duration: Duration,

    /// After the steady phase: stop and restart DynamoDB Local, freeze and thaw it, stop and restart
    /// the simulator, slow the simulator past our Paystack timeout; customers keep going throughout.
    #[arg(long)]
    faults: bool,

    /// Script that stops and starts the stand-ins: `bash <hook> fault <dynamodb|paystack> <stop|start>`
    /// (and `fault dynamodb <freeze|thaw>`).
    #[arg(long, env = "LOAD_FAULT_HOOK", default_value = "scripts/load.sh")]
    fault_hook: PathBuf,

    /// How long DynamoDB Local stays stopped.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    dynamodb_down: Duration,

    /// How long DynamoDB Local stays frozen.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    dynamodb_hung: Duration,

    /// How long the simulator stays stopped.
    #[arg(long, default_value = "8s", value_parser = parse_duration)]
    paystack_down: Duration,

    /// How long the simulator stays slow.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    paystack_slow: Duration,

    /// Normal running between faults, before the probe that checks the API recovered.
    #[arg(long, default_value = "8s", value_parser = parse_duration)]
    recovery: Duration,

    /// Our Paystack client's timeout, as the stack has it.
    #[arg(long, env = "PAYSTACK_TIMEOUT_MS", default_value_t = 5000)]
    paystack_timeout_ms: u64,

    /// How long after that timeout a 503 may still arrive while Paystack is slow.
    #[arg(long, default_value_t = 2000)]
    paystack_slack_ms: u64,

    /// The secret key the stack signs and checks webhooks with.
    #[arg(
        long,
        env = "PAYSTACK_SECRET_KEY",
        default_value = "sk_test_local_secret",
        hide_env_values = true
    )]
    secret_key: String,

    #[arg(long, env = "TABLE_NAME", default_value = "kitchen")]
    table: String,

    #[arg(long, env = "ADMIN_EMAIL", default_value = "admin@kitchen.local")]
    admin_email: String,

    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        default_value = "kitchen-admin-123",
        hide_env_values = true
    )]
    admin_password: String,

    /// template.yaml, for each function's timeout.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,

    /// The pid of the script that started the stack: function processes are looked for among its
    /// descendants (otherwise, any process running a function binary built by cargo).
    #[arg(long)]
    stack_pid: Option<u32>,

    /// Instances of each function to start before the clock starts (the stack's
    /// `cargo lambda watch --concurrency`).
    #[arg(long, env = "KITCHEN_CONCURRENCY", default_value_t = 1)]
    warm_instances: usize,

    /// Peak RSS allowed per function, in MiB (README.md, "Measured").
    #[arg(long, default_value_t = 32)]
    memory_budget_mib: u64,

    /// Where the JSON report goes.
    #[arg(long, default_value = "target/load/report.json")]
    report: PathBuf,
}

/// `90s`, `2m`, `500ms` or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 60s, 2m or 500ms"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(value)),
        "s" => Ok(Duration::from_secs(value)),
        "m" => Ok(Duration::from_secs(value * 60)),
        _ => Err(format!("{text:?} is not a duration like 60s, 2m or 500ms")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("load: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Portions of the load's limited dish per delivery date: a few minutes of customers sell it out.
const LIMITED_PORTIONS: u32 = 40;

/// Gives the customers' world a limit to meet: a dish of which the kitchen cooks only
/// `LIMITED_PORTIONS` a day, an order cut-off (at 22:00 on the delivery date itself, kitchen time,
/// hours after any run ends) and a closed date (the day after), through the back office.
async fn calendar(shared: &customer::Shared, delivery_date: &str) -> Result<()> {
    let date = time::Date::parse(
        delivery_date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )?;
    let closed = date.next_day().context("no day after")?;
    let settings = shared
        .admin(
            "PATCH /admin/kitchen",
            reqwest::Method::PATCH,
            "/admin/kitchen",
            Some(serde_json::json!({
                "order_cutoff": {"days_before": 0, "time": "22:00"},
                "closed_dates": [closed.to_string()],
            })),
        )
        .await;
    if settings.status != 200 {
        bail!(
            "the kitchen's calendar could not be set: {}",
            settings.describe()
        );
    }
    let dish = shared
        .admin(
            "POST /admin/dishes",
            reqwest::Method::POST,
            "/admin/dishes",
            Some(serde_json::json!({
                "name": format!("Load egusi {}", shared.run_id),
                "price": 300000, "currency": "NGN", "dish_type": "dinner",
                "available_from": delivery_date,
                "daily_portions": LIMITED_PORTIONS,
            })),
        )
        .await;
    if dish.status != 201 {
        bail!("the limited dish could not be made: {}", dish.describe());
    }
    eprintln!(
        "load: a dish limited to {LIMITED_PORTIONS} portions a day, ordering closes at 22:00 on the day, {closed} closed"
    );
    Ok(())
}

/// The references of every transaction the simulator holds now (none known if it cannot say).
async fn simulator_references(
    shared: &customer::Shared,
) -> Option<std::collections::HashSet<String>> {
    let answer = shared
        .http
        .simulator(
            "GET /_sim/transactions",
            reqwest::Method::GET,
            "/_sim/transactions",
        )
        .await;
    if answer.status != 200 {
        eprintln!(
            "load: the simulator's transactions could not be read: {}",
            answer.describe()
        );
        return None;
    }
    Some(
        answer
            .json()
            .as_array()?
            .iter()
            .filter_map(|t| t["reference"].as_str().map(String::from))
            .collect(),
    )
}

/// Runs the orders function's scheduled sweep once, through the local stack's invoke endpoint
/// (the one `make invoke` uses), with the sample scheduled event; its answer (what it did).
async fn run_sweep(args: &Args) -> Result<String> {
    let event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../events/orders/sweep-unpaid-orders.json"
    ))?;
    let url = format!(
        "{}/2015-03-31/functions/orders/invocations",
        args.api.trim_end_matches('/')
    );
    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?
        .post(&url)
        .json(&event)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = answer.status();
    let body = answer.text().await?;
    if !status.is_success() || body.contains("errorMessage") {
        bail!("the sweep answered {status}: {body}");
    }
    Ok(body)
}

/// A cheap request to each function (all but the notifier, which only SNS invokes).
const WARM_CALLS: &[(&str, &str, &str)] = &[
    ("auth", "POST", "/auth/login"),
    ("dishes", "GET", "/health"),
    ("orders", "GET", "/cart"),
    ("payments", "GET", "/payments"),
    ("admin", "GET", "/admin/users"),
    ("paystack-webhook", "POST", "/webhooks/paystack"),
];

/// Before the clock starts: every function answers, and each has `--warm-instances` instances
/// running. `cargo lambda watch` starts an instance (through `cargo run`, which first rebuilds a
/// stale binary) when a request finds every instance busy; an instance started while the load is
/// timed would charge that start to the requests waiting for it. Bursts of requests go to each
/// function until its processes (counted under `--stack-pid`) are all there, for up to 15 minutes.
async fn warm_up(args: &Args) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()?;
    let api = args.api.trim_end_matches('/');
    let send = |method: &str, path: &str| {
        client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET),
                format!("{api}{path}"),
            )
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    let health = send("GET", "/health").await.context("GET /health")?;
    if health.status() != 200 {
        bail!(
            "GET /health answers {}: the stack is not ready",
            health.status()
        );
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    let target = args.warm_instances.max(1);
    let mut round = 0;
    loop {
        let running: std::collections::HashMap<String, usize> = match args.stack_pid {
            Some(pid) => rss::function_memory(Some(pid))
                .into_iter()
                .map(|f| (f.function, f.processes))
                .collect(),
            None => Default::default(),
        };
        let short: Vec<_> = WARM_CALLS
            .iter()
            .filter(|(function, ..)| {
                round == 0 || running.get(*function).copied().unwrap_or(0) < target
            })
            .collect();
        if short.is_empty() || (round > 0 && args.stack_pid.is_none()) {
            break;
        }
        if Instant::now() >= deadline {
            eprintln!("load: warning: not every function has {target} instances: {running:?}");
            break;
        }
        let burst = if round == 0 { 1 } else { target * 2 };
        let answers = futures::future::join_all(short.iter().flat_map(|(_, method, path)| {
            (0..burst).map(move |_| async move { (*path, send(method, path).await) })
        }))
        .await;
        for (path, answer) in answers {
            let answer = answer.with_context(|| format!("warming up {path}"))?;
            if answer.status().is_server_error() {
                bail!("{path} answers {} before any load", answer.status());
            }
        }
        round += 1;
    }
    let simulator = client
        .get(format!("{}/health", args.paystack.trim_end_matches('/')))
        .send()
        .await
        .context("the Paystack simulator's /health")?;
    if simulator.status() != 200 {
        bail!("the Paystack simulator answers {}", simulator.status());
    }
    Ok(())
}

async fn run(args: Args) -> Result<bool> {
    let wall = Instant::now();
    let timeouts = FunctionTimeouts::from_template(&args.template)?;
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    dynamodb
        .describe_table()
        .table_name(&args.table)
        .send()
        .await
        .with_context(|| format!("table {} (is AWS_ENDPOINT_URL_DYNAMODB set?)", args.table))?;
    eprintln!(
        "load: warming up every function ({} instance(s) each)",
        args.warm_instances
    );
    let warming = Instant::now();
    warm_up(&args).await?;
    let warm_up_s = warming.elapsed().as_secs_f64().round();

    let recorder = Arc::new(Recorder::new());
    let violations = Arc::new(Violations::default());
    let http = Http::new(&args.api, &args.paystack, &args.mail, recorder.clone())?;
    let tomorrow = time::OffsetDateTime::now_utc()
        .date()
        .next_day()
        .context("no tomorrow")?;
    let shared = Arc::new(Shared::new(
        http,
        violations.clone(),
        args.secret_key.clone(),
        ulid::Ulid::new().to_string().to_lowercase(),
        tomorrow.to_string(),
        args.admin_email.clone(),
        args.admin_password.clone(),
    ));
    let admin = shared
        .admin(
            "GET /admin/orders",
            reqwest::Method::GET,
            "/admin/orders?limit=1",
            None,
        )
        .await;
    if admin.status != 200 {
        bail!(
            "the admin ({}) cannot list orders: {} (ADMIN_EMAIL and ADMIN_PASSWORD must be the stack's)",
            args.admin_email,
            admin.describe()
        );
    }

    calendar(&shared, &tomorrow.to_string()).await?;

    eprintln!(
        "load: {} customers for {} s{}",
        args.customers,
        args.duration.as_secs(),
        if args.faults { ", then faults" } else { "" }
    );
    let steady_start = recorder.now();
    let mut customers = tokio::task::JoinSet::new();
    for index in 0..args.customers {
        customers.spawn(Customer::new(shared.clone(), index).run());
    }
    tokio::time::sleep(args.duration).await;
    let steady_end = recorder.now();

    let mut outcomes: Vec<FaultOutcome> = Vec::new();
    let mut fault_error = None;
    if args.faults {
        let plan = FaultPlan {
            hook: args.fault_hook.clone(),
            dynamodb_down: args.dynamodb_down,
            dynamodb_hung: args.dynamodb_hung,
            paystack_down: args.paystack_down,
            paystack_slow: args.paystack_slow,
            recovery: args.recovery,
            paystack_timeout: Duration::from_millis(args.paystack_timeout_ms),
            paystack_slack: Duration::from_millis(args.paystack_slack_ms),
        };
        let phases = async {
            outcomes.push(faults::dynamodb(&shared, &plan).await?);
            outcomes.push(faults::dynamodb_hung(&shared, &plan).await?);
            outcomes.push(faults::paystack_down(&shared, &plan).await?);
            outcomes.push(faults::paystack_slow(&shared, &plan).await?);
            Ok::<_, anyhow::Error>(())
        };
        fault_error = phases.await.err();
    }

    eprintln!("load: stopping the customers");
    shared.stopping.store(true, Ordering::Relaxed);
    let drained = tokio::time::timeout(Duration::from_secs(180), async {
        while customers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        violations.add(
            "customer_hung",
            format!(
                "{} customers still busy 180 s after the stop",
                customers.len()
            ),
        );
        customers.abort_all();
    }
    let run_end = recorder.now();
    if let Some(err) = fault_error {
        // The stack is in an unknown state; what was measured is still worth printing.
        eprintln!("load: error: a fault phase could not run: {err:#}");
        violations.add("fault_phase_failed", format!("{err:#}"));
    }

    let reconciled = customer::reconcile(&shared).await;
    // Money the faults kept from going back is the sweep's to give back: it runs once, as its
    // schedule would run it, before the table is read.
    match run_sweep(&args).await {
        Ok(swept) => eprintln!("load: the sweep ran: {swept}"),
        Err(err) => violations.add("sweep_failed", format!("{err:#}")),
    }
    eprintln!("load: reading the table");
    let items = invariants::scan(&dynamodb, &args.table).await?;
    let (orders, payments) = invariants::read_items(&items, &violations);
    let holds = simulator_references(&shared).await;
    let refunds = invariants::check_refunds(&items, holds.as_ref(), &violations);
    eprintln!(
        "load: {} refund(s) in the table, each checked against its charge ({} charge(s) owed back with a refund held, {} owed back whose transaction the restarted simulator forgot)",
        refunds.refunds, refunds.held, refunds.forgotten
    );
    let counters = invariants::check_capacity(&items, &violations);
    eprintln!("load: {counters} capacity counter(s), each equal to what live orders hold");
    let table = invariants::check(&shared.ledger.snapshot(), &orders, &payments, &violations);

    let samples = recorder.samples();
    let deliveries = recorder.deliveries();
    let rules = Rules {
        timeouts: timeouts.clone(),
        paystack_timeout: Duration::from_millis(args.paystack_timeout_ms),
        paystack_slack: Duration::from_millis(args.paystack_slack_ms),
    };
    let windows: Vec<_> = outcomes.iter().map(|o| o.window).collect();
    let window_max = verdict::check_samples(&samples, &deliveries, &windows, &rules, &violations);
    for (outcome, max) in outcomes.iter_mut().zip(window_max) {
        outcome.max_latency_ms = max.as_secs_f64() * 1000.0;
        for sample in samples
            .iter()
            .filter(|s| s.target == stats::Target::Api && outcome.window.covers(s))
        {
            outcome.requests += 1;
            *outcome
                .statuses
                .entry(verdict::status_text(sample.status))
                .or_insert(0) += 1;
        }
    }

    let memory = rss::function_memory(args.stack_pid);
    for function in &memory {
        if function.peak_mib > args.memory_budget_mib as f64 {
            violations.add(
                "memory_over_budget",
                format!(
                    "{}: peak {} MiB, budget {} MiB",
                    function.function, function.peak_mib, args.memory_budget_mib
                ),
            );
        }
    }

    let mut simulator_webhooks = std::collections::BTreeMap::new();
    for delivery in &deliveries {
        let key = match delivery.status {
            0 => "none".to_string(),
            status => status.to_string(),
        };
        *simulator_webhooks.entry(key).or_insert(0) += 1;
    }
    let stretch = |samples: &[stats::Sample], from: Duration, to: Duration| report::Stretch {
        seconds: (to - from).as_secs_f64(),
        api: stats::api_totals(samples, from, to),
        routes: stats::route_stats(samples, from, to),
    };
    // The steady figures leave out the requests still under way when the first fault began.
    let undisturbed: Vec<stats::Sample> = samples
        .iter()
        .filter(|s| !windows.iter().any(|w| w.covers(s)))
        .cloned()
        .collect();
    let found = violations.snapshot();
    let report = report::Report {
        run: report::RunInfo {
            customers: args.customers,
            steady_s: args.duration.as_secs_f64(),
            faults: args.faults,
            wall_s: wall.elapsed().as_secs_f64(),
            warm_up_s,
            instances_per_function: args.warm_instances,
            api: args.api.clone(),
        },
        steady: stretch(&undisturbed, steady_start, steady_end),
        whole_run: stretch(&samples, steady_start, run_end),
        simulator_webhooks,
        faults: outcomes,
        table,
        charges_reconciled_after_the_run: reconciled,
        memory,
        memory_budget_mib: args.memory_budget_mib,
        function_timeouts_s: timeouts.all(),
        passed: found.is_empty(),
        violations: found,
    };
    println!("{}", report.render());
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.report, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", args.report.display()))?;
    eprintln!("load: report written to {}", args.report.display());
    Ok(report.passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_or_without_a_unit() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("1h").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn the_flags_have_working_defaults() {
        let args = Args::try_parse_from(["kitchen-load", "--faults"]).unwrap();
        assert_eq!(args.customers, 32);
        assert_eq!(args.duration, Duration::from_secs(60));
        assert!(args.faults);
    }
}
