//! The scaled test clock of `yaoshi serve --test-clock --test-clock-scale S
//! --test-clock-epoch-ms E`, mirrored in the test: KMS time = E + (wall − E) × S (+ an offset the
//! chaos tests never move). Every node of a cluster, restarted ones included, gets the same E and
//! S, so they all agree on KMS time with the test process (one machine, one wall clock).

use std::time::Duration;

/// Unix milliseconds of the wall clock.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The nodes' scaled KMS clock.
#[derive(Debug, Clone, Copy)]
pub struct ScaledClock {
    /// The wall millisecond from which KMS time runs faster.
    pub epoch_ms: i64,
    /// How many KMS milliseconds pass per wall millisecond.
    pub scale: f64,
}

impl ScaledClock {
    /// A clock running `scale` times faster from now.
    pub fn starting_now(scale: f64) -> ScaledClock {
        ScaledClock { epoch_ms: wall_ms(), scale }
    }

    /// KMS time at wall time `wall` (the same arithmetic as the node's `TestClock`).
    pub fn kms_at(&self, wall: i64) -> i64 {
        let elapsed = (wall.saturating_sub(self.epoch_ms) as f64 * self.scale) as i64;
        self.epoch_ms.saturating_add(elapsed)
    }

    /// KMS time now.
    pub fn now_ms(&self) -> i64 {
        self.kms_at(wall_ms())
    }

    /// A KMS duration in wall time.
    pub fn wall_duration(&self, kms_ms: i64) -> Duration {
        Duration::from_millis((kms_ms.max(0) as f64 / self.scale).ceil() as u64)
    }

    /// Wall time from now until KMS time reaches `kms_ms` (zero if it has).
    pub fn wall_until(&self, kms_ms: i64) -> Duration {
        self.wall_duration(kms_ms.saturating_sub(self.now_ms()))
    }

    /// A wall duration in KMS milliseconds.
    pub fn kms_duration(&self, wall: Duration) -> i64 {
        (wall.as_millis() as f64 * self.scale) as i64
    }

    /// The `yaoshi serve` arguments that run this clock.
    pub fn serve_args(&self) -> Vec<String> {
        vec![
            "--test-clock".into(),
            "--test-clock-scale".into(),
            self.scale.to_string(),
            "--test-clock-epoch-ms".into(),
            self.epoch_ms.to_string(),
        ]
    }
}

/// Parses an API date (`YYYY-MM-DDThh:mm:ssZ`) into Unix milliseconds.
pub fn parse_date_ms(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let t = time::PrimitiveDateTime::parse(s, &fmt).ok()?;
    Some(t.assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_scale() {
        assert_eq!(parse_date_ms("2016-03-28T03:13:08Z"), Some(1_459_134_788_000));
        assert_eq!(parse_date_ms("yesterday"), None);
        let c = ScaledClock { epoch_ms: 1_000, scale: 50_000.0 };
        assert_eq!(c.kms_at(1_000), 1_000);
        assert_eq!(c.kms_at(1_010), 501_000);
        assert_eq!(c.wall_duration(7 * 86_400_000), Duration::from_millis(12_096));
        assert_eq!(c.kms_duration(Duration::from_millis(100)), 5_000_000);
    }
}
