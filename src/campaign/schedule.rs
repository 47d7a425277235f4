//! When a send may go: a start time (`--at`) and the waits before it or before the daily
//! quota's next window, which Ctrl-C cancels.

use std::io::IsTerminal as _;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::preflight::human_duration;
use crate::clock;

/// The local offset, read once (the system only tells it safely before threads start, so
/// `bulletin send` asks first thing); UTC when it cannot be known.
pub fn local_offset() -> UtcOffset {
    static LOCAL: OnceLock<UtcOffset> = OnceLock::new();
    *LOCAL.get_or_init(|| UtcOffset::local_offset_at(clock::now()).unwrap_or(UtcOffset::UTC))
}

/// Parse a start time: `2026-12-02 09:00` (local time), with seconds, with a `T`, or with an
/// offset (`2026-12-02 09:00 +01:00`, `2026-12-02T09:00:00Z`).
pub fn parse_at(text: &str) -> anyhow::Result<OffsetDateTime> {
    let t = text.trim();
    if let Ok(at) = OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(at);
    }
    let normal = t.replacen('T', " ", 1);
    let (local, offset) = split_offset(&normal);
    let date_time = PrimitiveDateTime::parse(
        local.trim(),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    )
    .or_else(|_| {
        PrimitiveDateTime::parse(
            local.trim(),
            format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        )
    })
    .map_err(|_| {
        anyhow::anyhow!(
            "--at {text:?}: expected a date and time such as \"2026-12-02 09:00\" (local time) \
             or \"2026-12-02 09:00 +01:00\""
        )
    })?;
    let offset = match offset {
        Some(o) => o.map_err(|_| {
            anyhow::anyhow!("--at {text:?}: the offset must read +HH:MM, -HH:MM or Z")
        })?,
        None => {
            // The offset in force at that date (summer time or not), not today's.
            let guess = date_time.assume_offset(local_offset());
            UtcOffset::local_offset_at(guess).unwrap_or(local_offset())
        }
    };
    Ok(date_time.assume_offset(offset))
}

/// Split `2026-12-02 09:00 +01:00` into the local part and its offset, if one is written.
fn split_offset(s: &str) -> (&str, Option<Result<UtcOffset, ()>>) {
    if let Some(local) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        return (local, Some(Ok(UtcOffset::UTC)));
    }
    // An offset is the last `+` or a `-` after the time's colon.
    let Some(colon) = s.find(':') else {
        return (s, None);
    };
    let Some(sign) = s[colon..].rfind(['+', '-']).map(|i| i + colon) else {
        return (s, None);
    };
    let text = s[sign..].replace(':', "");
    let parsed = (|| {
        let negative = text.starts_with('-');
        let digits = &text[1..];
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let h: i8 = digits[..2].parse().map_err(|_| ())?;
        let m: i8 = digits[2..].parse().map_err(|_| ())?;
        let (h, m) = if negative { (-h, -m) } else { (h, m) };
        UtcOffset::from_hms(h, m, 0).map_err(|_| ())
    })();
    (&s[..sign], Some(parsed))
}

/// A time as the user reads it: `2026-12-02 09:00 +00:00`, in local time.
pub fn show(t: OffsetDateTime) -> String {
    let t = t.to_offset(local_offset());
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] [offset_hour sign:mandatory]:[offset_minute]"
    ))
    .unwrap_or_else(|_| t.to_string())
}

/// `2026-12-02 09:00 +00:00 (in 3h 12m)`.
pub fn show_with_wait(t: OffsetDateTime) -> String {
    format!("{} (in {})", show(t), human_duration(clock::until(t)))
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    Reached,
    /// Ctrl-C.
    Cancelled,
}

/// Wait until `t` on the clock, saying what for on stderr (a line, and a spinner with the time
/// left when stderr is a terminal). Ctrl-C ends the wait at once.
pub fn wait_until(t: OffsetDateTime, what: &str) -> anyhow::Result<Waited> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Listen for Ctrl-C before saying that it cancels.
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        tokio::select! {
            biased;
            _ = &mut interrupt => return Ok(Waited::Cancelled),
            () = std::future::ready(()) => {}
        }
        eprintln!("waiting until {} {what}; Ctrl-C cancels", show_with_wait(t));
        let bar = spinner();
        loop {
            let left = clock::until(t);
            if left.is_zero() {
                bar.finish_and_clear();
                return Ok(Waited::Reached);
            }
            bar.set_message(format!(
                "waiting until {} {what} · Ctrl-C cancels",
                show_with_wait(t)
            ));
            let step = clock::real_duration(left).min(Duration::from_secs(1));
            tokio::select! {
                _ = &mut interrupt => {
                    bar.finish_and_clear();
                    return Ok(Waited::Cancelled);
                }
                () = tokio::time::sleep(step) => {}
            }
        }
    })
}

fn spinner() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn start_times_with_and_without_offsets() {
        for (text, want) in [
            ("2026-12-02 09:00 +01:00", datetime!(2026-12-02 08:00 UTC)),
            ("2026-12-02T09:00:00-0230", datetime!(2026-12-02 11:30 UTC)),
            ("2026-12-02 09:00Z", datetime!(2026-12-02 09:00 UTC)),
            ("2026-12-02T09:00:00Z", datetime!(2026-12-02 09:00 UTC)),
        ] {
            assert_eq!(parse_at(text).unwrap(), want, "{text}");
        }
        let local = parse_at("2026-12-02 09:00:30").unwrap();
        assert_eq!((local.hour(), local.minute(), local.second()), (9, 0, 30));
        let error = |text: &str| parse_at(text).unwrap_err().to_string();
        assert!(error("tomorrow at 9").contains("expected a date"));
        assert!(error("2026-12-02 09:00 +1").contains("offset"));
        assert!(error("2026-13-02 09:00").contains("expected a date"));
    }
}
