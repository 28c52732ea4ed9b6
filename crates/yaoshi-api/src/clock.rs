//! The clock abstraction: handlers read time only through it, so tests can control time.
//!
//! Two readings: [`Clock::now_ms`] is KMS time — creation dates, deletion windows, rotation and
//! version intervals, the `at_ms` of every proposed command. [`Clock::wall_ms`] is the real time
//! used to check request timestamps and nonces, which clients sign with their own wall clock.
//! They are the same except under [`TestClock`].

use std::sync::atomic::{AtomicI64, Ordering};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// KMS time: Unix time in milliseconds.
    fn now_ms(&self) -> i64;

    /// Real time for request-signature freshness, Unix milliseconds.
    fn wall_ms(&self) -> i64 {
        self.now_ms()
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}

/// Test mode only (`yaoshi serve --test-clock`): KMS time is the wall clock plus an offset that
/// only moves forward, through `POST /_test/clock?AdvanceMs=N`, so a 7-day window can pass in
/// a test. Signature freshness keeps using the real wall clock, so unmodified SDK clients still
/// authenticate.
#[derive(Debug, Default)]
pub struct TestClock {
    offset_ms: AtomicI64,
}

impl TestClock {
    /// Moves KMS time forward by `ms` (negative values are ignored) and returns the new offset.
    pub fn advance(&self, ms: i64) -> i64 {
        let ms = ms.max(0);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst).saturating_add(ms)
    }

    /// The current offset from the wall clock, milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms().saturating_add(self.offset_ms())
    }

    fn wall_ms(&self) -> i64 {
        SystemClock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_only_moves_forward() {
        let clock = TestClock::default();
        assert_eq!(clock.advance(1_000), 1_000);
        assert_eq!(clock.advance(-5_000), 1_000);
        let now = clock.now_ms();
        let wall = clock.wall_ms();
        assert!(now - wall >= 1_000 && now - wall < 1_100, "{now} {wall}");
    }
}
