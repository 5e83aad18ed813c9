//! [`PrepPool`]: where `avatar_prep::prepare` runs — never on the async executor.
//!
//! A rayon pool with one thread per core does the CPU work (its GIF frames and JPEG
//! decoding use the same pool, through rayon's work stealing). In front of it, a semaphore of
//! `workers + queue` slots: a request takes a slot before its body is read and gives it back
//! when its image is prepared, so at most that many uploads are in memory at once. When no
//! slot is free the request is refused at once (503 + `Retry-After`) instead of piling up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use avatar_prep::{PrepError, PrepOptions, PreparedImage};
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A place in the preparation queue, held from before the body is read until the image is
/// prepared.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// The bounded preparation pool.
#[derive(Debug)]
pub struct PrepPool {
    pool: rayon::ThreadPool,
    slots: Arc<Semaphore>,
    capacity: usize,
}

/// Why a preparation gave no image.
#[derive(Debug)]
pub enum PrepFailure {
    /// The library refused the image.
    Prep(PrepError),
    /// The job panicked or vanished (a bug).
    Internal(&'static str),
}

impl PrepPool {
    /// `workers` threads, `workers + queue` slots.
    pub fn new(workers: usize, queue: usize) -> Result<PrepPool, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("prep-{i}"))
            .build()?;
        let capacity = workers + queue;
        Ok(PrepPool {
            pool,
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
        })
    }

    /// A slot, or `None` when `workers + queue` requests already hold one.
    pub fn try_admit(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| Slot { _permit: p })
    }

    /// Slots in use.
    pub fn in_use(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    /// Prepares `bytes` on the pool and waits for it without blocking the executor. The slot
    /// goes with the job and is freed when the job ends, even if the caller stopped waiting
    /// (client gone): the bound holds for the CPU work, not only for the waiting requests.
    pub async fn prepare(
        &self,
        slot: Slot,
        bytes: Bytes,
        options: PrepOptions,
    ) -> Result<PreparedImage, PrepFailure> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // `prepare` already turns decoder panics into errors; this guard is for the rest,
            // since a panic escaping a rayon job would abort the whole process.
            let result = catch_unwind(AssertUnwindSafe(|| avatar_prep::prepare(&bytes, &options)));
            drop(bytes);
            drop(slot);
            let _ = tx.send(result);
        });
        match rx.await {
            Ok(Ok(Ok(image))) => Ok(image),
            Ok(Ok(Err(e))) => Err(PrepFailure::Prep(e)),
            Ok(Err(_panic)) => Err(PrepFailure::Internal("the preparation panicked")),
            Err(_) => Err(PrepFailure::Internal("the preparation job vanished")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn slots_bound_the_queue_and_come_back() {
        let pool = PrepPool::new(1, 1).unwrap();
        let a = pool.try_admit().unwrap();
        let _b = pool.try_admit().unwrap();
        assert!(pool.try_admit().is_none(), "2 slots only");
        assert_eq!(pool.in_use(), 2);
        let err = pool
            .prepare(a, Bytes::from_static(b"text"), PrepOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PrepFailure::Prep(e) if e.kind().as_str() == "not_an_image"));
        assert_eq!(pool.in_use(), 1, "the job gave its slot back");
        assert!(pool.try_admit().is_some());
    }
}
