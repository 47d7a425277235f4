//! The progress line while a member's message waits for its next try: what it waits for, and
//! when ("waiting for smtp.example.org: attempt 2 of 4, next in 8 s"), in place of the bar,
//! rate, elapsed time and ETA, which say nothing while nothing moves; cut to the terminal's
//! width.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The longest host name shown whole; a longer one is cut.
const HOST_WIDTH: usize = 32;

/// The line's width when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

/// A wait shown on the progress line, counted down by a task of its own.
#[derive(Default)]
pub struct RetryNotice {
    shown: Option<Shown>,
}

struct Shown {
    /// The job waited for.
    id: u64,
    /// The bar's own style, put back when the wait is over.
    style: ProgressStyle,
    ticker: tokio::task::JoinHandle<()>,
}

/// The words on the line for a wait that ends at `next` (`now` being the present).
pub fn describe(host: &str, attempt: u32, of: u32, next: Instant, now: Instant) -> String {
    let host = if host.chars().count() > HOST_WIDTH {
        let cut: String = host.chars().take(HOST_WIDTH - 1).collect();
        format!("{cut}…")
    } else {
        host.to_string()
    };
    let left = next.saturating_duration_since(now);
    if left.is_zero() {
        format!("waiting for {host}: attempt {attempt} of {of}")
    } else {
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        format!("waiting for {host}: attempt {attempt} of {of}, next in {secs} s")
    }
}

/// The columns left for the words after `⠁ 12/40 · `, one kept free so the line never wraps.
fn room(bar: &ProgressBar) -> usize {
    let width = console::Term::stderr()
        .size_checked()
        .map_or(DEFAULT_WIDTH, |(_, cols)| usize::from(cols));
    let counts = format!("{}/{}", bar.position(), bar.length().unwrap_or(0));
    width.saturating_sub(2 + counts.chars().count() + 3 + 1)
}

/// `text` cut to `room` characters, the cut marked with `…`.
fn fit(text: String, room: usize) -> String {
    if text.chars().count() <= room {
        return text;
    }
    if room == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

impl RetryNotice {
    /// Show that job `id` tries `host` again (attempt `attempt` of at most `of`) in `wait`.
    /// Must run inside a tokio runtime.
    pub fn waiting(
        &mut self,
        bar: &ProgressBar,
        id: u64,
        host: &str,
        (attempt, of): (u32, u32),
        wait: Duration,
    ) {
        let style = match self.shown.take() {
            Some(shown) => {
                shown.ticker.abort();
                shown.style
            }
            None => bar.style(),
        };
        if let Ok(waiting) = ProgressStyle::with_template("{spinner} {pos}/{len} · {prefix}") {
            bar.set_style(waiting);
        }
        let (line, host) = (bar.clone(), host.to_string());
        let next = Instant::now() + wait;
        let ticker = tokio::spawn(async move {
            loop {
                let text = describe(&host, attempt, of, next, Instant::now());
                line.set_prefix(fit(text, room(&line)));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        self.shown = Some(Shown { id, style, ticker });
    }

    /// Job `id` is over, or (`None`) a message was taken: the wait it showed is over.
    pub fn over(&mut self, bar: &ProgressBar, id: Option<u64>) {
        if id.is_some_and(|id| self.shown.as_ref().is_some_and(|s| s.id != id)) {
            return;
        }
        if let Some(shown) = self.shown.take() {
            shown.ticker.abort();
            bar.set_prefix("");
            bar.set_style(shown.style);
        }
    }
}

impl Drop for RetryNotice {
    fn drop(&mut self) {
        if let Some(shown) = self.shown.take() {
            shown.ticker.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_counted_in_whole_seconds_up() {
        let now = Instant::now();
        let at = |ms| now + Duration::from_millis(ms);
        assert_eq!(
            describe("smtp.example.org", 2, 4, at(7_200), now),
            "waiting for smtp.example.org: attempt 2 of 4, next in 8 s"
        );
        assert_eq!(
            describe("smtp.example.org", 2, 4, at(8_000), now),
            "waiting for smtp.example.org: attempt 2 of 4, next in 8 s"
        );
        assert_eq!(
            describe("smtp.example.org", 3, 4, now, now),
            "waiting for smtp.example.org: attempt 3 of 4"
        );
    }

    #[test]
    fn the_words_are_cut_to_the_room_left() {
        let text = "waiting for smtp.example.org: attempt 2 of 4, next in 8 s".to_string();
        assert_eq!(fit(text.clone(), 80), text);
        assert_eq!(fit(text.clone(), 30), "waiting for smtp.example.org:…");
        assert_eq!(fit(text.clone(), 1), "…");
        assert_eq!(fit(text, 0), "");
    }

    #[test]
    fn a_long_host_name_is_cut() {
        let host = "a-very-long-relay-name.mail.eu-west-1.example.amazonaws.com";
        let line = describe(host, 2, 4, Instant::now(), Instant::now());
        assert_eq!(
            line,
            "waiting for a-very-long-relay-name.mail.eu-…: attempt 2 of 4"
        );
    }
}
