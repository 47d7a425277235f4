//! Sending rates (`10/s`, `30/m`, `500/h`, `2/10s`, `unlimited`) and a limiter that keeps them
//! strictly.
//!
//! "10/s" means: **no window of one second, wherever it starts, holds more than 10 sends.** A
//! token bucket or GCRA with a burst does not promise that (a full bucket plus a refill can
//! put nearly twice the count in one window); [`RateLimiter`] does, by remembering the last
//! `count` send times and letting a send start only once the oldest of them is `per` old.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio::time::{Instant, sleep_until};

/// At most `count` sends in any window of length `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// Parse `COUNT/UNIT` or `COUNT/NUNIT` (`10/s`, `30/m`, `500/h`, `2/10s`, `1000/d`) or
    /// `unlimited` (`Ok(None)`). Units: `s`, `sec`, `second`, `m`, `min`, `minute`, `h`,
    /// `hour`, `d`, `day` (plurals too).
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let s = text.trim();
        if s.eq_ignore_ascii_case("unlimited") {
            return Ok(None);
        }
        let usage = || {
            format!(
                "invalid rate {text:?}: expected COUNT/UNIT such as 10/s, 30/m, 500/h or 2/10s, or `unlimited`"
            )
        };
        let (count, window) = s.split_once('/').ok_or_else(usage)?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        if count == 0 {
            return Err(format!(
                "invalid rate {text:?}: the count must be at least 1 (write `unlimited` for no limit)"
            ));
        }
        let window = window.trim();
        let digits = window.len()
            - window
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let (n, unit) = window.split_at(digits);
        let n: u64 = if n.is_empty() {
            1
        } else {
            n.parse().map_err(|_| usage())?
        };
        let unit_secs = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "" => return Err(usage()),
            other => {
                return Err(format!(
                    "invalid rate {text:?}: unknown unit {other:?} (use s, m, h or d)"
                ));
            }
        };
        if n == 0 {
            return Err(format!(
                "invalid rate {text:?}: the window must be longer than zero"
            ));
        }
        let secs = n.checked_mul(unit_secs).ok_or_else(usage)?;
        Ok(Some(Rate {
            count,
            per: Duration::from_secs(secs),
        }))
    }

    /// The long-run sends per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }

    /// The shortest time `n` sends can take at this rate (the first `count` go at once).
    pub fn minimum_duration(&self, n: u64) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let windows = (n - 1) / u64::from(self.count);
        self.per
            .saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX))
    }
}

impl fmt::Display for Rate {
    /// `10/s`, `2/10s`, `30/m`, `500/h`, `1000/d`: parses back to the same rate (windows that
    /// are not whole seconds show as milliseconds, `3/1500ms`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per.subsec_nanos() != 0 {
            return write!(f, "{}/{}ms", self.count, self.per.as_millis());
        }
        let secs = self.per.as_secs();
        let (n, unit) = if secs.is_multiple_of(86_400) {
            (secs / 86_400, "d")
        } else if secs.is_multiple_of(3600) {
            (secs / 3600, "h")
        } else if secs.is_multiple_of(60) {
            (secs / 60, "m")
        } else {
            (secs, "s")
        };
        if n == 1 {
            write!(f, "{}/{unit}", self.count)
        } else {
            write!(f, "{}/{n}{unit}", self.count)
        }
    }
}

/// A strict sliding-window limiter shared by every connection of a send.
///
/// It keeps the last `count` sends (a 500/h limit keeps 500 small slots).
/// [`acquire`](Self::acquire) waits until the oldest of them has *ended* and is `per` old, then
/// takes a slot; the slot's time is when its [`Permit`] is dropped, i.e. when the message's
/// transaction is over. Waiters are served in arrival order.
///
/// Counting each send from its end is what makes the promise hold as the *server* sees it: the
/// server receives message `i`'s final `.` no later than its reply ends the transaction (`c[i]`),
/// and message `i + count` is not begun before `c[i] + per`, so whatever the network delays, no
/// window of length `per` on the server's clock holds more than `count` messages. The cost is
/// that the achieved rate is a little under the limit (by the length of a transaction per
/// window).
#[derive(Debug)]
pub struct RateLimiter {
    rate: Rate,
    origin: Instant,
    /// Serves waiters one at a time, in arrival order.
    turn: Mutex<()>,
    slots: std::sync::Mutex<Slots>,
    /// Signalled when a permit ends.
    ended: Notify,
}

#[derive(Debug, Default)]
struct Slots {
    next: u64,
    /// The last `count` sends, oldest first.
    recent: VecDeque<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u64,
    /// Nanoseconds since `origin`: the start while running, the end once ended.
    at: u64,
    ended: bool,
}

/// One send's place in the window; dropping it ends the send.
#[derive(Debug)]
pub struct Permit<'a> {
    limiter: &'a RateLimiter,
    seq: u64,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.end(self.seq);
    }
}

enum Wait {
    Until(Instant),
    ForAnEnd,
}

impl RateLimiter {
    pub fn new(rate: Rate) -> Self {
        RateLimiter {
            rate,
            origin: Instant::now(),
            turn: Mutex::new(()),
            slots: std::sync::Mutex::new(Slots::default()),
            ended: Notify::new(),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until one more send fits in every window, and count it from the moment the returned
    /// permit is dropped. Dropping the future before it completes counts nothing.
    pub async fn acquire(&self) -> Permit<'_> {
        let _turn = self.turn.lock().await;
        let count = self.rate.count as usize;
        loop {
            let wait = {
                let mut slots = self.lock();
                if slots.recent.len() < count {
                    let seq = slots.next;
                    slots.next += 1;
                    let at = self.now();
                    slots.recent.push_back(Slot {
                        seq,
                        at,
                        ended: false,
                    });
                    return Permit { limiter: self, seq };
                }
                match slots.recent.front().copied() {
                    Some(oldest) if oldest.ended => {
                        let ready = self.origin + Duration::from_nanos(oldest.at) + self.rate.per;
                        if ready <= Instant::now() {
                            slots.recent.pop_front();
                            continue;
                        }
                        Wait::Until(ready)
                    }
                    _ => Wait::ForAnEnd,
                }
            };
            match wait {
                Wait::Until(t) => sleep_until(t).await,
                // Only the waiter holding the turn waits here, so a stored notification
                // (an end between the check and this wait) is never lost.
                Wait::ForAnEnd => self.ended.notified().await,
            }
        }
    }

    fn end(&self, seq: u64) {
        let now = self.now();
        let mut slots = self.lock();
        if let Some(slot) = slots.recent.iter_mut().find(|s| s.seq == seq) {
            slot.at = slot.at.max(now);
            slot.ended = true;
        }
        drop(slots);
        self.ended.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn parses_rates() {
        let r = |s| Rate::parse(s).unwrap().unwrap();
        assert_eq!(
            r("10/s"),
            Rate {
                count: 10,
                per: Duration::from_secs(1)
            }
        );
        assert_eq!(
            r("30/m"),
            Rate {
                count: 30,
                per: Duration::from_secs(60)
            }
        );
        assert_eq!(
            r(" 500 / h "),
            Rate {
                count: 500,
                per: Duration::from_secs(3600)
            }
        );
        assert_eq!(
            r("2/10s"),
            Rate {
                count: 2,
                per: Duration::from_secs(10)
            }
        );
        assert_eq!(
            r("100/5min"),
            Rate {
                count: 100,
                per: Duration::from_secs(300)
            }
        );
        assert_eq!(
            r("1000/day"),
            Rate {
                count: 1000,
                per: Duration::from_secs(86_400)
            }
        );
        assert_eq!(Rate::parse("unlimited"), Ok(None));
        assert_eq!(Rate::parse("Unlimited"), Ok(None));
    }

    #[test]
    fn refuses_bad_rates_clearly() {
        assert_eq!(
            Rate::parse("fast").unwrap_err(),
            "invalid rate \"fast\": expected COUNT/UNIT such as 10/s, 30/m, 500/h or 2/10s, or `unlimited`"
        );
        assert_eq!(
            Rate::parse("0/s").unwrap_err(),
            "invalid rate \"0/s\": the count must be at least 1 (write `unlimited` for no limit)"
        );
        assert_eq!(
            Rate::parse("10/w").unwrap_err(),
            "invalid rate \"10/w\": unknown unit \"w\" (use s, m, h or d)"
        );
        assert_eq!(
            Rate::parse("10/0s").unwrap_err(),
            "invalid rate \"10/0s\": the window must be longer than zero"
        );
        for bad in [
            "10",
            "/s",
            "-1/s",
            "1.5/s",
            "10/",
            "10/s/s",
            "99999999999/s",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_what_it_parses() {
        for s in [
            "10/s", "2/10s", "30/m", "500/h", "100/5m", "1000/d", "7/90s",
        ] {
            assert_eq!(Rate::parse(s).unwrap().unwrap().to_string(), s);
        }
        let r = Rate::parse("30/m").unwrap().unwrap();
        assert_eq!(r.per_second(), 0.5);
        assert_eq!(r.minimum_duration(0), Duration::ZERO);
        assert_eq!(r.minimum_duration(30), Duration::ZERO);
        assert_eq!(r.minimum_duration(31), Duration::from_secs(60));
        assert_eq!(r.minimum_duration(91), Duration::from_secs(180));
    }

    /// Check that no window of length `per` holds more than `count` of `times`.
    fn assert_strict(times: &mut [Instant], rate: Rate) {
        times.sort();
        for i in rate.count as usize..times.len() {
            let gap = times[i] - times[i - rate.count as usize];
            assert!(
                gap >= rate.per,
                "sends {} and {i} are {gap:?} apart; {rate} allows no more than {} in {:?}",
                i - rate.count as usize,
                rate.count,
                rate.per
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_out_in_exact_windows() {
        let rate = Rate::parse("3/s").unwrap().unwrap();
        let limiter = RateLimiter::new(rate);
        let start = Instant::now();
        let mut offsets = Vec::new();
        for _ in 0..9 {
            limiter.acquire().await;
            offsets.push((Instant::now() - start).as_millis());
        }
        assert_eq!(offsets, [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_sender_is_never_held_back() {
        let limiter = RateLimiter::new(Rate::parse("2/s").unwrap().unwrap());
        let start = Instant::now();
        for i in 0..5u64 {
            tokio::time::sleep_until(start + Duration::from_millis(600 * i)).await;
            let before = Instant::now();
            limiter.acquire().await;
            assert_eq!(Instant::now(), before, "send {i} waited");
        }
    }

    /// A small deterministic generator, so every schedule is reproducible.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_ever_holds_more_than_count_under_random_schedules() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..60 {
            let count = 1 + (rng.next() % 7) as u32;
            let per = Duration::from_millis(50 + rng.next() % 2000);
            let rate = Rate { count, per };
            let limiter = Arc::new(RateLimiter::new(rate));
            let times = Arc::new(std::sync::Mutex::new(Vec::new()));
            let tasks = 1 + rng.next() % 8;
            let mut handles = Vec::new();
            for _ in 0..tasks {
                // each task: a run of sends with random pauses, as SMTP connections would
                let pauses: Vec<u64> = (0..(u64::from(2 * count) + 1 + rng.next() % 25))
                    .map(|_| match rng.next() % 4 {
                        0 => 0,
                        1 => rng.next() % 10,
                        2 => rng.next() % per.as_millis() as u64,
                        _ => rng.next() % (3 * per.as_millis() as u64),
                    })
                    .collect();
                let limiter = Arc::clone(&limiter);
                let times = Arc::clone(&times);
                handles.push(tokio::spawn(async move {
                    for p in pauses {
                        tokio::time::sleep(Duration::from_millis(p)).await;
                        limiter.acquire().await;
                        times.lock().unwrap().push(Instant::now());
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            let mut times = times.lock().unwrap().clone();
            assert!(
                times.len() > count as usize,
                "round {round}: too few sends to test"
            );
            assert_strict(&mut times, rate);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_pool_paces_through_the_throttle_trait() {
        let throttle: Arc<dyn crate::deliver::pool::Throttle> =
            Arc::new(RateLimiter::new(Rate::parse("2/s").unwrap().unwrap()));
        let start = Instant::now();
        for _ in 0..5 {
            throttle.acquire().await;
        }
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_counts_from_its_end() {
        let limiter = RateLimiter::new(Rate::parse("2/s").unwrap().unwrap());
        let start = Instant::now();
        let first = limiter.acquire().await;
        let _second = limiter.acquire().await;
        // the first transaction takes 300 ms: its slot is free 1 s after it ended
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(first);
        let _third = limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(1300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_send_holds_its_slot() {
        let limiter = Arc::new(RateLimiter::new(Rate::parse("1/s").unwrap().unwrap()));
        let start = Instant::now();
        let held = limiter.acquire().await;
        let waiter = {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                let _p = limiter.acquire().await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            !waiter.is_finished(),
            "a slot was reused while its send ran"
        );
        drop(held);
        let got = waiter.await.unwrap();
        assert_eq!(got - start, Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_counts_nothing() {
        let limiter = RateLimiter::new(Rate::parse("1/s").unwrap().unwrap());
        let start = Instant::now();
        limiter.acquire().await;
        // gives up waiting after 100 ms
        let gave_up = tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await;
        assert!(gave_up.is_err());
        limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        limiter.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }
}
