//! The time every record is stamped with and every schedule (`--at`, the daily quota's
//! window) is read against.
//!
//! In release builds this is the system clock. Debug builds (the ones the test suite runs)
//! also read `BULLETIN_CLOCK`: `2026-12-03T09:00:00Z` starts the clock at that instant, and
//! `2026-12-03T09:00:00Z*600` also makes it run 600 times faster than real time, so a test
//! can move a day on, or wait out a window, without waiting a day. Waits ([`sleep_for`])
//! are scaled the same way. Release builds ignore the variable.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A clock that starts at `origin` when the process first asks, running `speed` times real time.
#[derive(Debug, Clone, Copy)]
struct Shifted {
    origin: OffsetDateTime,
    started: Instant,
    speed: f64,
}

/// The test clock, when one is set (debug builds only).
fn shifted() -> Option<&'static Shifted> {
    static CLOCK: OnceLock<Option<Shifted>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            if !cfg!(debug_assertions) {
                return None;
            }
            let value = std::env::var("BULLETIN_CLOCK").ok()?;
            parse_shifted(&value)
        })
        .as_ref()
}

fn parse_shifted(value: &str) -> Option<Shifted> {
    let (at, speed) = match value.split_once('*') {
        Some((at, speed)) => (at, speed.trim().parse::<f64>().ok()?),
        None => (value, 1.0),
    };
    let origin = OffsetDateTime::parse(at.trim(), &Rfc3339).ok()?;
    (speed.is_finite() && speed > 0.0).then_some(Shifted {
        origin,
        started: Instant::now(),
        speed,
    })
}

/// Now, in UTC.
pub fn now() -> OffsetDateTime {
    match shifted() {
        Some(c) => c.origin + c.started.elapsed().mul_f64(c.speed),
        None => OffsetDateTime::now_utc(),
    }
}

/// Now as RFC 3339 in UTC, e.g. `2026-11-26T13:05:00.123Z`.
pub fn now_rfc3339() -> String {
    now().format(&Rfc3339).unwrap_or_default()
}

/// How long to sleep in real time for `d` to pass on this clock.
pub fn real_duration(d: Duration) -> Duration {
    match shifted() {
        Some(c) => d.div_f64(c.speed),
        None => d,
    }
}

/// The time from now until `t` on this clock (zero when `t` has passed).
pub fn until(t: OffsetDateTime) -> Duration {
    let left = t - now();
    if left.is_positive() {
        left.unsigned_abs()
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_starts_where_it_is_set_and_runs_at_its_speed() {
        let c = parse_shifted("2026-12-03T09:00:00Z*600").unwrap();
        assert_eq!(c.origin, time::macros::datetime!(2026-12-03 09:00 UTC));
        assert_eq!(c.speed, 600.0);
        assert_eq!(
            parse_shifted("2026-12-03T10:00:00+01:00").unwrap().origin,
            time::macros::datetime!(2026-12-03 09:00 UTC)
        );
        assert!(parse_shifted("tomorrow").is_none());
        assert!(parse_shifted("2026-12-03T09:00:00Z*0").is_none());
    }
}
