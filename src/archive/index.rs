//! The archive's front page: every published issue, newest first, with its subject, date and
//! preheader.

use super::{Links, Page};
use crate::compose::markup::escape_html;
use crate::project::Project;

/// The archive's title: `[archive] title`, else the list's name (`[sender] list_id`'s phrase),
/// else the sender's name.
pub fn title(project: &Project) -> String {
    let c = &project.config;
    c.archive
        .title
        .clone()
        .or_else(|| {
            c.sender
                .list_id
                .as_deref()
                .and_then(|id| id.split('<').next())
                .map(|n| n.trim().trim_matches('"').trim().to_string())
                .filter(|n| !n.is_empty())
        })
        .unwrap_or_else(|| c.sender.name.clone())
}

/// The front page.
pub fn render(project: &Project, title: &str, pages: &[Page], links: &Links) -> String {
    let lang = project
        .config
        .sender
        .language
        .as_ref()
        .map_or("und", |l| l.as_str());
    let title = escape_html(title);
    let mut items = String::new();
    for p in pages {
        items.push_str(&format!(
            "<li><h2><a href=\"{slug}/\">{subject}</a></h2><p class=\"date\"><time datetime=\"{date}\">{long}</time></p>{pre}</li>\n",
            slug = p.slug,
            subject = escape_html(&p.subject),
            date = p.published,
            long = p.published.long(),
            pre = if p.preheader.trim().is_empty() {
                String::new()
            } else {
                format!("<p>{}</p>", escape_html(&p.preheader))
            },
        ));
    }
    if pages.is_empty() {
        items.push_str("<li><p>No issue has been published yet.</p></li>\n");
    }
    let subscribe = project
        .config
        .archive
        .subscribe_url
        .as_deref()
        .map(|u| format!(" · <a href=\"{}\">Subscribe</a>", escape_html(u)))
        .unwrap_or_default();
    let canonical = links
        .base
        .as_deref()
        .map(|b| format!("<link rel=\"canonical\" href=\"{}\">\n", escape_html(b)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="alternate" type="application/atom+xml" title="{title}" href="feed.xml">
{canonical}<style>
body {{ margin: 0; background: #e9eef2; color: #1f2933; font: 16px/1.5 Arial, Helvetica, sans-serif; }}
main {{ max-width: 640px; margin: 0 auto; padding: 24px 16px 48px; }}
h1 {{ font-size: 28px; line-height: 1.25; margin: 0 0 4px; overflow-wrap: anywhere; }}
header p {{ margin: 0 0 24px; }}
ol {{ list-style: none; margin: 0; padding: 0; }}
li {{ background: #ffffff; border-radius: 6px; padding: 16px 20px; margin: 0 0 16px; }}
h2 {{ font-size: 20px; line-height: 1.3; margin: 0; overflow-wrap: anywhere; }}
li p {{ margin: 4px 0 0; overflow-wrap: anywhere; }}
.date {{ color: #52606d; font-size: 14px; }}
a {{ color: #0b4f6c; }}
</style>
</head>
<body>
<main>
<header>
<h1>{title}</h1>
<p>Every issue, newest first · <a href="feed.xml">Feed</a>{subscribe}</p>
</header>
<ol>
{items}</ol>
</main>
</body>
</html>
"#
    )
}
