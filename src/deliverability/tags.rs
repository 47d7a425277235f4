//! Tag lists: `v=DKIM1; k=rsa; p=…` (RFC 6376 §3.2), the syntax DKIM key records and DMARC
//! records share.

/// The `name=value` pairs of a tag list, in order, names and values trimmed. A part without
/// `=` is an error naming it; empty parts (a trailing `;`) are allowed.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in text.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("`{part}` is not a tag=value pair"));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("`{part}` has no tag name"));
        }
        if out.iter().any(|(n, _): &(String, String)| n == name) {
            return Err(format!("the tag `{name}` appears twice"));
        }
        out.push((name.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// The value of tag `name`.
pub fn get<'a>(tags: &'a [(String, String)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists_parse() {
        let t = parse("v=DKIM1; k=rsa;\tp=MIIB CgKC ;").unwrap();
        assert_eq!(get(&t, "v"), Some("DKIM1"));
        assert_eq!(get(&t, "p"), Some("MIIB CgKC"));
        assert_eq!(get(&t, "h"), None);
        assert!(parse("v=DMARC1; p").unwrap_err().contains("`p`"));
        assert!(parse("p=none; p=reject").unwrap_err().contains("twice"));
    }
}
