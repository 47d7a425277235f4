//! An issue's name in URLs: its folder's name, lower case, with anything but ASCII letters and
//! digits turned into single hyphens (`2023-09 Cluster News` → `2023-09-cluster-news`).

/// The URL-safe name of an issue folder called `name`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "issue".into()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn folder_names_become_url_names() {
        assert_eq!(slug("2023-09-cluster-news"), "2023-09-cluster-news");
        assert_eq!(slug("2023-09 Cluster News!"), "2023-09-cluster-news");
        assert_eq!(slug("_Été 2024_"), "t-2024");
        assert_eq!(slug("…"), "issue");
    }
}
