//! Image files of the archive, named after their content (`assets/3f2a…c1.png`): the same
//! image in many issues is stored once, and a changed image gets a new name.

use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest, Sha256};

/// The site path of the image file at `path`: `assets/` + 16 hex digits of its SHA-256 + its
/// extension.
pub fn hashed_name(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let digest = Sha256::digest(&bytes);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    Ok(format!("assets/{}.{ext}", &hex::encode(digest)[..16]))
}

/// `html` with every `src`/`background` attribute whose value is a key of `to` replaced by
/// its value.
pub fn relink(html: &str, to: &[(String, String)]) -> String {
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    for tag in crate::compose::markup::tags(html) {
        for (name, value) in &tag.attrs {
            if !(name.eq_ignore_ascii_case("src") || name.eq_ignore_ascii_case("background")) {
                continue;
            }
            let Some((_, new)) = to.iter().find(|(old, _)| old == value) else {
                continue;
            };
            // The value is a slice of `html`: its place is where it lies in memory.
            let start = value.as_ptr() as usize - html.as_ptr() as usize;
            if start < at {
                continue;
            }
            out.push_str(&html[at..start]);
            out.push_str(new);
            at = start + value.len();
        }
    }
    out.push_str(&html[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_image_attributes_with_a_known_source_change() {
        let html = r#"<img src="a.png" alt="a.png"><td background="b.png"><a href="a.png">a.png</a><img src="c.png">"#;
        let to = [
            ("a.png".to_string(), "../assets/1.png".to_string()),
            ("b.png".to_string(), "../assets/2.png".to_string()),
        ];
        assert_eq!(
            relink(html, &to),
            r#"<img src="../assets/1.png" alt="a.png"><td background="../assets/2.png"><a href="a.png">a.png</a><img src="c.png">"#
        );
    }
}
