//! Pure rules of the state, shared by apply (which enforces them) and the queries (which find
//! work that is due by them). No storage access: functions of stored values and times only.

use yaoshi_model::{KeyMetadata, KeyOrigin, KeyState};

/// The LastRotationDate a rotation scheduled for `expected_ms` gives `key` when applied at
/// `at_ms`: the latest slot `expected + k × interval` not after `at_ms` (so a late rotation stays
/// on the schedule and a long outage does not produce a burst of versions). `None` when the
/// rotation is not due: the key is not Enabled, does not rotate, or its NextRotationDate is not
/// `expected_ms` (already rotated, policy changed), or `at_ms` is before it.
pub(crate) fn rotation_slot(key: &KeyMetadata, expected_ms: i64, at_ms: i64) -> Option<i64> {
    let interval_ms = i64::try_from(key.rotation_interval_s?).ok()?.checked_mul(1000)?;
    if key.state != KeyState::Enabled
        || key.origin != KeyOrigin::AliyunKms
        || !key.spec.is_symmetric()
        || interval_ms <= 0
        || key.next_rotation_ms() != Some(expected_ms)
        || at_ms < expected_ms
    {
        return None;
    }
    let missed = (at_ms - expected_ms) / interval_ms;
    Some(expected_ms + missed * interval_ms)
}
