//! `kitchen-local`: the local stack's own commands, each reading template.yaml as AWS would.
//!
//! - `setup`: creates the table from template.yaml and the SNS topic if they are missing, stores
//!   the stack's secrets in SSM (moto) under the parameter names the template gives the functions,
//!   seeds the admin and a demo menu, and prints what is where.
//! - `gate`: the IAM gate every function reaches AWS through ([`devkit::iam_proxy`]); it also
//!   serves the development Google JWKS at [`devkit::google_dev::JWKS_PATH`].
//! - `run BINARY [ARGS...]`: starts a function as Lambda would, with exactly its template
//!   environment (parameters and resources resolved to local values) plus the gate's endpoint, the
//!   region, the function's own local credentials and the runtime's `AWS_LAMBDA_*` variables.
//!   `make dev` makes it cargo's runner, so `cargo lambda watch` starts every function through it.
//! - `schedules`: fires every `Schedule` event of template.yaml on its rate, delivering the event
//!   EventBridge would send through `cargo lambda watch`'s Invoke API.
//! - `iam-report DIR`: least privilege, the other way round: lists per function every action its
//!   policy grants that no call recorded in DIR used (the tests and the gate record each grant they
//!   use there when `KITCHEN_IAM_USAGE_DIR` names it), and fails if there is any.
//! - `google-token EMAIL [GIVEN_NAME [FAMILY_NAME]]`: prints a Google ID token for EMAIL signed with
//!   the development key `make dev` trusts ([`devkit::google_dev`]), for `POST /auth/google`.
//!
//! The stack's bindings come from the environment `scripts/dev.sh` sets: `TABLE_NAME`, `TOPIC_ARN`,
//! `KITCHEN_PARAM_<Name>` for each parameter it sets, `KITCHEN_GATE_PORT`, and the stand-ins'
//! endpoints and operator credentials for `setup` and `gate`.

use anyhow::{Context, Result, bail};
use devkit::{
    iam::Gate,
    stack::{LocalBindings, Stack, Template},
    table::TableDefinition,
};
use kitchen::{
    app::ensure_admin::AdminOutcome,
    db::Db,
    domain::{Email, Password},
};

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The local deployment of template.yaml. Bad input (a template it cannot read, a parameter value
/// CloudFormation would refuse, a policy it does not understand) stops here, naming what and where.
fn local_stack() -> Result<Stack> {
    Stack::new(&Template::from_repo()?, &LocalBindings::from_env())
        .context("template.yaml cannot be deployed locally")
}

const USAGE: &str = "usage: kitchen-local setup | gate | run BINARY [ARGS...] | schedules | \
                     iam-report DIR | google-token EMAIL [GIVEN_NAME [FAMILY_NAME]]";

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("setup") => setup().await,
        Some("gate") => gate().await,
        Some("run") => {
            let binary = args.next().context(USAGE)?;
            run(&binary, args.collect())
        }
        Some("schedules") => schedules().await,
        Some("iam-report") => iam_report(&args.next().context(USAGE)?),
        Some("google-token") => google_token(args),
        _ => bail!(USAGE),
    }
}

async fn gate() -> Result<()> {
    let stack = local_stack()?;
    let gate = Gate::new(&stack).context("template.yaml's IAM policies")?;
    let port = var("KITCHEN_GATE_PORT", "4599");
    let upstreams = devkit::iam_proxy::Upstreams {
        dynamodb: std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
            .context("AWS_ENDPOINT_URL_DYNAMODB")?,
        moto: std::env::var("AWS_ENDPOINT_URL_SNS").context("AWS_ENDPOINT_URL_SNS")?,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    eprintln!(
        "gate: checking every AWS call of {} functions against template.yaml on 127.0.0.1:{port}",
        stack.template().functions().len()
    );
    // The development Google JWKS, for make dev's Google sign-in.
    let documents = devkit::google_dev::gate_documents()?;
    devkit::iam_proxy::serve_with_documents(listener, gate, upstreams, documents).await
}

/// Prints a Google ID token for `EMAIL` signed with the development key (see devkit::google_dev).
fn google_token(mut args: impl Iterator<Item = String>) -> Result<()> {
    let usage = "usage: kitchen-local google-token EMAIL [GIVEN_NAME [FAMILY_NAME]]";
    let email = args
        .next()
        .filter(|e| !e.trim().is_empty())
        .context(usage)?;
    let given = args.next().filter(|n| !n.is_empty());
    let family = args.next().filter(|n| !n.is_empty());
    if args.next().is_some() {
        bail!(usage);
    }
    let token = devkit::google_dev::id_token(
        &email,
        given.as_deref(),
        family.as_deref(),
        time::OffsetDateTime::now_utc(),
    )?;
    println!("{token}");
    Ok(())
}

/// Replaces this process with the function `binary`, in its template environment.
fn run(binary: &str, args: Vec<String>) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let name = std::path::Path::new(binary)
        .file_name()
        .and_then(|n| n.to_str())
        .context("a binary path")?;
    let stack = local_stack()?;
    let function = stack.template().function(name)?;
    let gate = format!("http://127.0.0.1:{}", var("KITCHEN_GATE_PORT", "4599"));
    let mut env = stack.process_environment(&function, &gate)?;
    // What Lambda's runtime adds (cargo lambda watch sets the AWS_LAMBDA_* ones), and a backtrace
    // setting for the developer.
    for (key, value) in std::env::vars() {
        if key.starts_with("AWS_LAMBDA_")
            || matches!(
                key.as_str(),
                "PATH" | "TZ" | "LANG" | "RUST_BACKTRACE" | "_X_AMZN_TRACE_ID"
            )
        {
            env.insert(key, value);
        }
    }
    let error = std::process::Command::new(binary)
        .args(args)
        .env_clear()
        .envs(env)
        .exec();
    Err(error).with_context(|| format!("starting {binary}"))
}

fn iam_report(dir: &str) -> Result<()> {
    use devkit::iam::Grant;
    use std::collections::BTreeSet;
    let mut used = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {dir}"))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        files += 1;
        for line in std::fs::read_to_string(&path)?.lines() {
            let grant: Grant = serde_json::from_str(line)
                .with_context(|| format!("{}: not a grant: {line}", path.display()))?;
            used.insert(grant);
        }
    }
    let stack = local_stack()?;
    let gate = Gate::new(&stack)?;
    let mut unused = Vec::new();
    let mut granted = 0;
    for function in stack.template().functions() {
        let policy = gate
            .policy(&function.binary)
            .context("every function has a policy")?;
        for grant in policy.grants() {
            granted += 1;
            if !used.contains(&grant) {
                unused.push(grant);
            }
        }
    }
    println!(
        "iam-report: {granted} grants in template.yaml, {} used by the calls recorded in {files} files",
        granted - unused.len()
    );
    if unused.is_empty() {
        return Ok(());
    }
    for grant in &unused {
        println!(
            "iam-report: unused: {} may {} ({}), but no call needed it",
            grant.function, grant.action, grant.statement
        );
    }
    bail!(
        "{} grants of template.yaml were never used: remove them, or test the code that needs them",
        unused.len()
    )
}

async fn schedules() -> Result<()> {
    let schedules: Vec<_> = Template::from_repo()?
        .schedules()?
        .into_iter()
        .filter(|s| s.enabled)
        .collect();
    let api = format!("http://127.0.0.1:{}", var("API_PORT", "9000"));
    let http = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for schedule in schedules {
        eprintln!(
            "schedules: {} fires {} every {:?} (at once: make invoke EVENT={})",
            schedule.name,
            schedule.function.binary,
            schedule.every,
            schedule
                .sample_path()
                .strip_prefix(devkit::repo_root())
                .unwrap_or(&schedule.sample_path())
                .display()
        );
        let (http, api) = (http.clone(), api.clone());
        tasks.spawn(async move {
            // EventBridge's first rate event comes one period after the rule exists.
            let mut ticks = tokio::time::interval_at(
                tokio::time::Instant::now() + schedule.every,
                schedule.every,
            );
            loop {
                ticks.tick().await;
                let time = time::OffsetDateTime::now_utc()
                    .replace_nanosecond(0)
                    .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                let event = schedule.event(&ulid::Ulid::new().to_string(), &time);
                let url = format!(
                    "{api}/2015-03-31/functions/{}/invocations",
                    schedule.function.binary
                );
                match http.post(&url).json(&event).send().await {
                    Ok(answer) => {
                        let status = answer.status();
                        let body = answer.text().await.unwrap_or_default();
                        eprintln!(
                            "schedules: {} -> {} {status} {body}",
                            schedule.name, schedule.function.binary
                        );
                    }
                    Err(err) => {
                        eprintln!("schedules: {} could not be delivered: {err}", schedule.name)
                    }
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn setup() -> Result<()> {
    let stack = local_stack()?;
    // The policies are checked now too, so a template the gate cannot read stops the stack at once.
    Gate::new(&stack).context("template.yaml's IAM policies")?;
    let sdk = kitchen::state::aws_sdk_config().await;
    let table = var("TABLE_NAME", "kitchen");
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let created = TableDefinition::from_repo()?
        .ensure(&client, &table)
        .await?;
    println!(
        "table      {table} ({})",
        if created {
            "created from template.yaml"
        } else {
            "already there"
        }
    );

    let topic_arn = var(
        "TOPIC_ARN",
        "arn:aws:sns:us-east-1:123456789012:kitchen-events",
    );
    let topic_name = topic_arn.rsplit(':').next().unwrap_or("kitchen-events");
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(topic_name)
        .send()
        .await
        .context("creating the SNS topic")?;
    println!("topic      {}", topic.topic_arn().unwrap_or(topic_name));

    // Account emails go out from the template's sender, which SES sends from only once verified.
    let sender = stack
        .parameter("EmailFromAddress")
        .context("template.yaml has no parameter EmailFromAddress")?;
    devkit::testing::verify_sender(&sdk, &sender).await;
    println!("sender     {sender} (verified in SES)");

    // The functions read their secrets from SSM at cold start, as in AWS. The token and cursor keys
    // are development keys (tools/dev-keys) unless the caller gives others.
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    for (parameter, variable) in [
        ("TokenSigningKeyParameterName", "TOKEN_SIGNING_KEY"),
        ("TokenPublicKeysParameterName", "TOKEN_PUBLIC_KEYS"),
        ("CursorKeyParameterName", "CURSOR_KEY"),
        ("PaystackSecretParameterName", "PAYSTACK_SECRET_KEY"),
    ] {
        let name = stack
            .parameter(parameter)
            .with_context(|| format!("template.yaml has no parameter {parameter}"))?;
        let value = std::env::var(variable).with_context(|| format!("{variable} is not set"))?;
        devkit::testing::put_secure_parameter(&ssm, &name, &value).await;
        println!("secret     {variable} in SSM parameter {name}");
    }

    let email =
        Email::parse(&var("ADMIN_EMAIL", "admin@kitchen.local")).map_err(anyhow::Error::msg)?;
    let password_text = var("ADMIN_PASSWORD", "kitchen-admin-123");
    let password =
        Password::parse(&password_text).map_err(|e| anyhow::anyhow!("ADMIN_PASSWORD {e}"))?;
    let db = Db::new(client, table);
    let (admin, outcome) = devkit::seed::admin(&db, &email, &password).await?;
    let what = match outcome {
        AdminOutcome::Created => "created",
        AdminOutcome::AlreadyAdmin => "already there",
        AdminOutcome::Promoted => {
            "already there; password set to ADMIN_PASSWORD, its sessions ended"
        }
    };
    println!(
        "admin      {email} / {password_text} ({what}, id {})",
        admin.id
    );

    let (added, kept) = seed_menu(&db).await?;
    println!("menu       {added} demo dishes added, {kept} already there");
    Ok(())
}

/// A small menu, so `GET /dishes` shows something on a fresh stack. Dishes already there (by name)
/// are left as they are.
async fn seed_menu(db: &Db) -> Result<(usize, usize)> {
    use kitchen::{
        db::DishWriteError,
        domain::Dish,
        domain::{Currency, Date, Description, DishId, DishName, DishType, Price, Tag},
    };
    type Seed = (
        &'static str,
        &'static str,
        i64,
        DishType,
        &'static [&'static str],
    );
    const MENU: &[Seed] = &[
        (
            "Akara and Pap",
            "Bean fritters with warm fermented corn pudding.",
            150_000,
            DishType::Breakfast,
            &["vegetarian"],
        ),
        (
            "Yam and Egg Sauce",
            "Boiled yam with tomato and pepper scrambled eggs.",
            200_000,
            DishType::Breakfast,
            &[],
        ),
        (
            "Party Jollof Rice",
            "Smoky jollof rice with fried plantain and grilled chicken.",
            350_000,
            DishType::Lunch,
            &["spicy", "rice"],
        ),
        (
            "Ofada Rice and Ayamase",
            "Local rice with green pepper stew and assorted meat.",
            400_000,
            DishType::Lunch,
            &["spicy", "rice"],
        ),
        (
            "Egusi Soup and Pounded Yam",
            "Melon seed soup with spinach, beef and stockfish.",
            450_000,
            DishType::Dinner,
            &["soup"],
        ),
        (
            "Pepper Soup",
            "Catfish pepper soup with scent leaves.",
            380_000,
            DishType::Dinner,
            &["spicy", "soup"],
        ),
        (
            "Beef Suya",
            "Grilled spiced beef skewers with onions and yaji.",
            250_000,
            DishType::Other,
            &["spicy", "grill"],
        ),
        (
            "Puff-Puff",
            "Sweet fried dough balls, a dozen.",
            100_000,
            DishType::Dessert,
            &["sweet", "vegetarian"],
        ),
    ];
    let now = kitchen::now();
    let from = Date::parse("2026-01-01").map_err(anyhow::Error::msg)?;
    let (mut added, mut kept) = (0, 0);
    for (name, description, price, dish_type, tags) in MENU {
        let dish = Dish {
            id: DishId::new(),
            name: DishName::parse(name).map_err(anyhow::Error::msg)?,
            description: Description::parse(description).map_err(anyhow::Error::msg)?,
            price: Price::parse(*price).map_err(anyhow::Error::msg)?,
            currency: Currency::Ngn,
            dish_type: *dish_type,
            tags: tags
                .iter()
                .map(|t| Tag::parse(t))
                .collect::<Result<_, _>>()
                .map_err(anyhow::Error::msg)?,
            available_from: from,
            available_until: None,
            daily_portions: None,
            active: true,
            created_at: now,
            updated_at: now,
        };
        match db.create_dish(&dish).await {
            Ok(()) => added += 1,
            Err(DishWriteError::NameTaken) => kept += 1,
            Err(err) => return Err(err).context("seeding the demo menu"),
        }
    }
    Ok((added, kept))
}
