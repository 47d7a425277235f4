//! The pages a member sees: one shape for every answer (ask, done, undone, unknown link), no
//! script, no cookies, and forms that post back to the address the page was opened at.

use crate::compose::markup::escape_html;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<meta name=\"robots\" content=\"noindex\">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;color:#1f2933;margin:0}}
main{{max-width:32rem;margin:12vh auto;background:#fff;padding:2rem 2.25rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}}
h1{{font-size:1.35rem;margin:0 0 1rem}}
p{{line-height:1.5}}
button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1f2933;color:#fff;cursor:pointer}}
button.secondary{{background:#e4e7eb;color:#1f2933}}
</style></head>
<body><main>
<h1>{title}</h1>
{body}
</main></body></html>
",
        title = escape_html(title),
    )
}

/// Asks before unsubscribing: a GET never unsubscribes (mail scanners open every link).
pub fn ask(list: &str, masked: &str) -> String {
    page(
        &format!("Unsubscribe from {list}"),
        &format!(
            "<p>Stop sending {list} to <strong>{masked}</strong>?</p>
<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><input type=\"hidden\" name=\"via\" value=\"page\">
<button type=\"submit\" id=\"unsubscribe\">Unsubscribe</button></form>",
            list = escape_html(list),
            masked = escape_html(masked),
        ),
    )
}

/// After an unsubscribe: done, with an undo.
pub fn unsubscribed(list: &str, masked: &str) -> String {
    page(
        "You are unsubscribed",
        &format!(
            "<p><strong>{masked}</strong> will get no more of {list}.</p>
<form method=\"post\"><input type=\"hidden\" name=\"resubscribe\" value=\"1\">
<p>Did you click by mistake?</p>
<button type=\"submit\" class=\"secondary\" id=\"undo\">Undo: keep me subscribed</button></form>",
            list = escape_html(list),
            masked = escape_html(masked),
        ),
    )
}

/// After an undo.
pub fn resubscribed(list: &str, masked: &str) -> String {
    page(
        "You are subscribed again",
        &format!(
            "<p><strong>{masked}</strong> will get {list} again.</p>
<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\"><input type=\"hidden\" name=\"via\" value=\"page\">
<button type=\"submit\" class=\"secondary\" id=\"unsubscribe\">Unsubscribe after all</button></form>",
            list = escape_html(list),
            masked = escape_html(masked),
        ),
    )
}

/// A link that names nobody: the same shape, saying nothing about any address.
pub fn unknown(list: &str) -> String {
    page(
        "This link does not work",
        &format!(
            "<p>This unsubscribe link is not valid (it may be cut short, or mistyped).</p>
<p>Open the link at the end of a recent issue of {list} again, or reply to that issue and ask to be removed.</p>",
            list = escape_html(list),
        ),
    )
}

/// The service could not record the request: try again.
pub fn failed(list: &str) -> String {
    page(
        "Please try again",
        &format!(
            "<p>Your request could not be recorded just now, so nothing changed. Please try again in a minute; if it keeps failing, reply to an issue of {} and ask to be removed.</p>",
            escape_html(list)
        ),
    )
}

/// A request the service refuses (too large, too many, wrong host).
pub fn refused(title: &str, text: &str) -> String {
    page(title, &format!("<p>{}</p>", escape_html(text)))
}
