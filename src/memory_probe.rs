//! For the memory checks of the tests: this process's memory figures from `/proc/self/status`.

/// A `/proc/self/status` field such as `VmHWM:` (peak resident set), in KiB; 0 where there is
/// no such file (not Linux).
pub fn vm(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
