//! A pool in shards, one per thread that serves requests, so that a connection stays with the
//! thread that opened it (`docs/adr/028`).
//!
//! A socket's readiness reaches the runtime it was opened on. actix-web's workers are one
//! single-threaded runtime each, so a connection opened on one worker and lent to another
//! wakes its first worker at every answer, which then wakes the second: two thread switches
//! where one would do, and a wait for a thread that may not have a core just then.
//!
//! Sharded, a thread borrows from its own shard first. When its shard has none free it takes
//! one that another shard has open and idle; only when none is idle anywhere, and none of its
//! own comes free within a short grace, does it open one in another shard with room (that one then belongs to this thread's runtime for its whole
//! life, but no request waits while the pool has room), and only when the pool is full does it
//! wait, on its own shard. The shards together hold as many connections as the pool was given.

use deadpool::managed::{self, BuildError, Manager, Object, PoolError, TimeoutType, Timeouts};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The shards; cheap to clone.
pub(crate) struct Sharded<M: Manager> {
    shards: Arc<[managed::Pool<M>]>,
}

impl<M: Manager> Clone for Sharded<M> {
    fn clone(&self) -> Self {
        Self {
            shards: self.shards.clone(),
        }
    }
}

impl<M: Manager> std::fmt::Debug for Sharded<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sharded")
            .field("shards", &self.shards.len())
            .field("status", &self.status())
            .finish()
    }
}

/// What the pool holds now, over every shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolStatus {
    pub(crate) max_size: usize,
    pub(crate) size: usize,
    pub(crate) available: usize,
    /// Borrowers waiting for a connection (during the grace, or with the pool full).
    pub(crate) waiting: usize,
}

/// How long a thread waits for its own shard before it opens a connection in another.
const GRACE: Duration = Duration::from_millis(20);

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's number: as given by [`bind_thread`] (each HTTP worker, as it starts),
    /// else taken in the order threads first borrow from a sharded pool.
    static THREAD_NO: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Makes this thread borrow from shard `index` (modulo the shards) of every sharded pool.
/// Each HTTP worker calls it as it starts with its own index, so the workers have distinct
/// shards even when some other thread borrowed between their first borrows.
pub(crate) fn bind_thread(index: usize) {
    THREAD_NO.with(|no| no.set(Some(index)));
}

fn thread_no() -> usize {
    THREAD_NO.with(|no| {
        no.get().unwrap_or_else(|| {
            let taken = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
            no.set(Some(taken));
            taken
        })
    })
}

impl<M: Manager> Sharded<M> {
    /// `size` connections in at most `shards` shards (never more shards than connections),
    /// spread as evenly as they go; `shard(n)` builds a shard of `n`.
    pub(crate) fn build(
        size: usize,
        shards: usize,
        shard: impl Fn(usize) -> Result<managed::Pool<M>, BuildError>,
    ) -> Result<Self, BuildError> {
        let size = size.max(1);
        let n = shards.clamp(1, size);
        let built = (0..n)
            .map(|i| shard(size / n + usize::from(i < size % n)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            shards: built.into(),
        })
    }

    /// A connection, from this thread's shard first.
    pub(crate) async fn get(&self) -> Result<Object<M>, PoolError<M::Error>> {
        let n = self.shards.len();
        if n == 1 {
            return self.shards[0].get().await;
        }
        self.get_from(thread_no() % n).await
    }

    /// A connection from shard `home` if one is free or may be opened there; else one open
    /// and idle in another shard; else one that comes free in `home` within [`GRACE`]; else
    /// one opened in another shard with room (it stays with this thread's runtime, but no
    /// request waits long while the pool has room); else the next to come free in `home`.
    async fn get_from(&self, home: usize) -> Result<Object<M>, PoolError<M::Error>> {
        let n = self.shards.len();
        let others = || (1..n).map(|i| &self.shards[(home + i) % n]);
        if let Some(got) = Self::now(&self.shards[home]).await {
            return got;
        }
        for shard in others().filter(|s| s.status().available > 0) {
            if let Some(got) = Self::now(shard).await {
                return got;
            }
        }
        // Under a burst (a start-up, say) its own connections come free within a transaction's
        // time: waiting that long keeps a connection from being opened in another shard, for
        // its whole life, only because that shard's thread had not yet asked.
        let grace = Timeouts {
            wait: Some(GRACE),
            ..self.shards[home].timeouts()
        };
        match self.shards[home].timeout_get(&grace).await {
            Err(PoolError::Timeout(TimeoutType::Wait)) => {}
            got => return got,
        }
        for shard in others().filter(|s| {
            let status = s.status();
            status.size < status.max_size
        }) {
            if let Some(got) = Self::now(shard).await {
                return got;
            }
        }
        self.shards[home].get().await
    }

    /// A connection from `shard` without waiting for one to come free; `None` if none is.
    async fn now(shard: &managed::Pool<M>) -> Option<Result<Object<M>, PoolError<M::Error>>> {
        let now = Timeouts {
            wait: Some(Duration::ZERO),
            ..shard.timeouts()
        };
        match shard.timeout_get(&now).await {
            Err(PoolError::Timeout(TimeoutType::Wait)) => None,
            got => Some(got),
        }
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let mut sum = PoolStatus {
            max_size: 0,
            size: 0,
            available: 0,
            waiting: 0,
        };
        for s in self.shards.iter().map(|s| s.status()) {
            sum.max_size += s.max_size;
            sum.size += s.size;
            sum.available += s.available;
            sum.waiting += s.waiting;
        }
        sum
    }

    /// Closes every shard, and hands back their idle connections to be closed politely.
    pub(crate) fn close(&self) -> Vec<M::Type> {
        let mut idle = Vec::new();
        for shard in self.shards.iter() {
            idle.extend(shard.retain(|_, _| false).removed);
            shard.close();
        }
        idle
    }

    pub(crate) fn shards(&self) -> usize {
        self.shards.len()
    }

    /// The first shard's manager (every shard's is built alike).
    pub(crate) fn manager(&self) -> &M {
        self.shards[0].manager()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deadpool::managed::{Metrics, RecycleResult};

    /// Opens "connections" that are numbers, unique across every shard of a pool.
    struct Numbers {
        opened: Arc<AtomicUsize>,
    }

    impl Manager for Numbers {
        type Type = usize;
        type Error = std::convert::Infallible;

        async fn create(&self) -> Result<usize, Self::Error> {
            Ok(self.opened.fetch_add(1, Ordering::Relaxed))
        }

        async fn recycle(&self, _: &mut usize, _: &Metrics) -> RecycleResult<Self::Error> {
            Ok(())
        }
    }

    fn pool(size: usize, shards: usize) -> Sharded<Numbers> {
        let opened = Arc::new(AtomicUsize::new(0));
        Sharded::build(size, shards, |own| {
            managed::Pool::builder(Numbers {
                opened: opened.clone(),
            })
            .max_size(own)
            .wait_timeout(Some(Duration::from_millis(50)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
        })
        .unwrap()
    }

    fn sizes(p: &Sharded<Numbers>) -> Vec<usize> {
        p.shards.iter().map(|s| s.status().max_size).collect()
    }

    /// How many connections each shard has open.
    fn opened(p: &Sharded<Numbers>) -> Vec<usize> {
        p.shards.iter().map(|s| s.status().size).collect()
    }

    #[test]
    fn the_connections_are_spread_evenly_and_no_shard_is_empty() {
        assert_eq!(sizes(&pool(8, 4)), [2, 2, 2, 2]);
        assert_eq!(sizes(&pool(8, 3)), [3, 3, 2]);
        assert_eq!(
            sizes(&pool(2, 4)),
            [1, 1],
            "never more shards than connections"
        );
        assert_eq!(sizes(&pool(5, 0)), [5]);
        assert_eq!(pool(8, 3).status().max_size, 8);
    }

    #[test]
    fn a_thread_bound_to_a_shard_borrows_from_it_first() {
        let p = pool(6, 3);
        let q = p.clone();
        std::thread::spawn(move || {
            bind_thread(5);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            rt.block_on(async {
                let held = q.get().await.unwrap();
                assert_eq!(opened(&q), [0, 0, 1], "5 modulo 3 shards");
                drop(held);
            });
        })
        .join()
        .unwrap();
        // Unbound threads still take numbers in turn.
        let first = thread_no_of_a_new_thread();
        assert!(thread_no_of_a_new_thread() > first);
    }

    /// The number an unbound thread takes at its first borrow.
    fn thread_no_of_a_new_thread() -> usize {
        std::thread::spawn(thread_no).join().unwrap()
    }

    #[tokio::test]
    async fn a_thread_opens_connections_at_home_then_wherever_there_is_room() {
        let p = pool(4, 2);
        let mut held = vec![p.get_from(1).await.unwrap(), p.get_from(1).await.unwrap()];
        assert_eq!(opened(&p), [0, 2], "its own shard first");
        // Its shard is full and nothing is idle elsewhere: the pool has room in shard 0.
        held.push(p.get_from(1).await.unwrap());
        held.push(p.get_from(1).await.unwrap());
        assert_eq!(opened(&p), [2, 2]);
        // The pool is full: it waits on its own shard (50 ms here) and gives up.
        let waited = p.get_from(1).await;
        assert!(matches!(waited, Err(PoolError::Timeout(TimeoutType::Wait))));
        drop(held);
        assert_eq!(p.status().available, 4);
    }

    #[tokio::test]
    async fn one_of_its_own_that_comes_free_soon_is_taken_before_one_is_opened_elsewhere() {
        let p = pool(4, 2);
        let first = p.get_from(1).await.unwrap();
        let kept = p.get_from(1).await.unwrap();
        let given_back = *first;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            drop(first);
        });
        let got = p.get_from(1).await.unwrap();
        assert_eq!(*got, given_back, "its own, given back within the grace");
        assert_eq!(opened(&p), [0, 2], "nothing opened in shard 0");
        drop((got, kept));
    }

    #[tokio::test]
    async fn a_thread_whose_shard_is_busy_borrows_one_idle_before_opening_one() {
        let p = pool(4, 2);
        // Shard 0's thread opens one and gives it back: open and idle in shard 0, room for one
        // more there.
        let zero = *p.get_from(0).await.unwrap();
        let mine = [p.get_from(1).await.unwrap(), p.get_from(1).await.unwrap()];
        let borrowed = p.get_from(1).await.unwrap();
        assert_eq!(*borrowed, zero, "shard 0's idle connection, not a new one");
        assert_eq!(opened(&p), [1, 2]);
        drop(borrowed);
        // Given back, it is shard 0's again: its own thread gets it without waiting.
        assert_eq!(*p.get_from(0).await.unwrap(), zero);
        drop(mine);
    }

    #[tokio::test]
    async fn a_free_connection_in_its_own_shard_comes_first() {
        let p = pool(2, 2);
        let zero = *p.get_from(0).await.unwrap();
        let one = *p.get_from(1).await.unwrap();
        assert_ne!(zero, one);
        // Both idle now: each thread gets its own shard's, however often it asks.
        for _ in 0..3 {
            assert_eq!(*p.get_from(1).await.unwrap(), one);
            assert_eq!(*p.get_from(0).await.unwrap(), zero);
        }
    }
}
