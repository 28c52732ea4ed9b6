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

/// Test mode only (`yaoshi serve --test-clock`): KMS time is the wall clock, optionally running
/// `scale` times faster from a fixed `epoch_ms`, plus an offset that only moves forward through
/// `POST /_test/clock?AdvanceMs=N`, so a 7-day window can pass in a test:
///
/// `now = epoch + (wall − epoch) × scale + offset`
///
/// Nodes of one cluster given the same epoch and scale agree on KMS time, restarted ones included,
/// which is what a multi-process test of scheduled work needs. Signature freshness keeps using the
/// real wall clock, so unmodified SDK clients still authenticate.
#[derive(Debug)]
pub struct TestClock {
    offset_ms: AtomicI64,
    scale: f64,
    epoch_ms: i64,
}

impl Default for TestClock {
    fn default() -> TestClock {
        TestClock::scaled(1.0, 0)
    }
}

impl TestClock {
    /// A clock running `scale` times faster than the wall clock from `epoch_ms` (a `scale` below 1
    /// or not finite counts as 1).
    pub fn scaled(scale: f64, epoch_ms: i64) -> TestClock {
        let scale = if scale.is_finite() && scale >= 1.0 { scale } else { 1.0 };
        TestClock { offset_ms: AtomicI64::new(0), scale, epoch_ms }
    }

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
        let wall = SystemClock.now_ms();
        // f64 is exact for these magnitudes: elapsed × scale stays far below 2^53 ms.
        let elapsed = (wall.saturating_sub(self.epoch_ms) as f64 * self.scale) as i64;
        self.epoch_ms.saturating_add(elapsed).saturating_add(self.offset_ms())
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

    #[test]
    fn scaled_clocks_with_one_epoch_agree() {
        let epoch = SystemClock.now_ms() - 1_000;
        let (a, b) = (TestClock::scaled(1000.0, epoch), TestClock::scaled(1000.0, epoch));
        let (ta, tb) = (a.now_ms(), b.now_ms());
        // About one second of wall time since the epoch, times 1000.
        assert!((ta - epoch) >= 1_000_000 && (ta - epoch) < 1_200_000, "{}", ta - epoch);
        assert!((tb - ta).abs() < 50_000, "{ta} {tb}");
        assert!(a.wall_ms() - SystemClock.now_ms() < 100);
        assert_eq!(TestClock::scaled(0.0, epoch).scale, 1.0);
    }
}
