//! The one idempotency runner, for every workflow that takes an `Idempotency-Key`: it finds the
//! first answer to replay (or refuses a key reused for another request), hands the workflow the
//! record to commit with what it creates, and, when a concurrent request with the same key
//! committed first, answers with that request's answer.
//!
//! ```text
//! let run = Idempotency::new(db, request);
//! if let Some(first) = run.first_answer().await? { return Ok(Outcome::Replayed(first)) }
//! … the work; its commit writes run.record(&body) in the same transaction …
//! on KeyUsed: return Ok(Outcome::Replayed(run.taken().await?))
//! ```

use crate::{
    db::{Db, IdempotencyRecord, IdempotentRequest},
    error::ApiError,
};

/// What an idempotent workflow came to: done now, or the first answer to the same request again.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Replayed(Replay),
}

/// A first answer as stored: its status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub status: u16,
    pub body: String,
}

/// One request's key, if it has one, and the table it is recorded in.
pub struct Idempotency<'a> {
    db: &'a Db,
    request: Option<IdempotentRequest>,
}

impl<'a> Idempotency<'a> {
    pub fn new(db: &'a Db, request: Option<IdempotentRequest>) -> Self {
        Self { db, request }
    }

    /// The first answer again, from `record` as read along with the workflow's other data; 422 if
    /// the key was used for another request.
    pub fn replay(&self, record: Option<IdempotencyRecord>) -> Result<Option<Replay>, ApiError> {
        let (Some(request), Some(record)) = (&self.request, record) else {
            return Ok(None);
        };
        if record.fingerprint != request.fingerprint {
            return Err(ApiError::Unprocessable {
                detail: "this Idempotency-Key was used for a different request".into(),
                errors: Vec::new(),
            });
        }
        Ok(Some(Replay {
            status: record.status,
            body: record.body,
        }))
    }

    /// [`Idempotency::replay`], reading the key's record first (one read; none without a key).
    pub async fn first_answer(&self) -> Result<Option<Replay>, ApiError> {
        let Some(request) = &self.request else {
            return Ok(None);
        };
        let record = self.db.idempotency_record(request, crate::now()).await?;
        self.replay(record)
    }

    /// What the workflow's commit stores under the key: the request and the answer's body.
    pub fn record<'b>(&'b self, body: &'b str) -> Option<(&'b IdempotentRequest, &'b str)> {
        self.request.as_ref().map(|request| (request, body))
    }

    /// The request the key names, for a workflow that completes its record in a later write.
    pub fn record_request(&self) -> Option<&IdempotentRequest> {
        self.request.as_ref()
    }

    /// The commit found the key taken: a concurrent request with it committed first. Its answer,
    /// or 409 while it is still in progress (its record not yet readable).
    pub async fn taken(&self) -> Result<Replay, ApiError> {
        self.first_answer().await?.ok_or_else(|| {
            ApiError::Conflict("a request with this Idempotency-Key is in progress; retry".into())
        })
    }
}
