//! [`MessageFactory`]: everything that is the same for every member is prepared once (images
//! read and base64-encoded, constant headers encoded, the DKIM key parsed); [`MessageFactory::build`]
//! then only encodes what differs per member.

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::compose::{Body, LocalImage, Piece, Rendered};
use crate::config::{Config, resolve};
use crate::subscriber::{Subscriber, normalise_address};

use super::dkim::DkimSigner;
use super::encode::{
    QpStream, base64_lines, check_address, flatten, fold_list, mailbox, phrase, unstructured,
};
use super::error::MessageError;
use super::outgoing::Outgoing;
use super::tokens::{Tokens, base32};

/// Builds one message per member for one issue.
#[derive(Debug)]
pub struct MessageFactory {
    /// Unique in the process: names this factory's encodings of the lines every member shares.
    key: u64,
    tokens: Tokens,
    issue_id: String,
    round: u32,
    /// `[A-Za-z0-9._-]` form of the issue id, for Message-IDs.
    issue_slug: String,
    /// The sender's domain: right-hand side of Message-IDs and Content-IDs.
    domain: String,
    bounce_address: String,
    verp: bool,
    from: String,
    reply_to: Option<String>,
    list_id: String,
    issue_header: String,
    /// `X-Bulletin-List`, when the list is named.
    list_header: Option<String>,
    unsubscribe_mailto: String,
    /// `https://…{token}…` (or `http://`, then without one-click).
    unsubscribe_url: Option<String>,
    one_click: bool,
    content_type: String,
    body_head: String,
    body_mid: String,
    body_tail: Vec<u8>,
    rewrites: Vec<Rewrite>,
    dkim: Option<DkimSigner>,
}

/// An image reference in the HTML and what it becomes.
#[derive(Debug)]
struct Rewrite {
    /// Searches for the reference (its `needle`), built once.
    src: memchr::memmem::Finder<'static>,
    to: String,
}

impl Rewrite {
    fn new(src: &str, to: String) -> Self {
        Rewrite {
            src: memchr::memmem::Finder::new(src.as_bytes()).into_owned(),
            to,
        }
    }
}

impl MessageFactory {
    /// Prepare the messages of issue `issue_id`: validate the sender configuration, load the
    /// token secret, read and encode `images` (paths relative to `project_root` unless
    /// absolute), and load the DKIM key when `[dkim]` is set.
    pub fn new(
        config: &Config,
        project_root: &Path,
        issue_id: &str,
        images: &[LocalImage],
    ) -> Result<Self, MessageError> {
        let tokens = Tokens::load(config, project_root)?;
        let dkim = match &config.dkim {
            Some(d) => Some(DkimSigner::load(d, project_root)?),
            None => None,
        };
        Self::with_tokens(config, project_root, issue_id, images, tokens, dkim)
    }

    /// As [`MessageFactory::new`], with the tokens and DKIM signer given.
    pub fn with_tokens(
        config: &Config,
        project_root: &Path,
        issue_id: &str,
        images: &[LocalImage],
        tokens: Tokens,
        dkim: Option<DkimSigner>,
    ) -> Result<Self, MessageError> {
        let s = &config.sender;
        let config_err = |key: &'static str, message: String| MessageError::Config { key, message };

        check_address(&s.email)
            .map_err(|m| config_err("sender.email", format!("{:?}: {m}", s.email)))?;
        let domain = s
            .email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let from = mailbox(Some(&s.name), &s.email);
        let reply_to = match &s.reply_to {
            Some(r) => {
                let r = r.trim();
                check_address(r)
                    .map_err(|m| config_err("sender.reply_to", format!("{r:?}: {m}")))?;
                Some(r.to_string())
            }
            None => None,
        };
        let bounce_address = config.bounce_address().trim().to_string();
        check_address(&bounce_address)
            .map_err(|m| config_err("sender.bounce_address", format!("{bounce_address:?}: {m}")))?;

        let list_id = list_id_header(s.list_id.as_deref(), &s.name, &s.email)
            .map_err(|m| config_err("sender.list_id", m))?;

        let unsubscribe_mailto = {
            let addr = config.unsubscribe_mailto();
            check_address(addr)
                .map_err(|m| config_err("sender.unsubscribe_mailto", format!("{addr:?}: {m}")))?;
            addr.to_string()
        };
        let (unsubscribe_url, one_click) = match &config.unsubscribe_url() {
            Some(u) => {
                let u = u.trim();
                check_url(u, true).map_err(|m| config_err("sender.unsubscribe_url", m))?;
                (Some(u.to_string()), u.starts_with("https://"))
            }
            None => (None, false),
        };

        let issue_header = unstructured(issue_id, "X-Bulletin-Issue".len());
        let issue_slug: String = issue_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .take(48)
            .collect::<String>()
            .trim_matches(['.', '-'])
            .to_string();

        let alt = format!("=_A{}", random_id());
        let asset_base = match &config.send.asset_base_url {
            Some(u) => {
                check_url(u.trim(), false).map_err(|m| config_err("send.asset_base_url", m))?;
                Some(u.trim().trim_end_matches('/').to_string())
            }
            None => None,
        };
        let embed = config.send.embed_images && asset_base.is_none() && !images.is_empty();

        let mut rewrites = Vec::new();
        let mut parts = Vec::new();
        let related = format!("=_R{}", random_id());
        let mut seen = std::collections::HashSet::new();
        for image in images {
            if image.src.is_empty() || !seen.insert(image.src.as_str()) {
                continue;
            }
            if let Some(base) = &asset_base {
                let path = image.src.trim_start_matches("./").trim_start_matches('/');
                rewrites.push(Rewrite::new(
                    &image.src,
                    format!("{base}/{}", path.replace(' ', "%20")),
                ));
            } else if embed {
                let path = resolve(project_root, &image.path);
                let bytes = std::fs::read(&path).map_err(|source| MessageError::Image {
                    path: path.clone(),
                    source,
                })?;
                let n = rewrites.len() + 1;
                let digest = super::tokens::hmac_sha256(b"content-id", &[&bytes]);
                let cid = format!("img{n}.{}@{domain}", &base32(&digest)[..12]);
                let filename = attachment_name(&image.path, n);
                let content_type = mime_type(&image.content_type);
                let mut part = format!(
                    "--{related}\r\nContent-Type: {content_type}; name=\"{filename}\"\r\n\
                     Content-Transfer-Encoding: base64\r\nContent-ID: <{cid}>\r\n\
                     Content-Disposition: inline; filename=\"{filename}\"\r\n\r\n"
                )
                .into_bytes();
                base64_lines(&bytes, &mut part);
                parts.push(part);
                rewrites.push(Rewrite::new(&image.src, format!("cid:{cid}")));
            }
        }

        let text_head = "Content-Type: text/plain; charset=utf-8\r\n\
                         Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        let html_head = "Content-Type: text/html; charset=utf-8\r\n\
                         Content-Transfer-Encoding: quoted-printable\r\n\r\n";
        let (content_type, body_head, body_tail) = if parts.is_empty() {
            (
                format!("multipart/alternative;\r\n boundary=\"{alt}\""),
                format!("--{alt}\r\n{text_head}"),
                format!("\r\n--{alt}--\r\n").into_bytes(),
            )
        } else {
            let mut tail = format!("\r\n--{alt}--\r\n").into_bytes();
            for p in parts {
                tail.extend_from_slice(&p);
            }
            tail.extend_from_slice(format!("--{related}--\r\n").as_bytes());
            (
                format!(
                    "multipart/related; type=\"multipart/alternative\";\r\n boundary=\"{related}\""
                ),
                format!(
                    "--{related}\r\nContent-Type: multipart/alternative;\r\n boundary=\"{alt}\"\r\n\r\n--{alt}\r\n{text_head}"
                ),
                tail,
            )
        };
        let body_mid = format!("\r\n--{alt}\r\n{html_head}");

        static FACTORIES: AtomicU64 = AtomicU64::new(0);
        Ok(MessageFactory {
            key: FACTORIES.fetch_add(1, Ordering::Relaxed),
            tokens,
            issue_id: issue_id.to_string(),
            round: 0,
            issue_slug,
            domain,
            bounce_address,
            verp: s.verp,
            from,
            reply_to,
            list_id,
            issue_header,
            list_header: None,
            unsubscribe_mailto,
            unsubscribe_url,
            one_click,
            content_type,
            body_head,
            body_mid,
            body_tail,
            rewrites,
            dkim,
        })
    }

    /// Mark the messages as a deliberate new round of an issue already sent: their
    /// Message-IDs differ from the earlier round's, so receivers do not take them for copies.
    /// Round 0, the default, is the first send and its resumptions.
    pub fn with_round(mut self, round: u32) -> Self {
        self.round = round;
        self
    }

    /// Name the list being sent to (e.g. its file name) in an `X-Bulletin-List` header, so a
    /// bounce that quotes the original's headers leads back to the send's journal.
    pub fn with_list(mut self, list: &str) -> Self {
        let list = flatten(list);
        self.list_header = (!list.is_empty()).then(|| unstructured(&list, "X-Bulletin-List".len()));
        self
    }

    /// The member's token (see [`Tokens::token`]).
    pub fn token(&self, email: &str) -> String {
        self.tokens.token(email)
    }

    /// The tokens behind this factory, for VERP and lookups.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The issue this factory builds.
    pub fn issue_id(&self) -> &str {
        &self.issue_id
    }

    /// What the template shows as the unsubscribe link: the https (or http) URL with the token
    /// when `[sender] unsubscribe_url` is set, else a `mailto:` link carrying the token.
    pub fn unsubscribe_url(&self, token: &str) -> String {
        match &self.unsubscribe_url {
            Some(u) => u.replace("{token}", token),
            None => self.unsubscribe_mailto_url(token),
        }
    }

    fn unsubscribe_mailto_url(&self, token: &str) -> String {
        format!(
            "mailto:{}?subject=unsubscribe%20{token}",
            self.unsubscribe_mailto
        )
    }

    /// `local+TOKEN@domain` of the bounce address.
    pub fn verp_address(&self, token: &str) -> String {
        self.tokens.verp_address(token)
    }

    /// The token in a VERP address, if it holds one.
    pub fn parse_verp(addr: &str) -> Option<String> {
        Tokens::parse_verp(addr)
    }

    /// The message for one member. `token` is the member's token ([`MessageFactory::token`]);
    /// `test` prefixes the subject with `[TEST] ` and gives the message a fresh Message-ID.
    ///
    /// Fails, naming the member's line, when the address cannot safely go into a header or an
    /// SMTP command; names and subjects are made safe instead (control characters become
    /// spaces, non-ASCII text is RFC 2047 encoded).
    pub fn build(
        &self,
        rendered: &Rendered,
        subscriber: &Subscriber,
        token: &str,
        test: bool,
    ) -> Result<Outgoing, MessageError> {
        let email = subscriber.email.trim();
        let refuse = |reason: String| MessageError::Recipient {
            line: subscriber.line,
            email: subscriber.email.clone(),
            reason,
        };
        check_address(email).map_err(&refuse)?;
        if token.is_empty() || token.len() > 64 || !token.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(refuse(format!("token {token:?} is not alphanumeric")));
        }

        let to = mailbox(subscriber.name.as_deref(), email);
        let subject = if test {
            unstructured(
                &format!("[TEST] {}", flatten(&rendered.subject)),
                "Subject".len(),
            )
        } else {
            unstructured(&rendered.subject, "Subject".len())
        };
        let now = OffsetDateTime::now_utc();
        let date = now
            .format(&Rfc2822)
            .map_err(|e| refuse(format!("cannot format the date: {e}")))?;
        let id = if test {
            random_id()
        } else {
            let round = self.round.to_string();
            self.tokens.derive(
                "message-id",
                &[
                    self.issue_id.as_bytes(),
                    round.as_bytes(),
                    normalise_address(email).as_bytes(),
                ],
                20,
            )
        };
        let message_id = if self.issue_slug.is_empty() {
            format!("<{id}@{}>", self.domain)
        } else {
            format!("<{id}.{}@{}>", self.issue_slug, self.domain)
        };
        let mut unsubscribe = Vec::with_capacity(2);
        if let Some(u) = &self.unsubscribe_url {
            unsubscribe.push(format!("<{}>", u.replace("{token}", token)));
        }
        unsubscribe.push(format!("<{}>", self.unsubscribe_mailto_url(token)));
        let list_unsubscribe = fold_list(&unsubscribe, ", ", "List-Unsubscribe: ".len());

        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(16);
        headers.push(("From", &self.from));
        headers.push(("To", &to));
        headers.push(("Subject", &subject));
        headers.push(("Date", &date));
        headers.push(("Message-ID", &message_id));
        if let Some(r) = &self.reply_to {
            headers.push(("Reply-To", r));
        }
        headers.push(("List-Id", &self.list_id));
        headers.push(("List-Unsubscribe", &list_unsubscribe));
        if self.one_click {
            headers.push(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"));
        }
        headers.push(("Precedence", "bulk"));
        headers.push(("X-Auto-Response-Suppress", "OOF, AutoReply"));
        headers.push(("X-Bulletin-Issue", &self.issue_header));
        headers.push(("X-Bulletin-Member", token));
        if let Some(list) = &self.list_header {
            headers.push(("X-Bulletin-List", list));
        }
        headers.push(("MIME-Version", "1.0"));
        headers.push(("Content-Type", &self.content_type));
        for (name, value) in &headers {
            if !header_value_is_safe(value) {
                return Err(refuse(format!(
                    "the {name} header would not be well-formed"
                )));
            }
        }

        let (html_len, text_len) = (rendered.html.len(), rendered.text.len());
        let capacity =
            1024 + html_len + html_len / 8 + text_len + text_len / 8 + self.body_tail.len();
        let mut out = Vec::with_capacity(capacity);
        for (name, value) in &headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let body_start = out.len();
        out.extend_from_slice(self.body_head.as_bytes());
        self.encode_body(&rendered.text, false, &mut out);
        out.extend_from_slice(self.body_mid.as_bytes());
        self.encode_body(&rendered.html, true, &mut out);
        out.extend_from_slice(&self.body_tail);

        let bytes = match &self.dkim {
            Some(signer) => {
                let signature = signer.sign(&headers, &out[body_start..], now.unix_timestamp())?;
                let mut signed = Vec::with_capacity(signature.len() + out.len());
                signed.extend_from_slice(signature.as_bytes());
                signed.extend_from_slice(&out);
                signed
            }
            None => out,
        };

        Ok(Outgoing {
            envelope_from: if self.verp {
                self.tokens.verp_address(token)
            } else {
                self.bounce_address.clone()
            },
            to: email.to_string(),
            message_id,
            bytes,
        })
    }

    /// Append `body` as quoted-printable, its images pointed at their parts or URLs when it is
    /// `html`. The text every member shares is encoded once, by the first message, and copied
    /// into the others (see [`QpStream`]).
    fn encode_body(&self, body: &Body, html: bool, out: &mut Vec<u8>) {
        let rewrite = |text: &'_ str| -> Vec<u8> {
            if html {
                self.rewrite_images(text).into_owned().into_bytes()
            } else {
                text.as_bytes().to_vec()
            }
        };
        let mut stream = QpStream::new();
        for piece in body.pieces() {
            match piece {
                Piece::Shared(shared) => {
                    let encoded =
                        shared.encoded(self.key, |text| QpStream::encode_alone(&rewrite(text)));
                    stream.append_encoded(&encoded, out);
                }
                Piece::Own(text) if html => {
                    stream.push(self.rewrite_images(text).as_bytes(), out);
                }
                Piece::Own(text) => stream.push(text.as_bytes(), out),
            }
        }
    }

    /// The HTML with every local image reference (`"SRC"`, `'SRC'` or `(SRC)`) pointing at
    /// its `cid:` part or its URL under the asset base.
    fn rewrite_images<'a>(&self, html: &'a str) -> Cow<'a, str> {
        let bytes = html.as_bytes();
        let mut hits: Vec<(usize, usize, &str)> = Vec::new();
        for r in &self.rewrites {
            for start in r.src.find_iter(bytes) {
                let end = start + r.src.needle().len();
                let (Some(&before), Some(&after)) = (
                    start.checked_sub(1).and_then(|i| bytes.get(i)),
                    bytes.get(end),
                ) else {
                    continue;
                };
                let delimited = matches!(
                    (before, after),
                    (b'"', b'"') | (b'\'', b'\'') | (b'(', b')')
                );
                if delimited {
                    hits.push((start, end, &r.to));
                }
            }
        }
        if hits.is_empty() {
            return Cow::Borrowed(html);
        }
        hits.sort_unstable_by_key(|h| h.0);
        let mut out = String::with_capacity(html.len() + hits.len() * 32);
        let mut at = 0;
        for (start, end, to) in hits {
            if start < at {
                continue; // overlapping match of a longer src already replaced
            }
            out.push_str(&html[at..start]);
            out.push_str(to);
            at = end;
        }
        out.push_str(&html[at..]);
        Cow::Owned(out)
    }
}

/// 20 random base32 characters (100 bits).
fn random_id() -> String {
    let mut bytes = [0u8; 13];
    rand::rng().fill_bytes(&mut bytes);
    let mut s = base32(&bytes);
    s.truncate(20);
    s
}

/// A header value may span lines only by folding (CRLF followed by space or tab), and holds no
/// other control character.
fn header_value_is_safe(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' => {
                if b.get(i + 1) != Some(&b'\n') || !matches!(b.get(i + 2), Some(b' ' | b'\t')) {
                    return false;
                }
                i += 2;
            }
            b'\t' => {}
            c if !(0x20..0x7f).contains(&c) => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// `List-Id: phrase <id>` from `[sender] list_id` (`Name <id>` or a bare id), or from the
/// sender's name and address when unset.
fn list_id_header(configured: Option<&str>, name: &str, email: &str) -> Result<String, String> {
    let (label, id) = match configured.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => match (v.rfind('<'), v.ends_with('>')) {
            (Some(open), true) => (
                v[..open].trim().to_string(),
                v[open + 1..v.len() - 1].trim().to_string(),
            ),
            _ => (name.to_string(), v.to_string()),
        },
        None => {
            let (local, domain) = email.rsplit_once('@').unwrap_or((email, "invalid"));
            let local: String = local
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            (name.to_string(), format!("{local}.{domain}"))
        }
    };
    let id_ok = !id.is_empty()
        && id.len() <= 255
        && id.contains('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        && !id.starts_with('.')
        && !id.ends_with('.');
    if !id_ok {
        return Err(format!(
            "{id:?} is not a list id; expected `Name <news.example.org>` (RFC 2919)"
        ));
    }
    let label = flatten(&label);
    Ok(if label.is_empty() {
        format!("<{id}>")
    } else {
        format!("{} <{id}>", phrase(&label))
    })
}

/// An http(s) URL that can sit between `<` and `>` in a header and in an HTML attribute.
fn check_url(url: &str, needs_token: bool) -> Result<(), String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    if let Some(c) = url
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
    {
        return Err(format!("{url:?} contains {c:?}; percent-encode it"));
    }
    if needs_token && !url.contains("{token}") {
        return Err(format!(
            "{url:?} has no `{{token}}`; each member needs their own link, e.g. \
             https://example.org/unsubscribe/{{token}}"
        ));
    }
    Ok(())
}

/// A safe ASCII file name for the image part.
fn attachment_name(path: &Path, n: usize) -> String {
    let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("bin");
        let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).collect();
        format!("image{n}.{ext}")
    } else {
        clean
    }
}

/// `type/subtype` when `s` is one, `application/octet-stream` otherwise.
fn mime_type(s: &str) -> String {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match s.trim().split_once('/') {
        Some((a, b)) if token(a) && token(b) => s.trim().to_ascii_lowercase(),
        _ => "application/octet-stream".into(),
    }
}
