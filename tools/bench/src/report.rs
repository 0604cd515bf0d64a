//! The figures, the budgets they are held to (README.md, "Measured"), the printed table and report.json.

use crate::direct::Calls;
use crate::runtime::{Answer, Function};
use anyhow::{Context, Result};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub const INIT_RATIO_BUDGET: f64 = 1.3;
pub const WARM_RATIO_BUDGET: f64 = 1.2;
/// Table round trips a route may wait for one after another (reads sent side by side wait once);
/// the cart checkout waits for two, as the dishes to price are known only from the cart.
pub const WAITED_BUDGET: u64 = 1;
pub const CHECKOUT_WAITED_BUDGET: u64 = 2;
pub const WRITES_BUDGET: u64 = 2;
pub const RSS_MB_BUDGET: f64 = 32.0;
/// What a sign-in takes in the Django peer on this machine (PBKDF2, Django's default hasher): the
/// figure `POST /auth/login` is shown beside.
pub const DJANGO_PBKDF2_LOGIN_MS: f64 = 40.0;
const LOGIN: &str = "POST /auth/login";
pub const ZIP_MB_BUDGET: f64 = 4.0;
/// A cold function's first answer may take this much longer than hello-world's first answer plus
/// the direct table requests of that same request.
pub const FIRST_ANSWER_EXCESS_MS_BUDGET: f64 = 2.0;

#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn push(&mut self, sample: Duration) {
        self.0.push(sample);
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.0.clone();
        sorted.sort();
        let at = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[at].as_secs_f64() * 1000.0
    }

    pub fn median_ms(&self) -> f64 {
        self.quantile_ms(0.5)
    }

    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }
}

/// One route's warm figures.
pub struct RouteFigures {
    function: String,
    route: String,
    in_function: Samples,
    direct: Samples,
    direct_calls: Option<Calls>,
    reads: u64,
    writes: u64,
    waited: u64,
    /// How many invocations waited for each number of read round trips.
    waited_seen: BTreeMap<u64, u32>,
    retries: u64,
    read_units: f64,
    write_units: f64,
}

impl RouteFigures {
    pub fn new(function: &str, route: &str) -> Self {
        Self {
            function: function.to_string(),
            route: route.to_string(),
            in_function: Samples::default(),
            direct: Samples::default(),
            direct_calls: None,
            reads: 0,
            writes: 0,
            waited: 0,
            waited_seen: BTreeMap::new(),
            retries: 0,
            read_units: 0.0,
            write_units: 0.0,
        }
    }

    /// One invocation: its in-function time, and what its request log line says it cost the table
    /// (the most any one invocation cost).
    pub async fn record(&mut self, function: &Function, answer: &Answer) -> Result<()> {
        self.in_function.push(answer.in_function);
        let line = function
            .request_log(&answer.request_id)
            .await
            .with_context(|| format!("{} printed no request line", function.name))?;
        let count = |field: &str| line[field].as_u64().unwrap_or(0);
        let units = |field: &str| line[field].as_f64().unwrap_or(0.0);
        self.reads = self.reads.max(count("db_reads"));
        self.writes = self.writes.max(count("db_writes"));
        self.waited = self.waited.max(count("db_waited"));
        *self.waited_seen.entry(count("db_waited")).or_default() += 1;
        self.retries += count("db_retries");
        self.read_units = self.read_units.max(units("db_read_units"));
        self.write_units = self.write_units.max(units("db_write_units"));
        Ok(())
    }

    pub fn direct(&mut self, elapsed: Duration, calls: Calls) {
        self.direct.push(elapsed);
        self.direct_calls = Some(calls);
    }

    fn ratio(&self) -> Option<f64> {
        self.direct_calls
            .map(|_| self.in_function.median_ms() / self.direct.median_ms())
    }
}

#[derive(Debug, Default)]
pub struct FunctionFigures {
    pub init_ms_p50: f64,
    pub first_response_ms_p50: f64,
    pub init_ratio: f64,
    pub warm_ratio: Option<f64>,
    pub per_event_ms_p50: Option<f64>,
    /// The direct requests of the cold-start event, timed right after each cold start.
    pub cold_direct_ms_p50: Option<f64>,
    /// First answer − hello-world's first answer − [`Self::cold_direct_ms_p50`].
    pub first_answer_excess_ms: Option<f64>,
    /// Init with the secrets read from SSM (moto's, through the IAM gate), as deployed.
    pub init_ms_p50_ssm: Option<f64>,
    pub first_response_ms_p50_ssm: Option<f64>,
    pub rss_mb: f64,
    pub zip_mb: Option<f64>,
}

#[derive(Default)]
pub struct Report {
    pub hello: Value,
    /// `POST /auth/login` as the first request of a fresh auth process (start → answer, and the
    /// answer's own time inside the function).
    pub login_cold: Option<(Samples, Samples)>,
    functions: BTreeMap<String, FunctionFigures>,
    routes: Vec<RouteFigures>,
    /// Cold starts whose direct baseline did not make the requests the function counted.
    cold_mismatches: Vec<String>,
    misses: Vec<String>,
}

impl Report {
    pub fn function(&mut self, name: &str) -> &mut FunctionFigures {
        self.functions.entry(name.to_string()).or_default()
    }

    /// One cold start's direct baseline (`direct`) beside the table requests the function counted
    /// for the same event; a difference (or no count at all) is listed with the budgets missed.
    pub fn cold_baseline(&mut self, function: &str, direct: Calls, counted: Option<Calls>) {
        if counted != Some(direct) {
            let miss = format!(
                "{function}: the cold-start baseline makes {} reads and {} writes, the function {}",
                direct.reads,
                direct.writes,
                counted.map_or("printed no request line".into(), |calls| format!(
                    "{} and {}",
                    calls.reads, calls.writes
                ))
            );
            if !self.cold_mismatches.contains(&miss) {
                self.cold_mismatches.push(miss);
            }
        }
    }

    pub fn route(&mut self, figures: RouteFigures) {
        self.routes.push(figures);
    }

    /// Works out each function's warm ratio (its worst measured route) and lists every budget missed.
    pub fn finish(&mut self) {
        let mut misses = self.cold_mismatches.clone();
        for route in &self.routes {
            if let Some(ratio) = route.ratio() {
                let figures = self.functions.entry(route.function.clone()).or_default();
                figures.warm_ratio = Some(figures.warm_ratio.map_or(ratio, |r: f64| r.max(ratio)));
                if ratio > WARM_RATIO_BUDGET {
                    misses.push(format!(
                        "{}: warm ratio {ratio:.2} > {WARM_RATIO_BUDGET}",
                        route.route
                    ));
                }
            }
            if let Some(calls) = route.direct_calls
                && (u64::from(calls.reads), u64::from(calls.writes)) != (route.reads, route.writes)
            {
                misses.push(format!(
                    "{}: the direct baseline makes {} reads and {} writes, the function {} and {}",
                    route.route, calls.reads, calls.writes, route.reads, route.writes
                ));
            }
            let waited_budget = if route.route.contains("(cart)") {
                CHECKOUT_WAITED_BUDGET
            } else {
                WAITED_BUDGET
            };
            if route.waited > waited_budget {
                misses.push(format!(
                    "{}: waits for up to {} read round trips in sequence (budget {waited_budget}; \
                     invocations by waits: {:?})",
                    route.route, route.waited, route.waited_seen
                ));
            }
            if route.writes > WRITES_BUDGET {
                misses.push(format!(
                    "{}: {} writes (budget {WRITES_BUDGET})",
                    route.route, route.writes
                ));
            }
        }
        for (name, figures) in &self.functions {
            if figures.init_ratio > INIT_RATIO_BUDGET {
                misses.push(format!(
                    "{name}: init ratio {:.2} > {INIT_RATIO_BUDGET}",
                    figures.init_ratio
                ));
            }
            if let Some(excess) = figures.first_answer_excess_ms
                && excess > FIRST_ANSWER_EXCESS_MS_BUDGET
            {
                misses.push(format!(
                    "{name}: first answer {excess:.2} ms over hello-world's plus its table \
                     requests (budget {FIRST_ANSWER_EXCESS_MS_BUDGET})"
                ));
            }
            if figures.rss_mb > RSS_MB_BUDGET {
                misses.push(format!(
                    "{name}: peak RSS {:.1} MB > {RSS_MB_BUDGET}",
                    figures.rss_mb
                ));
            }
            if figures.zip_mb.is_some_and(|mb| mb > ZIP_MB_BUDGET) {
                misses.push(format!("{name}: zip over {ZIP_MB_BUDGET} MB"));
            }
        }
        self.misses = misses;
    }

    pub fn to_json(&self) -> Value {
        let mut functions = Map::new();
        for (name, figures) in &self.functions {
            let routes: Vec<&RouteFigures> = self
                .routes
                .iter()
                .filter(|route| &route.function == name)
                .collect();
            let round_trips: Map<String, Value> = routes
                .iter()
                .map(|r| (r.route.clone(), json!(r.reads + r.writes)))
                .collect();
            let waited: Map<String, Value> = routes
                .iter()
                .map(|r| (r.route.clone(), json!(r.waited)))
                .collect();
            let table: Map<String, Value> = routes
                .iter()
                .map(|r| {
                    (
                        r.route.clone(),
                        json!({
                            "reads": r.reads, "writes": r.writes, "retries": r.retries,
                            "read_units": r.read_units, "write_units": r.write_units,
                        }),
                    )
                })
                .collect();
            let mut entry = json!({
                "init_ms_p50": round2(figures.init_ms_p50),
                "first_response_ms_p50": round2(figures.first_response_ms_p50),
                "init_ratio": round2(figures.init_ratio),
                "warm_ratio": figures.warm_ratio.map(round2),
                "round_trips": round_trips,
                "waited_round_trips": waited,
                "table": table,
                "rss_mb": round2(figures.rss_mb),
                "zip_mb": figures.zip_mb.map(round2),
            });
            if let Some(per_event) = figures.per_event_ms_p50 {
                entry["per_event_ms_p50"] = json!(round2(per_event));
            }
            entry["cold_direct_ms_p50"] = json!(figures.cold_direct_ms_p50.map(round2));
            entry["first_answer_excess_ms"] = json!(figures.first_answer_excess_ms.map(round2));
            if let Some(ssm) = figures.init_ms_p50_ssm {
                entry["ssm"] = json!({
                    "init_ms_p50": round2(ssm),
                    "first_response_ms_p50": figures.first_response_ms_p50_ssm.map(round2),
                    "init_ms_over_environment": round2(ssm - figures.init_ms_p50),
                });
            }
            functions.insert(name.clone(), entry);
        }
        let routes: Vec<Value> = self
            .routes
            .iter()
            .map(|r| {
                json!({
                    "function": r.function,
                    "route": r.route,
                    "invocations": r.in_function.0.len(),
                    "in_function_ms_p50": round2(r.in_function.median_ms()),
                    "in_function_ms_p99": round2(r.in_function.p99_ms()),
                    "direct_ms_p50": r.direct_calls.map(|_| round2(r.direct.median_ms())),
                    "ratio": r.ratio().map(round2),
                    "reads": r.reads,
                    "writes": r.writes,
                    "waited_round_trips": r.waited,
                    "waited_round_trips_seen": r.waited_seen
                        .iter()
                        .map(|(waits, times)| (waits.to_string(), json!(times)))
                        .collect::<Map<String, Value>>(),
                })
            })
            .collect();
        let login = self.routes.iter().find(|r| r.route == LOGIN).map(|r| {
            json!({
                "p50_ms": round2(r.in_function.median_ms()),
                "p99_ms": round2(r.in_function.p99_ms()),
                "django_pbkdf2_ms": DJANGO_PBKDF2_LOGIN_MS,
            })
        });
        let login_cold = self.login_cold.as_ref().map(|(first, in_function)| {
            json!({
                "first_answer_p50_ms": round2(first.median_ms()),
                "first_answer_p99_ms": round2(first.p99_ms()),
                "in_function_p50_ms": round2(in_function.median_ms()),
                "in_function_p99_ms": round2(in_function.p99_ms()),
                "starts": first.0.len(),
                "django_pbkdf2_ms": DJANGO_PBKDF2_LOGIN_MS,
            })
        });
        json!({
            "functions": functions,
            "hello_lambda": self.hello,
            "login_warm": login,
            "login_cold": login_cold,
            "routes": routes,
            "budgets": {
                "init_ratio": INIT_RATIO_BUDGET, "warm_ratio": WARM_RATIO_BUDGET,
                "waited_round_trips": WAITED_BUDGET,
                "waited_round_trips_cart_checkout": CHECKOUT_WAITED_BUDGET,
                "writes": WRITES_BUDGET,
                "first_answer_excess_ms": FIRST_ANSWER_EXCESS_MS_BUDGET,
                "rss_mb": RSS_MB_BUDGET, "zip_mb": ZIP_MB_BUDGET,
            },
            "over_budget": self.misses,
        })
    }

    pub fn print(&self) {
        println!();
        println!(
            "hello-lambda: init p50 {:.2} ms, first response p50 {:.2} ms",
            self.hello["init_ms_p50"].as_f64().unwrap_or(f64::NAN),
            self.hello["first_response_ms_p50"]
                .as_f64()
                .unwrap_or(f64::NAN)
        );
        println!();
        println!(
            "{:<18} {:>9} {:>7} {:>10} {:>8} {:>8} {:>9} {:>7} {:>8} {:>8}",
            "function",
            "init p50",
            "ratio",
            "1st resp",
            "direct",
            "excess",
            "init SSM",
            "warm",
            "RSS MB",
            "zip MB"
        );
        let ms = |value: Option<f64>| value.map_or("-".into(), |ms| format!("{ms:.2}ms"));
        for (name, f) in &self.functions {
            let warm = match (f.warm_ratio, f.per_event_ms_p50) {
                (Some(ratio), _) => format!("{ratio:.2}"),
                (None, Some(ms)) => format!("{ms:.1}ms"),
                _ => "-".into(),
            };
            println!(
                "{:<18} {:>7.2}ms {:>7.2} {:>8.2}ms {:>8} {:>8} {:>9} {:>7} {:>8.1} {:>8}",
                name,
                f.init_ms_p50,
                f.init_ratio,
                f.first_response_ms_p50,
                ms(f.cold_direct_ms_p50),
                ms(f.first_answer_excess_ms),
                ms(f.init_ms_p50_ssm),
                warm,
                f.rss_mb,
                f.zip_mb.map_or("-".into(), |mb| format!("{mb:.2}"))
            );
        }
        println!();
        println!(
            "{:<26} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8}",
            "route",
            "fn p50",
            "fn p99",
            "direct",
            "ratio",
            "reads",
            "writes",
            "waited",
            "RCU",
            "WCU"
        );
        for r in &self.routes {
            println!(
                "{:<26} {:>7.2}ms {:>7.2}ms {:>9} {:>6} {:>6} {:>6} {:>6} {:>8.1} {:>8.1}",
                r.route,
                r.in_function.median_ms(),
                r.in_function.p99_ms(),
                r.direct_calls
                    .map_or("-".into(), |_| format!("{:.2}ms", r.direct.median_ms())),
                r.ratio().map_or("-".into(), |x| format!("{x:.2}")),
                r.reads,
                r.writes,
                r.waited,
                r.read_units,
                r.write_units,
            );
        }
        if let Some(login) = self.routes.iter().find(|r| r.route == LOGIN) {
            println!();
            println!(
                "{LOGIN} (Argon2id, production parameters), warm: p50 {:.1} ms, p99 {:.1} ms; \
                 the Django peer's PBKDF2 sign-in: {DJANGO_PBKDF2_LOGIN_MS:.0} ms",
                login.in_function.median_ms(),
                login.in_function.p99_ms()
            );
        }
        if let Some((first, in_function)) = &self.login_cold {
            println!(
                "{LOGIN} as a cold auth's first request: in the function p50 {:.1} ms, p99 {:.1} ms; \
                 from the process start p50 {:.1} ms, p99 {:.1} ms ({} starts)",
                in_function.median_ms(),
                in_function.p99_ms(),
                first.median_ms(),
                first.p99_ms(),
                first.0.len()
            );
        }
        println!();
        if self.misses.is_empty() {
            println!("every budget holds");
        } else {
            println!("over budget:");
            for miss in &self.misses {
                println!("  - {miss}");
            }
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
