//! Finding email addresses and status codes in free text, without regular expressions and
//! without ever slicing inside a character.

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// Every address-looking `local@domain.tld` in `text`, lower-cased, in order, with the byte
/// offset of its start.
pub fn find_all(text: &str) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = bytes
        .get(i..)
        .and_then(|s| s.iter().position(|&b| b == b'@'))
    {
        let at = i + rel;
        let mut start = at;
        while start > 0 && is_local_char(bytes[start - 1]) {
            start -= 1;
        }
        // A leading dot or quote-ish punctuation is not part of the address.
        while start < at && matches!(bytes[start], b'.' | b'\'' | b'`' | b'=' | b'/') {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain_char(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        i = end.max(at + 1);
        if start == at || end <= at + 1 {
            continue;
        }
        // Both ends sit on ASCII bytes, so these are char boundaries.
        let (Some(local), Some(domain)) = (text.get(start..at), text.get(at + 1..end)) else {
            continue;
        };
        if !domain.contains('.') || domain.starts_with('.') || domain.contains("..") {
            continue;
        }
        let tld = domain.rsplit('.').next().unwrap_or("");
        if tld.len() < 2 || tld.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        out.push((start, format!("{local}@{domain}").to_ascii_lowercase()));
    }
    out
}

/// The first address in `text`.
pub fn first(text: &str) -> Option<String> {
    find_all(text).into_iter().next().map(|(_, a)| a)
}

/// Addresses that write reports rather than receive mail.
pub fn is_daemon(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("");
    let local = local.to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon" | "postmaster" | "mailerdaemon" | "mail-daemon" | "root" | "daemon"
    ) || local.starts_with("mailer-daemon")
        || local.starts_with("postmaster")
        || local.contains("noreply")
        || local.contains("no-reply")
}

/// An enhanced status code `D.SSS.DDD` (class 2, 4 or 5) at a word boundary in `text`.
pub fn find_status(text: &str) -> Option<String> {
    find_statuses(text).into_iter().next()
}

/// Every enhanced status code in `text`, in order.
pub fn find_statuses(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= b.len() {
        let c = b[i];
        if (c == b'2' || c == b'4' || c == b'5')
            && b[i + 1] == b'.'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let mut j = i + 2;
            let s1 = j;
            while j < b.len() && b[j].is_ascii_digit() && j - s1 < 3 {
                j += 1;
            }
            if j > s1 && j < b.len() && b[j] == b'.' {
                let s2 = j + 1;
                let mut k = s2;
                while k < b.len() && b[k].is_ascii_digit() && k - s2 < 3 {
                    k += 1;
                }
                let ends_clean = k == b.len()
                    || !(b[k].is_ascii_alphanumeric()
                        || b[k] == b'.' && k + 1 < b.len() && b[k + 1].is_ascii_digit());
                if k > s2 && ends_clean {
                    if let Some(s) = text.get(i..k) {
                        out.push(s.to_string());
                    }
                    i = k;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// A basic SMTP reply code (`550`, `452`) standing as a word in `text`: the first one.
pub fn find_smtp_code(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 3 <= b.len() {
        let c = b[i];
        if (c == b'4' || c == b'5')
            && b[i + 1].is_ascii_digit()
            && b[i + 2].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric()
                    || matches!(b[i - 1], b'.' | b'-' | b':' | b'/' | b'#')))
            && (i + 3 == b.len() || matches!(b[i + 3], b' ' | b'-' | b'\t' | b'\r' | b'\n'))
        {
            let n = u16::from(c - b'0') * 100
                + u16::from(b[i + 1] - b'0') * 10
                + u16::from(b[i + 2] - b'0');
            if (b[i + 1] - b'0') <= 5 {
                return Some(n);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses_in_angle_brackets_and_text() {
        let a = find_all("<Kijitora@Example.JP>: host mx said: 550 user.name+x@b.example.org.");
        let v: Vec<_> = a.into_iter().map(|(_, s)| s).collect();
        assert_eq!(v, ["kijitora@example.jp", "user.name+x@b.example.org"]);
    }

    #[test]
    fn ignores_non_addresses() {
        assert!(find_all("a@b @ c@d.1 x@localhost").is_empty());
        assert!(find_all("ü@ü.é @").is_empty());
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            find_status("550 5.1.1 <a@b.c>... User unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(find_status("#5.2.2 quota"), Some("5.2.2".into()));
        assert_eq!(find_status("version 1.5.1.2 and 192.0.2.1"), None);
        assert_eq!(find_status("4.7.26 x").as_deref(), Some("4.7.26"));
    }

    #[test]
    fn smtp_codes() {
        assert_eq!(find_smtp_code("said: 550 no such user"), Some(550));
        assert_eq!(find_smtp_code("552-5.2.2 full"), Some(552));
        assert_eq!(find_smtp_code("port 2550 at 192.0.2.550x"), None);
    }
}
