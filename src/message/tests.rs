//! Messages built by [`MessageFactory`], parsed back with mail-parser.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mail_parser::{MessageParser, MimeHeaders as _};

use super::*;
use crate::compose::{LocalImage, Rendered};
use crate::config::{Config, Dkim};
use crate::subscriber::Subscriber;

struct Fixture {
    dir: tempfile::TempDir,
    config: Config,
    images: Vec<LocalImage>,
}

const LOGO: &[u8] = b"\x89PNG\r\n\x1a\nnot really a png, but bytes all the same \x00\x01\x02";

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("issue/images")).unwrap();
    std::fs::write(dir.path().join("issue/images/logo.png"), LOGO).unwrap();
    std::fs::write(
        dir.path().join("issue/images/photo one.jpg"),
        vec![7u8; 3000],
    )
    .unwrap();
    let mut config = Config::default();
    config.sender.name = "Cluster News".into();
    config.sender.email = "news@cluster.example".into();
    config.sender.reply_to = Some("editor@cluster.example".into());
    config.sender.bounce_address = Some("bounces@cluster.example".into());
    config.sender.token_secret = Some("test secret".into());
    config.sender.unsubscribe_url = Some("https://cluster.example/u/{token}".into());
    config.sender.unsubscribe_mailto = Some("unsubscribe@cluster.example".into());
    let images = vec![
        LocalImage {
            src: "images/logo.png".into(),
            path: PathBuf::from("issue/images/logo.png"),
            content_type: "image/png".into(),
        },
        LocalImage {
            src: "images/photo one.jpg".into(),
            path: dir.path().join("issue/images/photo one.jpg"),
            content_type: "image/jpeg".into(),
        },
    ];
    Fixture {
        dir,
        config,
        images,
    }
}

impl Fixture {
    fn factory(&self) -> MessageFactory {
        MessageFactory::new(
            &self.config,
            self.dir.path(),
            "2023-09-cluster-news",
            &self.images,
        )
        .unwrap()
    }
}

fn rendered() -> Rendered {
    Rendered {
        subject: "Cluster News — September".into(),
        preheader: "What happened".into(),
        html: ("<html><body><img src=\"images/logo.png\" alt=\"logo\">\n\
               <p>Hello Zoë, read <a href=\"https://x.test/images/logo.png\">this</a>.</p>\n\
               <div style=\"background:url(images/photo one.jpg)\"></div>\n\
               <img src='images/photo one.jpg'>\n"
            .to_string()
            + &"<p>A long paragraph with no line breaks at all. ".repeat(40)
            + "</p></body></html>\n")
            .into(),
        text: "Hello Zoë,\n\nread this. Trailing space \n.dot line\n".into(),
    }
}

fn member(email: &str, name: Option<&str>, line: u64) -> Subscriber {
    let mut s = Subscriber::from_email(email);
    s.name = name.map(str::to_string);
    s.line = line;
    s
}

fn build(f: &MessageFactory, s: &Subscriber) -> Outgoing {
    f.build(&rendered(), s, &f.token(&s.email), false).unwrap()
}

/// The `List-Unsubscribe` header of `s`'s message, unfolded, and its `List-Unsubscribe-Post`.
fn unsubscribe_headers(f: &MessageFactory, s: &Subscriber) -> (String, Option<String>) {
    let bytes = build(f, s).bytes;
    let m = MessageParser::default().parse(&bytes).unwrap();
    let list = m
        .header_raw("List-Unsubscribe")
        .unwrap()
        .replace("\r\n", "")
        .trim()
        .to_string();
    let post = m
        .header_raw("List-Unsubscribe-Post")
        .map(|v| v.trim().to_string());
    (list, post)
}

fn assert_wire_clean(bytes: &[u8]) {
    assert!(bytes.is_ascii(), "message is not 7-bit");
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with("\r\n"));
    for (k, line) in text.split("\r\n").enumerate() {
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare CR or LF on line {k}"
        );
        assert!(line.len() <= 998, "line {k} has {} octets", line.len());
    }
}

/// The header block of a message, unfolded, as (name, value) pairs.
fn header_names(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    head.split("\r\n")
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

#[test]
fn factory_and_messages_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MessageFactory>();
    send_sync::<Outgoing>();
    send_sync::<MessageError>();
}

#[test]
fn structure_headers_and_bodies() {
    let fx = fixture();
    let f = fx.factory();
    let s = member("Zoe@Example.org", Some("Zoë Ångström"), 4);
    let out = build(&f, &s);
    assert_wire_clean(&out.bytes);
    assert_eq!(out.to, "Zoe@Example.org");
    assert_eq!(out.envelope_from, "bounces@cluster.example");
    assert!(
        out.message_id
            .ends_with(".2023-09-cluster-news@cluster.example>")
    );

    let m = MessageParser::default().parse(&out.bytes).unwrap();
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Cluster News"));
    assert_eq!(from.address(), Some("news@cluster.example"));
    let to = m.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("Zoë Ångström"));
    assert_eq!(to.address(), Some("Zoe@Example.org"));
    assert_eq!(
        m.reply_to().unwrap().first().unwrap().address(),
        Some("editor@cluster.example")
    );
    assert_eq!(m.subject(), Some("Cluster News — September"));
    assert!(m.date().is_some());
    assert_eq!(
        format!("<{}>", m.message_id().unwrap()),
        out.message_id,
        "Message-ID parses back"
    );
    assert_eq!(
        m.header_raw("List-Id").unwrap().trim(),
        "\"Cluster News\" <news.cluster.example>"
    );
    assert_eq!(m.header_raw("MIME-Version").unwrap().trim(), "1.0");
    assert_eq!(m.header_raw("Precedence").unwrap().trim(), "bulk");
    assert_eq!(
        m.header_raw("X-Bulletin-Member").unwrap().trim(),
        f.token("zoe@example.org")
    );
    assert_eq!(
        m.header_raw("X-Bulletin-Issue").unwrap().trim(),
        "2023-09-cluster-news"
    );
    assert!(m.header("X-Bulletin-List").is_none());
    let listed = fx.factory().with_list("members.csv\r\nBcc: x@y.z");
    let m2 = listed
        .build(&rendered(), &s, &f.token(&s.email), false)
        .unwrap();
    let m2 = MessageParser::default().parse(&m2.bytes).unwrap();
    assert_eq!(
        m2.header_raw("X-Bulletin-List").unwrap().trim(),
        "members.csv  Bcc: x@y.z"
    );
    assert!(m2.header("Bcc").is_none());
    // The address itself appears in To only.
    let raw = String::from_utf8(out.bytes.clone()).unwrap();
    assert_eq!(raw.matches("Zoe@Example.org").count(), 1);

    // One of each header providers count.
    let names = header_names(&out.bytes);
    for h in ["From", "To", "Subject", "Date", "Message-ID"] {
        assert_eq!(names.iter().filter(|n| *n == h).count(), 1, "{h}");
    }

    // related( alternative(text, html), image, image )
    let root = m.root_part();
    let ct = root.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("multipart", Some("related")));
    let text = m.body_text(0).unwrap();
    assert_eq!(
        text,
        "Hello Zoë,\r\n\r\nread this. Trailing space \r\n.dot line\r\n"
    );
    let html = m.body_html(0).unwrap();
    assert!(html.contains("<p>Hello Zoë, read"), "{html}");
    assert!(!html.contains("src=\"images/"), "local src left: {html}");
    assert!(
        html.contains("href=\"https://x.test/images/logo.png\""),
        "only delimited references are rewritten"
    );
    assert_eq!(m.attachment_count(), 2);
    let mut cids = Vec::new();
    for part in m.attachments() {
        let cid = part.content_id().unwrap().to_string();
        assert!(cid.ends_with("@cluster.example"), "{cid}");
        assert_eq!(
            part.content_disposition().unwrap().ctype(),
            "inline",
            "{cid}"
        );
        assert!(html.contains(&format!("cid:{cid}")), "{cid} not in HTML");
        cids.push((
            cid,
            part.contents().to_vec(),
            part.attachment_name().map(str::to_string),
        ));
    }
    assert_eq!(cids[0].1, LOGO);
    assert_eq!(cids[0].2.as_deref(), Some("logo.png"));
    assert_eq!(cids[1].1, vec![7u8; 3000]);
    assert_eq!(cids[1].2.as_deref(), Some("photoone.jpg"));
    assert!(html.contains(&format!("url(cid:{})", cids[1].0)));
    assert!(html.contains(&format!("src='cid:{}'", cids[1].0)));
}

#[test]
fn text_and_html_are_quoted_printable_utf8() {
    let fx = fixture();
    let f = fx.factory();
    let out = build(&f, &member("a@example.org", None, 2));
    let m = MessageParser::default().parse(&out.bytes).unwrap();
    for part in [m.text_part(0).unwrap(), m.html_part(0).unwrap()] {
        assert_eq!(part.content_transfer_encoding(), Some("quoted-printable"));
        assert_eq!(
            part.content_type().unwrap().attribute("charset"),
            Some("utf-8")
        );
    }
    let raw = String::from_utf8(out.bytes).unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    for line in body.split("\r\n") {
        assert!(line.len() <= 76, "{line}");
    }
}

/// A part cut at `cuts` (byte offsets), every other piece shared, the first shared or not.
fn pieces(text: &str, cuts: &[usize], first_shared: bool) -> crate::compose::Body {
    use crate::compose::{Body, Piece, SharedText};
    let mut bounds = vec![0];
    bounds.extend(
        cuts.iter()
            .copied()
            .filter(|&c| c < text.len() && text.is_char_boundary(c)),
    );
    bounds.push(text.len());
    let pieces = bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let t = text[w[0]..w[1]].to_string();
            if (i % 2 == 0) == first_shared {
                Piece::Shared(std::sync::Arc::new(SharedText::new(t)))
            } else {
                Piece::Own(t)
            }
        })
        .collect();
    Body::from_pieces(pieces)
}

/// The decoded text and HTML parts of a message.
fn parts(bytes: &[u8]) -> (String, String) {
    let m = MessageParser::default().parse(bytes).unwrap();
    (
        m.body_text(0).unwrap().into_owned(),
        m.body_html(0).unwrap().into_owned(),
    )
}

#[test]
fn shared_text_encoded_once_decodes_as_the_whole_part() {
    let fx = fixture();
    let f = fx.factory();
    let s = member("zoe@example.org", Some("Zoë"), 1);
    let whole = rendered();
    let html = whole.html.to_string();
    let text = whole.text.to_string();
    let expected = parts(&build(&f, &s).bytes);
    // Cuts mid-line, next to a line break, on the line of an image reference, at the very
    // start (never inside a reference: placeholders cut the text, and none sits in a src).
    for (cuts, first_shared) in [
        (vec![5, 40, 41, 400, 2000], true),
        (vec![0, 77, 150, 151, 152], false),
        (vec![3, 20], true),
    ] {
        let mut cut = rendered();
        cut.html = pieces(&html, &cuts, first_shared);
        cut.text = pieces(&text, &cuts, !first_shared);
        // Twice: the first build encodes the shared text, the second reuses it.
        for _ in 0..2 {
            let got = f.build(&cut, &s, &f.token(&s.email), false).unwrap();
            assert_wire_clean(&got.bytes);
            let raw = std::str::from_utf8(&got.bytes).unwrap();
            let body = raw.split_once("\r\n\r\n").unwrap().1;
            for line in body.split("\r\n") {
                assert!(line.len() <= 76, "{line}");
                assert!(
                    !line.ends_with([' ', '\t']) && !line.starts_with('.'),
                    "{line:?}"
                );
            }
            assert_eq!(parts(&got.bytes), expected, "cut at {cuts:?}");
        }
    }
    // A second factory (another run over the same compiled issue) links its images to an
    // asset URL: it must not get the first factory's encoding, with cid: links.
    let mut cut = rendered();
    cut.html = pieces(&html, &[10, 20], true);
    let first = f.build(&cut, &s, &f.token(&s.email), false).unwrap();
    assert!(String::from_utf8_lossy(&first.bytes).contains("cid:"));
    let mut other = fx.config.clone();
    other.send.asset_base_url = Some("https://assets.example.org/x".into());
    let g = MessageFactory::new(&other, fx.dir.path(), "2023-09-cluster-news", &fx.images).unwrap();
    let linked = g.build(&cut, &s, &g.token(&s.email), false).unwrap();
    let (_, linked) = parts(&linked.bytes);
    assert!(
        linked.contains("https://assets.example.org/x/images/logo.png"),
        "{linked}"
    );
    assert!(!linked.contains("cid:"), "{linked}");
}

#[test]
fn asset_base_url_links_images_instead_of_embedding() {
    let mut fx = fixture();
    fx.config.send.asset_base_url = Some("https://cdn.cluster.example/2023-09/".into());
    let f = fx.factory();
    let out = build(&f, &member("a@example.org", None, 2));
    let m = MessageParser::default().parse(&out.bytes).unwrap();
    let ct = m.root_part().content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(m.attachment_count(), 0);
    let html = m.body_html(0).unwrap();
    assert!(html.contains("src=\"https://cdn.cluster.example/2023-09/images/logo.png\""));
    assert!(html.contains("url(https://cdn.cluster.example/2023-09/images/photo%20one.jpg)"));
}

#[test]
fn no_images_no_related_part() {
    let mut fx = fixture();
    fx.config.send.embed_images = false;
    let f = fx.factory();
    let out = build(&f, &member("a@example.org", None, 2));
    let m = MessageParser::default().parse(&out.bytes).unwrap();
    assert_eq!(
        m.root_part().content_type().unwrap().subtype(),
        Some("alternative")
    );
    assert_eq!(m.attachment_count(), 0);
    assert!(m.body_html(0).unwrap().contains("src=\"images/logo.png\""));
}

#[test]
fn missing_image_is_an_error_naming_it() {
    let mut fx = fixture();
    fx.images[0].path = PathBuf::from("issue/images/gone.png");
    let e = MessageFactory::new(&fx.config, fx.dir.path(), "x", &fx.images)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gone.png") && e.contains("cannot read image"),
        "{e}"
    );
}

#[test]
fn header_injection_through_list_fields_is_impossible() {
    let fx = fixture();
    let f = fx.factory();
    let nasty = [
        "Eve\r\nBcc: victim@example.org",
        "Eve\nX-Injected: yes",
        "Eve\rX-Injected: yes",
        "Eve\u{85}X-Injected: yes",
        "Eve\u{2028}X-Injected: yes",
        "\"Eve\" <boss@cluster.example>, x@y.z",
    ];
    for name in nasty {
        let s = member("eve@example.org", Some(name), 9);
        let mut r = rendered();
        r.subject = format!("Hi {name}");
        let out = f.build(&r, &s, &f.token(&s.email), false).unwrap();
        assert_wire_clean(&out.bytes);
        let m = MessageParser::default().parse(&out.bytes).unwrap();
        assert!(m.header("Bcc").is_none(), "{name:?}");
        assert!(m.header("X-Injected").is_none(), "{name:?}");
        let to: Vec<_> = m.to().unwrap().iter().collect();
        assert_eq!(to.len(), 1, "{name:?} made more recipients");
        assert_eq!(to[0].address(), Some("eve@example.org"));
        let names = header_names(&out.bytes);
        assert_eq!(names.iter().filter(|n| *n == "To").count(), 1);
        assert_eq!(names.iter().filter(|n| *n == "Subject").count(), 1);
    }
    let quoted = f
        .build(
            &rendered(),
            &member("eve@example.org", Some("Doe, \"Jo\""), 9),
            "abc",
            false,
        )
        .unwrap();
    let m = MessageParser::default().parse(&quoted.bytes).unwrap();
    assert_eq!(m.to().unwrap().first().unwrap().name(), Some("Doe, \"Jo\""));
}

#[test]
fn unsafe_addresses_are_refused_naming_the_line() {
    let fx = fixture();
    let f = fx.factory();
    for email in [
        "eve@example.org\r\nBcc: victim@example.org",
        "eve@example.org>, <victim@example.org",
        "eve @example.org",
        "zoë@example.org",
    ] {
        let s = member(email, None, 17);
        let e = f.build(&rendered(), &s, "abc", false).unwrap_err();
        assert!(
            matches!(&e, MessageError::Recipient { line: 17, .. }),
            "{email:?}: {e}"
        );
        assert!(e.to_string().starts_with("list line 17: "), "{e}");
    }
    let e = f
        .build(
            &rendered(),
            &member("a@example.org", None, 3),
            "x\r\ny",
            false,
        )
        .unwrap_err();
    assert!(e.to_string().contains("token"), "{e}");
    let e = f
        .build(
            &rendered(),
            &member("a b@example.org", None, 0),
            "abc",
            false,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"a b@example.org\": the address contains a space"
    );
}

#[test]
fn long_and_non_ascii_subjects_and_names_are_encoded() {
    let fx = fixture();
    let f = fx.factory();
    let mut r = rendered();
    r.subject = "Ünïcödé news ".repeat(12).trim().to_string();
    let name = "Jean-Frédéric ".repeat(8).trim().to_string();
    let out = f
        .build(&r, &member("jf@example.org", Some(&name), 5), "abc", true)
        .unwrap();
    let text = String::from_utf8(out.bytes.clone()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    for line in head.split("\r\n") {
        if !line.starts_with("DKIM") {
            assert!(line.len() <= 78, "{line}");
        }
    }
    let m = MessageParser::default().parse(&out.bytes).unwrap();
    assert_eq!(m.subject(), Some(format!("[TEST] {}", r.subject).as_str()));
    assert_eq!(m.to().unwrap().first().unwrap().name(), Some(name.as_str()));
}

#[test]
fn test_sends_are_marked_and_get_fresh_message_ids() {
    let fx = fixture();
    let f = fx.factory();
    let s = member("a@example.org", None, 1);
    let token = f.token(&s.email);
    let a = f.build(&rendered(), &s, &token, true).unwrap();
    let b = f.build(&rendered(), &s, &token, true).unwrap();
    assert_ne!(a.message_id, b.message_id);
    let m = MessageParser::default().parse(&a.bytes).unwrap();
    assert_eq!(m.subject(), Some("[TEST] Cluster News — September"));
    // Bulk messages: the same member and issue keep their Message-ID (a resend is a duplicate
    // receivers can recognise), other members and issues differ.
    let c = f.build(&rendered(), &s, &token, false).unwrap();
    let d = f.build(&rendered(), &s, &token, false).unwrap();
    assert_eq!(c.message_id, d.message_id);
    let other = build(&f, &member("b@example.org", None, 2));
    assert_ne!(c.message_id, other.message_id);
    let round2 = fx.factory().with_round(2);
    assert_ne!(
        round2
            .build(&rendered(), &s, &token, false)
            .unwrap()
            .message_id,
        c.message_id
    );
    let f2 = MessageFactory::new(&fx.config, fx.dir.path(), "2023-10", &fx.images).unwrap();
    assert_ne!(
        f2.build(&rendered(), &s, &token, false).unwrap().message_id,
        c.message_id
    );
}

#[test]
fn the_serve_url_gives_one_click_unless_it_is_plain_http() {
    let mut fx = fixture();
    let s = member("a@example.org", None, 1);
    fx.config.sender.unsubscribe_url = None;
    fx.config.serve.url = Some("https://news.cluster.example".into());
    let f = fx.factory();
    let token = f.token(&s.email);
    let (lu, post) = unsubscribe_headers(&f, &s);
    assert!(
        lu.contains(&format!(
            "<https://news.cluster.example/unsubscribe/{token}>"
        )),
        "{lu}"
    );
    assert_eq!(post.as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(
        f.unsubscribe_url(&token),
        format!("https://news.cluster.example/unsubscribe/{token}")
    );
    fx.config.serve.url = Some("http://127.0.0.1:8080".into());
    let (_, post) = unsubscribe_headers(&fx.factory(), &s);
    assert!(post.is_none());
}

#[test]
fn list_unsubscribe_variants() {
    let mut fx = fixture();
    let s = member("a@example.org", None, 1);

    // https + mailto, with one-click.
    let f = fx.factory();
    let token = f.token(&s.email);
    let (lu, post) = unsubscribe_headers(&f, &s);
    assert!(
        lu.contains(&format!("<https://cluster.example/u/{token}>")),
        "{lu}"
    );
    assert!(
        lu.contains(&format!(
            "<mailto:unsubscribe@cluster.example?subject=unsubscribe%20{token}>"
        )),
        "{lu}"
    );
    assert_eq!(post.as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(
        f.unsubscribe_url(&token),
        format!("https://cluster.example/u/{token}")
    );

    // plain http: listed, but no one-click (RFC 8058 needs https).
    fx.config.sender.unsubscribe_url = Some("http://cluster.example/u?t={token}".into());
    let (lu, post) = unsubscribe_headers(&fx.factory(), &s);
    assert!(lu.contains("<http://cluster.example/u?t="), "{lu}");
    assert!(post.is_none());

    // mailto only.
    fx.config.sender.unsubscribe_url = None;
    let f = fx.factory();
    let (lu, post) = unsubscribe_headers(&f, &s);
    assert_eq!(
        lu,
        format!("<mailto:unsubscribe@cluster.example?subject=unsubscribe%20{token}>")
    );
    assert!(post.is_none());
    assert!(f.unsubscribe_url(&token).starts_with("mailto:"));

    // nothing configured: the reply address takes requests.
    fx.config.sender.unsubscribe_mailto = None;
    let f = fx.factory();
    assert!(
        f.unsubscribe_url(&token)
            .starts_with("mailto:editor@cluster.example?")
    );

    // a URL without {token} cannot unsubscribe anyone in particular.
    fx.config.sender.unsubscribe_url = Some("https://cluster.example/unsubscribe".into());
    let e = MessageFactory::new(&fx.config, fx.dir.path(), "x", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("bulletin.toml: sender.unsubscribe_url:"),
        "{e}"
    );
    assert!(e.contains("{token}"), "{e}");
}

#[test]
fn verp_envelope_round_trips_to_the_token() {
    let mut fx = fixture();
    fx.config.sender.verp = true;
    let f = fx.factory();
    let s = member("Pat@Example.org", None, 1);
    let out = build(&f, &s);
    let token = MessageFactory::parse_verp(&out.envelope_from).unwrap();
    assert_eq!(token, f.token("pat@example.org"));
    assert_eq!(out.envelope_from, f.verp_address(&token));
    assert!(out.envelope_from.starts_with("bounces+"));
    assert!(out.envelope_from.ends_with("@cluster.example"));
}

#[test]
fn bad_sender_configuration_names_the_key() {
    let mut fx = fixture();
    fx.config.sender.email = "news at cluster".into();
    let e = MessageFactory::new(&fx.config, fx.dir.path(), "x", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bulletin.toml: sender.email:"), "{e}");
    let mut fx = fixture();
    fx.config.sender.list_id = Some("News <not an id>".into());
    let e = MessageFactory::new(&fx.config, fx.dir.path(), "x", &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bulletin.toml: sender.list_id:"), "{e}");
    let mut fx = fixture();
    fx.config.sender.list_id = Some("Nouvelles de Zoë <news.cluster.example>".into());
    let f = fx.factory();
    let m_bytes = build(&f, &member("a@example.org", None, 1)).bytes;
    let raw = String::from_utf8(m_bytes).unwrap();
    assert!(
        raw.contains("List-Id: =?utf-8?b?"),
        "non-ASCII list name encoded"
    );
    assert!(raw.contains(" <news.cluster.example>\r\n"));
}

fn dkim_fixture(key: &str) -> (Fixture, MessageFactory) {
    let mut fx = fixture();
    let key_path = fx.dir.path().join("dkim.pem");
    std::fs::write(&key_path, key).unwrap();
    fx.config.dkim = Some(Dkim {
        domain: "cluster.example".into(),
        selector: "s2026".into(),
        private_key_file: PathBuf::from("dkim.pem"),
    });
    let f = fx.factory();
    (fx, f)
}

/// The tag list of the DKIM-Signature header.
fn dkim_tags(bytes: &[u8]) -> Vec<(String, String)> {
    let m = MessageParser::default().parse(bytes).unwrap();
    let raw = m.header_raw("DKIM-Signature").unwrap();
    raw.split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.chars().filter(|c| !c.is_whitespace()).collect(),
            )
        })
        .collect()
}

#[test]
fn dkim_signature_verifies_with_the_public_key() {
    use rsa::pkcs8::DecodePublicKey as _;
    use sha2::{Digest as _, Sha256};

    let (_fx, f) = dkim_fixture(include_str!("testdata/dkim-rsa.pem"));
    let out = build(&f, &member("zoe@example.org", Some("Zoë"), 1));
    assert_wire_clean(&out.bytes);
    let tags = dkim_tags(&out.bytes);
    let tag = |k: &str| {
        tags.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(tag("a"), "rsa-sha256");
    assert_eq!(tag("d"), "cluster.example");
    let h = tag("h");
    for name in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
    ] {
        assert!(h.split(':').any(|n| n == name), "{name} not signed: {h}");
    }

    // Body hash, computed here from the body as sent (canonical already: no trailing spaces).
    let text = std::str::from_utf8(&out.bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(tag("bh"), STANDARD.encode(Sha256::digest(body.as_bytes())));

    // Signature: hash the signed headers by hand (relaxed) and verify with the public key.
    let fields: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                v.last_mut().unwrap().1.push_str(line);
            } else {
                let (n, val) = line.split_once(':').unwrap();
                v.push((n.to_string(), val.to_string()));
            }
        }
        v
    };
    let relaxed = |name: &str, value: &str| {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        format!("{}:{}", name.to_ascii_lowercase(), value)
    };
    let mut data = String::new();
    let mut used = std::collections::HashMap::<String, usize>::new();
    for name in h.split(':') {
        let k = used.entry(name.to_string()).or_default();
        let matches: Vec<_> = fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .collect();
        if *k < matches.len() {
            let (n, v) = matches[matches.len() - 1 - *k];
            data.push_str(&relaxed(n, v));
            data.push_str("\r\n");
        }
        *k += 1;
    }
    let (n, v) = fields.iter().find(|(n, _)| n == "DKIM-Signature").unwrap();
    let without_b = &v[..v.find("b=").unwrap() + 2];
    data.push_str(&relaxed(n, without_b));
    let public = rsa::RsaPublicKey::from_public_key_der(
        &STANDARD
            .decode(include_str!("testdata/dkim-rsa.pub.b64").trim())
            .unwrap(),
    )
    .unwrap();
    let sig = STANDARD.decode(tag("b")).unwrap();
    public
        .verify(
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(data.as_bytes()),
            &sig,
        )
        .expect("signature verifies");
}

/// A Python interpreter with dkimpy (Debian's python3-dkim), the independent verifier.
fn python_with_dkimpy() -> PathBuf {
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = std::process::Command::new(candidate)
            .args(["-c", "import dkim; dkim.verify"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return PathBuf::from(candidate);
        }
    }
    panic!("dkimpy is not installed (Debian package python3-dkim); scripts/test.sh installs it");
}

fn dkimpy_verify(python: &Path, message: &[u8], record: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("m.eml");
    std::fs::write(&msg, message).unwrap();
    let script = "import sys, dkim\n\
                  msg = open(sys.argv[1], 'rb').read()\n\
                  rec = sys.argv[2].encode()\n\
                  def dns(name, timeout=5):\n    \
                      return rec if name == b's2026._domainkey.cluster.example.' else None\n\
                  print(dkim.verify(msg, dnsfunc=dns))\n";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&msg)
        .arg(record)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn dkim_signatures_verify_with_dkimpy() {
    let python = python_with_dkimpy();
    for key in [
        include_str!("testdata/dkim-rsa.pem"),
        include_str!("testdata/dkim-ed25519.pem"),
    ] {
        let (_fx, f) = dkim_fixture(key);
        let signer = DkimSigner::from_pem("cluster.example", "s2026", key, Path::new("k")).unwrap();
        let record = signer.dns_record();
        let out = build(
            &f,
            &member("zoe@example.org", Some("Zoë \"Z\" Ångström"), 1),
        );
        assert_eq!(
            dkimpy_verify(&python, &out.bytes, &record),
            "True",
            "{}",
            signer.algorithm()
        );

        // The check can fail: a changed List-Unsubscribe or an added one breaks the signature.
        let text = String::from_utf8(out.bytes.clone()).unwrap();
        let tampered = text.replacen("https://cluster.example/u/", "https://evil.example/u/", 1);
        assert_eq!(
            dkimpy_verify(&python, tampered.as_bytes(), &record),
            "False"
        );
        let added = format!("List-Unsubscribe: <https://evil.example/>\r\n{text}");
        assert_eq!(dkimpy_verify(&python, added.as_bytes(), &record), "False");
        let body_changed = text.replacen("A long paragraph", "A lang paragraph", 1);
        assert_eq!(
            dkimpy_verify(&python, body_changed.as_bytes(), &record),
            "False"
        );
    }

    // Without images, an https link or a reply address; with VERP; and a one-click header
    // added later is refused since it is oversigned.
    let (mut fx, _) = dkim_fixture(include_str!("testdata/dkim-rsa.pem"));
    fx.config.sender.unsubscribe_url = None;
    fx.config.sender.reply_to = None;
    fx.config.sender.verp = true;
    fx.images.clear();
    let f = fx.factory();
    let record = DkimSigner::from_pem(
        "cluster.example",
        "s2026",
        include_str!("testdata/dkim-rsa.pem"),
        Path::new("k"),
    )
    .unwrap()
    .dns_record();
    let out = build(&f, &member("a@example.org", None, 1));
    assert_eq!(dkimpy_verify(&python, &out.bytes, &record), "True");
    let text = String::from_utf8(out.bytes).unwrap();
    let added = format!("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n{text}");
    assert_eq!(dkimpy_verify(&python, added.as_bytes(), &record), "False");
}

#[test]
fn outbox_holds_the_message_bytes() {
    let fx = fixture();
    let f = fx.factory();
    let out = build(&f, &member("a@example.org", None, 1));
    let outbox = Outbox::new(fx.dir.path().join("outbox")).unwrap();
    let path = outbox.write(&out, 1).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), out.bytes);
}

/// Build rate for a ~50 KB message; run with
/// `cargo test --release --lib message::tests::build_rate -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: prints a rate, asserts nothing about speed"]
fn build_rate() {
    let fx = fixture();
    let f = fx.factory();
    let mut r = rendered();
    r.html = format!(
        "<html><body><img src=\"images/logo.png\">{}</body></html>",
        "<tr><td style=\"padding:0 24px;font-family:Helvetica,Arial\">Some news about the cluster, Zoë, with a <a href=\"https://cluster.example/x\">link</a>.</td></tr>\n".repeat(250)
    ).into();
    r.text = "Some news about the cluster, with a link [1].\n"
        .repeat(120)
        .into();
    let s = member("zoe@example.org", Some("Zoë"), 1);
    let token = f.token(&s.email);
    let n = 20_000;
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes += f.build(&r, &s, &token, false).unwrap().bytes.len();
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{n} messages of {} bytes in {secs:.3} s: {:.0} messages/s",
        bytes / n,
        n as f64 / secs
    );
}

#[test]
#[ignore = "prints a sample message"]
fn print_sample() {
    let (_fx, f) = dkim_fixture(include_str!("testdata/dkim-rsa.pem"));
    let out = build(
        &f,
        &member("zoe@example.org", Some("Zoë \"Z\" Ångström"), 1),
    );
    eprintln!("{}", String::from_utf8_lossy(&out.bytes));
}

/// The flagship issue composed for a member whose name is an attack (through a template that
/// greets by name), then built.
#[test]
fn names_through_compose_are_escaped_and_images_embedded() {
    use crate::compose::{Recipient, compile};
    use crate::project::Project;

    let issue = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/2023-09-cluster-news");
    let project = Project::discover(&issue).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("greeting.mjml.hbs");
    std::fs::write(
        &template,
        "<mjml><mj-body><mj-section><mj-column>\n\
         <mj-image src=\"banner.png\" alt=\"Banner\" />\n\
         <mj-text>Hello {{subscriber.name}}, {{issue.title}}</mj-text>\n\
         <mj-text><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>\n\
         </mj-column></mj-section></mj-body></mjml>\n",
    )
    .unwrap();
    let mut config = project.config.clone();
    config.sender.token_secret = Some("test secret".into());

    for template in [None, Some(template.as_path())] {
        let compiled = compile(&project, &issue, template).unwrap();
        let f = MessageFactory::new(
            &config,
            &project.root,
            "2023-09-cluster-news",
            compiled.images(),
        )
        .unwrap();
        let s = member(
            "mallory@example.org",
            Some("<script>alert(1)</script> \"M\" <b>\r\nBcc: x@y.z"),
            12,
        );
        let token = f.token(&s.email);
        let url = f.unsubscribe_url(&token);
        let rendered = compiled
            .render(&Recipient {
                subscriber: &s,
                unsubscribe_url: &url,
            })
            .unwrap();
        let out = f.build(&rendered, &s, &token, false).unwrap();
        assert_wire_clean(&out.bytes);

        let m = MessageParser::default().parse(&out.bytes).unwrap();
        assert!(m.header("Bcc").is_none());
        let html = m.body_html(0).unwrap();
        if template.is_some() {
            assert!(
                html.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;"),
                "the name is not shown escaped"
            );
        }
        assert!(
            !html.contains("<script>"),
            "unescaped script in the HTML part"
        );
        assert!(!html.contains("<b>"));
        assert!(
            html.contains(&url),
            "the visible unsubscribe link carries the token"
        );

        // Every local image is attached once and referenced by its Content-ID.
        assert!(!compiled.images().is_empty());
        let srcs: std::collections::HashSet<&str> =
            compiled.images().iter().map(|i| i.src.as_str()).collect();
        assert_eq!(m.attachment_count(), srcs.len());
        for part in m.attachments() {
            let cid = part.content_id().unwrap();
            assert!(html.contains(&format!("cid:{cid}")), "{cid} unused");
        }
        for src in srcs {
            assert!(
                !html.contains(&format!("\"{src}\"")),
                "{src} left as a file path"
            );
        }
    }
}
