//! Every request the load makes, and what they add up to: per-route counts, throughput, latency
//! percentiles and status counts.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who answered a request: the API under test, or the Paystack simulator playing the customer's bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Api,
    Simulator,
}

/// One request and its answer.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Method and route pattern, e.g. `POST /orders/{id}/payments`.
    pub route: &'static str,
    pub target: Target,
    /// The HTTP status; 0 when no answer came (refused connection, client timeout).
    pub status: u16,
    /// `Content-Type: application/problem+json`.
    pub problem_json: bool,
    /// When it was sent, from the start of the run.
    pub started: Duration,
    pub latency: Duration,
}

impl Sample {
    pub fn ended(&self) -> Duration {
        self.started + self.latency
    }

    /// A 5xx, or no answer at all.
    pub fn failed(&self) -> bool {
        self.status == 0 || self.status >= 500
    }
}

/// A webhook the simulator delivered on the load's behalf: its status as the simulator reports it.
/// Its latency is not known (it is part of the simulator call that triggered it).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub at: Duration,
    /// 0 when the simulator could not reach the API.
    pub status: u16,
}

/// Collects samples from every customer; cheap to share behind an `Arc`.
pub struct Recorder {
    start: Instant,
    samples: Mutex<Vec<Sample>>,
    deliveries: Mutex<Vec<Delivery>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            samples: Mutex::new(Vec::with_capacity(64 * 1024)),
            deliveries: Mutex::new(Vec::new()),
        }
    }

    /// Time since the run started.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn record(&self, sample: Sample) {
        lock(&self.samples).push(sample);
    }

    pub fn delivered(&self, status: u16) {
        let at = self.now();
        lock(&self.deliveries).push(Delivery { at, status });
    }

    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.samples).clone()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }
}

/// A poisoned lock only means a customer task panicked mid-push; the data is still usable.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The nearest-rank percentile (`p` in 0..=100) of `sorted`, which must be in ascending order:
/// the smallest value with at least `p` % of the values at or below it. Zero for no values.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What one route did over a stretch of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteStats {
    pub route: String,
    pub target: Target,
    pub count: usize,
    /// Requests per second over the stretch.
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Status → count; `"none"` for requests that got no answer.
    pub statuses: BTreeMap<String, usize>,
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Per-route figures for the samples sent in `[from, to)`, API routes first, each group by route.
pub fn route_stats(samples: &[Sample], from: Duration, to: Duration) -> Vec<RouteStats> {
    let seconds = (to.saturating_sub(from)).as_secs_f64().max(f64::EPSILON);
    let mut by_route: BTreeMap<(Target, &'static str), Vec<&Sample>> = BTreeMap::new();
    for sample in samples
        .iter()
        .filter(|s| s.started >= from && s.started < to)
    {
        by_route
            .entry((sample.target, sample.route))
            .or_default()
            .push(sample);
    }
    by_route
        .into_iter()
        .map(|((target, route), samples)| {
            let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
            latencies.sort_unstable();
            let mut statuses = BTreeMap::new();
            for sample in &samples {
                let key = match sample.status {
                    0 => "none".to_string(),
                    status => status.to_string(),
                };
                *statuses.entry(key).or_insert(0) += 1;
            }
            RouteStats {
                route: route.to_string(),
                target,
                count: samples.len(),
                per_second: (samples.len() as f64 / seconds * 100.0).round() / 100.0,
                p50_ms: millis(percentile(&latencies, 50.0)),
                p99_ms: millis(percentile(&latencies, 99.0)),
                max_ms: millis(latencies.last().copied().unwrap_or_default()),
                statuses,
            }
        })
        .collect()
}

/// The whole API over a stretch: requests, requests per second, and latency over all routes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub requests: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub failed: usize,
}

pub fn api_totals(samples: &[Sample], from: Duration, to: Duration) -> Totals {
    let seconds = (to.saturating_sub(from)).as_secs_f64().max(f64::EPSILON);
    let chosen: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.target == Target::Api && s.started >= from && s.started < to)
        .collect();
    let mut latencies: Vec<Duration> = chosen.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    Totals {
        requests: chosen.len(),
        per_second: (chosen.len() as f64 / seconds * 100.0).round() / 100.0,
        p50_ms: millis(percentile(&latencies, 50.0)),
        p99_ms: millis(percentile(&latencies, 99.0)),
        max_ms: millis(latencies.last().copied().unwrap_or_default()),
        failed: chosen.iter().filter(|s| s.failed()).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let hundred: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&hundred, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&hundred, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&hundred, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&hundred, 0.0), Duration::from_millis(1));
        // Five values: the 50th percentile is the third, the 99th the fifth.
        let five = ms(&[10, 20, 30, 40, 50]);
        assert_eq!(percentile(&five, 50.0), Duration::from_millis(30));
        assert_eq!(percentile(&five, 99.0), Duration::from_millis(50));
        assert_eq!(percentile(&ms(&[7]), 99.0), Duration::from_millis(7));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    fn sample(route: &'static str, status: u16, started_ms: u64, latency_ms: u64) -> Sample {
        Sample {
            route,
            target: Target::Api,
            status,
            problem_json: false,
            started: Duration::from_millis(started_ms),
            latency: Duration::from_millis(latency_ms),
        }
    }

    #[test]
    fn route_stats_group_count_and_rate_within_the_stretch() {
        let samples = vec![
            sample("GET /dishes", 200, 0, 10),
            sample("GET /dishes", 200, 500, 30),
            sample("GET /dishes", 503, 1_500, 20),
            sample("POST /orders", 201, 900, 40),
            // Outside [0 s, 2 s): left out.
            sample("GET /dishes", 200, 2_000, 1_000),
        ];
        let stats = route_stats(&samples, Duration::ZERO, Duration::from_secs(2));
        assert_eq!(stats.len(), 2);
        let dishes = &stats[0];
        assert_eq!(dishes.route, "GET /dishes");
        assert_eq!(dishes.count, 3);
        assert_eq!(dishes.per_second, 1.5);
        assert_eq!(dishes.p50_ms, 20.0);
        assert_eq!(dishes.max_ms, 30.0);
        assert_eq!(dishes.statuses["200"], 2);
        assert_eq!(dishes.statuses["503"], 1);
        assert_eq!(stats[1].route, "POST /orders");

        let totals = api_totals(&samples, Duration::ZERO, Duration::from_secs(2));
        assert_eq!(totals.requests, 4);
        assert_eq!(totals.failed, 1);
        assert_eq!(totals.per_second, 2.0);
    }
}
