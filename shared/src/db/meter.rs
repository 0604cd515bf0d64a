//! What one request costs the table: an interceptor on the DynamoDB client counts every read and write
//! request, every retry, and the capacity units DynamoDB reports consumed, into the [`Usage`] of the
//! request being served. The request log line prints it (see `http.rs`), so the round trips of a
//! route are measured, not read off the code.
//!
//! Every request asks for `ReturnConsumedCapacity = TOTAL`; the answer grows by a few bytes.

use aws_sdk_dynamodb::config::{
    ConfigBag, Intercept, RuntimeComponents,
    interceptors::{
        BeforeSerializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
        FinalizerInterceptorContextRef,
    },
};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    scan::{ScanInput, ScanOutput},
    transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::client::interceptors::context::{Input, Output};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

tokio::task_local! {
    static CURRENT: Arc<Usage>;
}

/// The table requests of one request so far. Shared between the request's future and the interceptor.
#[derive(Debug, Default)]
pub struct Usage {
    reads: AtomicU32,
    writes: AtomicU32,
    retries: AtomicU32,
    /// Reads under way now, and how many times one began with none under way: the read round trips
    /// the request waited for in sequence (reads sent together are one wait). Writes are left out:
    /// a write waits on what was read, and the write budget bounds them apart.
    reads_in_flight: AtomicU32,
    waited: AtomicU32,
    /// Capacity units in thousandths, so they add up exactly in an integer.
    read_milli_units: AtomicU64,
    write_milli_units: AtomicU64,
}

/// A [`Usage`] read out.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UsageSnapshot {
    pub reads: u32,
    pub writes: u32,
    pub retries: u32,
    /// Read round trips waited for one after another: a read that goes out beside another under
    /// way adds none.
    pub waited: u32,
    pub read_units: f64,
    pub write_units: f64,
}

impl Usage {
    pub fn snapshot(&self) -> UsageSnapshot {
        UsageSnapshot {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            read_units: self.read_milli_units.load(Ordering::Relaxed) as f64 / 1000.0,
            write_units: self.write_milli_units.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }

    fn add_units(&self, kind: Kind, units: f64) {
        let milli = (units * 1000.0).round() as u64;
        match kind {
            Kind::Read => self.read_milli_units.fetch_add(milli, Ordering::Relaxed),
            Kind::Write => self.write_milli_units.fetch_add(milli, Ordering::Relaxed),
        };
    }
}

/// Runs `future` with table requests counted into `usage`. Requests made outside any such scope
/// (at cold start, say) are not counted anywhere.
pub async fn metered<F: Future>(usage: Arc<Usage>, future: F) -> F::Output {
    CURRENT.scope(usage, future).await
}

fn with_current(f: impl FnOnce(&Usage)) {
    let _ = CURRENT.try_with(|usage| f(usage));
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Read,
    Write,
}

/// The interceptor; [`super::Db::new`] installs it on the table client.
#[derive(Debug)]
pub(crate) struct Meter;

/// For each operation the table module uses: whether it reads or writes, how to ask it for its
/// consumed capacity, and where the answer says it.
macro_rules! operations {
    ($($input:ty => $output:ty, $kind:expr, $capacity:expr;)*) => {
        fn start(input: &mut Input) -> Option<Kind> {
            $(
                if let Some(input) = input.downcast_mut::<$input>() {
                    input.return_consumed_capacity.get_or_insert(ReturnConsumedCapacity::Total);
                    return Some($kind);
                }
            )*
            None
        }

        fn consumed(output: &Output) -> Option<(Kind, f64)> {
            $(
                if let Some(output) = output.downcast_ref::<$output>() {
                    let capacity: &dyn Fn(&$output) -> f64 = &$capacity;
                    return Some(($kind, capacity(output)));
                }
            )*
            None
        }
    };
}

fn units(capacity: Option<&ConsumedCapacity>) -> f64 {
    capacity
        .and_then(ConsumedCapacity::capacity_units)
        .unwrap_or(0.0)
}

fn total(capacities: &[ConsumedCapacity]) -> f64 {
    capacities
        .iter()
        .map(|capacity| units(Some(capacity)))
        .sum()
}

operations! {
    GetItemInput => GetItemOutput, Kind::Read, |o| units(o.consumed_capacity());
    BatchGetItemInput => BatchGetItemOutput, Kind::Read, |o| total(o.consumed_capacity());
    QueryInput => QueryOutput, Kind::Read, |o| units(o.consumed_capacity());
    ScanInput => ScanOutput, Kind::Read, |o| units(o.consumed_capacity());
    TransactGetItemsInput => TransactGetItemsOutput, Kind::Read, |o| total(o.consumed_capacity());
    PutItemInput => PutItemOutput, Kind::Write, |o| units(o.consumed_capacity());
    UpdateItemInput => UpdateItemOutput, Kind::Write, |o| units(o.consumed_capacity());
    DeleteItemInput => DeleteItemOutput, Kind::Write, |o| units(o.consumed_capacity());
    TransactWriteItemsInput => TransactWriteItemsOutput, Kind::Write, |o| total(o.consumed_capacity());
    BatchWriteItemInput => BatchWriteItemOutput, Kind::Write, |o| total(o.consumed_capacity());
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "KitchenTableMeter"
    }

    /// Once per operation, however many attempts it takes: count it, note it under way, and ask
    /// for its capacity.
    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(kind) = start(context.input_mut()) else {
            return Ok(());
        };
        let mut under_way = false;
        with_current(|usage| match kind {
            Kind::Read => {
                usage.reads.fetch_add(1, Ordering::Relaxed);
                if usage.reads_in_flight.fetch_add(1, Ordering::Relaxed) == 0 {
                    usage.waited.fetch_add(1, Ordering::Relaxed);
                }
                under_way = true;
            }
            Kind::Write => {
                usage.writes.fetch_add(1, Ordering::Relaxed);
            }
        });
        if under_way {
            cfg.interceptor_state().store_put(ReadUnderWay);
        }
        Ok(())
    }

    /// Once per attempt: every attempt after the first is a retry.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<Attempts>().map_or(0, |attempts| attempts.0) + 1;
        cfg.interceptor_state().store_put(Attempts(attempt));
        if attempt > 1 {
            with_current(|usage| {
                usage.retries.fetch_add(1, Ordering::Relaxed);
            });
        }
        Ok(())
    }

    /// Once per operation, when it is over (answered, failed or given up on).
    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<ReadUnderWay>().is_some() {
            with_current(|usage| {
                usage.reads_in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        if let Some(Ok(output)) = context.output_or_error()
            && let Some((kind, units)) = consumed(output)
        {
            with_current(|usage| usage.add_units(kind, units));
        }
        Ok(())
    }
}

/// Marks a read counted as under way in the request's [`Usage`].
#[derive(Debug, Clone, Copy)]
struct ReadUnderWay;

impl Storable for ReadUnderWay {
    type Storer = StoreReplace<Self>;
}

/// Attempts made so far for the operation in flight.
#[derive(Debug, Clone, Copy)]
struct Attempts(u32);

impl Storable for Attempts {
    type Storer = StoreReplace<Self>;
}
