//! The run's report: printed as tables, and written as JSON.

use crate::faults::FaultOutcome;
use crate::invariants::TableSummary;
use crate::rss::FunctionMemory;
use crate::stats::{RouteStats, Target, Totals};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Serialize)]
pub struct Report {
    pub run: RunInfo,
    /// The steady phase alone: the throughput and latency figures.
    pub steady: Stretch,
    /// The whole run, faults included.
    pub whole_run: Stretch,
    /// Webhooks the simulator delivered for the load: status → count (`none`: not delivered).
    pub simulator_webhooks: BTreeMap<String, usize>,
    pub faults: Vec<FaultOutcome>,
    pub table: TableSummary,
    pub charges_reconciled_after_the_run: usize,
    pub memory: Vec<FunctionMemory>,
    pub memory_budget_mib: u64,
    pub function_timeouts_s: BTreeMap<String, u64>,
    pub violations: BTreeMap<&'static str, Vec<String>>,
    pub passed: bool,
}

#[derive(Debug, Serialize)]
pub struct RunInfo {
    pub customers: usize,
    pub steady_s: f64,
    pub faults: bool,
    pub wall_s: f64,
    /// Starting every function's instances before the clock started.
    pub warm_up_s: f64,
    pub instances_per_function: usize,
    pub api: String,
}

#[derive(Debug, Serialize)]
pub struct Stretch {
    pub seconds: f64,
    pub api: Totals,
    pub routes: Vec<RouteStats>,
}

fn statuses(map: &BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(status, count)| format!("{status}×{count}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn route_table(out: &mut String, stretch: &Stretch) {
    let _ = writeln!(
        out,
        "  {:<40} {:>7} {:>8} {:>9} {:>9} {:>9}  statuses",
        "route", "count", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    for target in [Target::Api, Target::Simulator] {
        for route in stretch.routes.iter().filter(|r| r.target == target) {
            let name = match target {
                Target::Api => route.route.clone(),
                Target::Simulator => format!("sim {}", route.route),
            };
            let _ = writeln!(
                out,
                "  {:<40} {:>7} {:>8.2} {:>9.1} {:>9.1} {:>9.1}  {}",
                name,
                route.count,
                route.per_second,
                route.p50_ms,
                route.p99_ms,
                route.max_ms,
                statuses(&route.statuses)
            );
        }
    }
    let api = &stretch.api;
    let _ = writeln!(
        out,
        "  {:<40} {:>7} {:>8.2} {:>9.1} {:>9.1} {:>9.1}  5xx or no answer: {}",
        "API, all routes",
        api.requests,
        api.per_second,
        api.p50_ms,
        api.p99_ms,
        api.max_ms,
        api.failed
    );
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let run = &self.run;
        let _ = writeln!(
            out,
            "\nkitchen-load: {} customers against {}, steady phase {:.0} s{}, {:.0} s in all \
             ({:.0} s starting {} instance(s) of each function first)",
            run.customers,
            run.api,
            run.steady_s,
            if run.faults { " then faults" } else { "" },
            run.wall_s,
            run.warm_up_s,
            run.instances_per_function
        );
        let _ = writeln!(out, "\nSteady phase ({:.1} s):", self.steady.seconds);
        route_table(&mut out, &self.steady);
        if run.faults {
            let _ = writeln!(
                out,
                "\nWhole run, faults included ({:.1} s):",
                self.whole_run.seconds
            );
            route_table(&mut out, &self.whole_run);
        }
        let _ = writeln!(
            out,
            "\nWebhooks delivered by the simulator: {}",
            statuses(&self.simulator_webhooks)
        );
        for fault in &self.faults {
            let _ = writeln!(
                out,
                "\nFault {:?}: {:.1} s → {:.1} s, {} requests under way, slowest {:.0} ms; statuses {}",
                fault.kind,
                fault.start_s,
                fault.end_s,
                fault.requests,
                fault.max_latency_ms,
                statuses(&fault.statuses)
            );
            for probe in &fault.probes {
                let _ = writeln!(out, "  {probe}");
            }
        }
        let table = &self.table;
        let _ = writeln!(
            out,
            "\nTable: {} users, {} orders ({}), {} payments ({}), {} refunds due, {} charges ({} reconciled after the run), {} orders without a 201",
            table.users,
            table.orders,
            statuses(&table.orders_by_status),
            table.payments,
            statuses(&table.payments_by_status),
            table.refunds_due,
            table.charges,
            self.charges_reconciled_after_the_run,
            table.unacknowledged_orders
        );
        let _ = writeln!(
            out,
            "\nPeak RSS per function (VmHWM; budget {} MiB):",
            self.memory_budget_mib
        );
        for memory in &self.memory {
            let _ = writeln!(
                out,
                "  {:<18} {:>6.1} MiB peak, {:>6.1} MiB now ({} process{})",
                memory.function,
                memory.peak_mib,
                memory.rss_mib,
                memory.processes,
                if memory.processes == 1 { "" } else { "es" }
            );
        }
        if self.violations.is_empty() {
            let _ = writeln!(out, "\nInvariants: all hold. PASS");
        } else {
            let _ = writeln!(out, "\nViolations:");
            for (kind, details) in &self.violations {
                let _ = writeln!(out, "  {kind} ({})", details.len());
                for detail in details.iter().take(5) {
                    let _ = writeln!(out, "    {detail}");
                }
            }
            let _ = writeln!(out, "FAIL");
        }
        out
    }
}
