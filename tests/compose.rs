//! Compose end to end: the real `bulletin` binary (build, check, init) on fixture projects in
//! temporary folders, and the library's compile/render API.

mod support;

use std::path::{Path, PathBuf};

use support::files::{run_in, stderr, stdout};

use bulletin::compose::{self, Recipient, Severity};
use bulletin::project::Project;
use bulletin::subscriber::Subscriber;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A tiny valid PNG (1x1).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0x73, 0x75, 0x01, 0x18, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

const MINIMAL_TEMPLATE: &str = "<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>{{issue.title}}</mj-text>
        <mj-text>Hello {{subscriber.name}} <a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
";

/// A project with a config, a minimal template and one issue `issues/one`.
fn fixture(issue_toml: &str, template: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("bulletin.toml"),
        "[sender]\nname = \"Test News\"\nemail = \"news@example.org\"\npostal_address = \"1 Test Road\"\n",
    );
    write(&dir.path().join("templates/bulletin.mjml.hbs"), template);
    write(&dir.path().join("issues/one/issue.toml"), issue_toml);
    dir
}

const FLAGSHIP: &str = "examples/2023-09-cluster-news";

#[test]
fn flagship_builds_whole_and_the_same_twice() {
    let out = tempfile::tempdir().unwrap();
    let o = run_in(
        &repo(),
        &["build", FLAGSHIP, "--out", out.path().to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.path().join("2023-09-cluster-news.html")).unwrap();
    let text = std::fs::read_to_string(out.path().join("2023-09-cluster-news.txt")).unwrap();
    let mjml = std::fs::read_to_string(out.path().join("2023-09-cluster-news.mjml")).unwrap();
    assert!(mjml.starts_with("<mjml lang=\"en-GB\">"), "{}", &mjml[..40]);
    assert!(
        html.starts_with("<!doctype html><html lang=\"en-GB\""),
        "{}",
        &html[..60]
    );

    // Every section of the seed, in order, in the plain text.
    let headings = [
        "CLUSTER NEWS – September 2023",
        "Strategy Roundtable 04 October",
        "The Revolution of Digital Health",
        "The September Topical Tuesday featured Dr Vishaal Virani",
        "West Midlands Innovation Accelerator",
        "West Midlands Investment Zones",
        "Midlands Engine Health",
        "Business Growth West Midlands",
        "West Midlands Regional Economic Symposium",
        "West Midlands Co-investment Fund",
        "Midlands Mindforge",
        "HealthTech Manufacturing Partnership",
        "Women’s Health Hubs",
        "International Trade Week 6-10 November",
        "Spotlight on",
        "Interactive Software continues to flourish in Solihull.",
        "I hope you enjoy reading my e-bulletin.",
        "Executive Chair.",
    ];
    let mut at = 0;
    for h in headings {
        let found = text[at..]
            .find(h)
            .unwrap_or_else(|| panic!("{h:?} missing or out of order"));
        at += found + h.len();
    }
    // Every link, in the HTML and as a footnote of the text.
    for link in [
        "https://events.example.org/birmingham-tech-week-2023/the-revolution-of-digital-health",
        "https://gov.example.org/investment-zones-prospectus",
        "https://abhi.example.org/news/abhi-and-make-uk-partnership",
        "https://dhsc.example.org/news/womens-health-hubs",
        "https://trade.example.org/international-trade-week-2023",
        "mailto:david@wmhtc.example.org",
        "https://wmhtc.example.org/unsubscribe/sample-token",
    ] {
        assert!(
            html.contains(&format!("href=\"{link}\"")),
            "{link} not linked in the HTML"
        );
        assert!(
            text.contains(&format!("]: {link}\n")),
            "{link} not a footnote of the text"
        );
    }
    assert!(text.contains("[Register NOW! click here][1]"), "{text}");
    assert!(
        html.contains(">\n              Register NOW! click here\n")
            || html.contains("Register NOW! click here</"),
        "button"
    );
    // Images with their alt text, copied next to the HTML.
    for (src, alt) in [
        ("banner.png", "WMHTC Logo Final banner"),
        ("roundtable-collage.png", "Round table 4 oct collage"),
        ("btw2023.png", "BTW2023 linkedin post"),
        ("topical-tuesday.png", "September 2023 tt linkedin image 2"),
        ("signature.png", "david signature"),
    ] {
        assert!(html.contains(&format!("alt=\"{alt}\"")), "{alt}");
        assert!(html.contains(&format!("src=\"{src}\"")), "{src}");
        assert!(out.path().join(src).is_file(), "{src} not copied");
    }
    // The footer: postal address and the unsubscribe link; personalised for the sample reader.
    assert!(html.contains("Innovation Campus, 1 Example Way, Birmingham B1 1AA, United Kingdom"));
    assert!(html.contains("You receive this bulletin as reader@example.org."));
    assert!(!html.contains("{{"), "placeholder left in the HTML");
    assert!(!text.contains("{{"), "placeholder left in the text");
    // Columns stack on phones.
    assert!(html.contains("@media only screen and (min-width:480px)"));

    let again = tempfile::tempdir().unwrap();
    let o = run_in(
        &repo(),
        &["build", FLAGSHIP, "--out", again.path().to_str().unwrap()],
    );
    assert!(o.status.success());
    for f in [
        "2023-09-cluster-news.html",
        "2023-09-cluster-news.txt",
        "2023-09-cluster-news.mjml",
    ] {
        assert_eq!(
            std::fs::read(out.path().join(f)).unwrap(),
            std::fs::read(again.path().join(f)).unwrap(),
            "{f} differs between two builds"
        );
    }
}

#[test]
fn flagship_passes_check() {
    let o = run_in(&repo(), &["check", FLAGSHIP, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), format!("{FLAGSHIP}: 0 errors, 0 warnings\n"));
}

#[test]
fn init_then_build_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &["init", "news"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("news/bulletin.toml\n"));
    let o = run_in(dir.path(), &["build", "news/issues/first"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "news/out/first.html\nnews/out/first.txt\nnews/out/first.mjml\n"
    );
    let text = std::fs::read_to_string(dir.path().join("news/out/first.txt")).unwrap();
    assert!(
        text.starts_with("# Example Newsletter\n\nIssue one · No. 1\n\nDear Reader,\n"),
        "{text}"
    );
    // Braces written in content reach the reader as braces.
    assert!(text.contains("(`image = {\nsrc = \"photo.png\""), "{text}");
    // The starter issue passes its own checks, and a new project's archive builds (the
    // starter issue is a draft until it goes out).
    let o = run_in(dir.path(), &["check", "news/issues/first"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "news/issues/first: 0 errors, 0 warnings\n");
    let o = run_in(&dir.path().join("news"), &["archive"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("left out (draft): issues/first"),
        "{}",
        stderr(&o)
    );
    // A second init into the same folder refuses.
    let o = run_in(dir.path(), &["init", "news"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: news is not empty: `bulletin init` only creates a project in a new or empty folder\n"
    );
}

#[test]
fn toml_typo_names_file_line_and_column() {
    let dir = fixture(
        "subject = \"S\"\ntitle = \"T\"\n\n[[sections]]\nheading = \"H\"\nbdy = \"x\"\n",
        MINIMAL_TEMPLATE,
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: issues/one/issue.toml:6:1: unknown field `bdy`, expected one of `heading`, `body`, `image`, `cta`
  |
6 | bdy = \"x\"
  | ^
"
    );
}

#[test]
fn toml_syntax_error_names_file_line_and_column() {
    let dir = fixture("subject = \"S\"\ntitle \"T\"\n", MINIMAL_TEMPLATE);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: issues/one/issue.toml:2:7: expected `.`, `=`
  |
2 | title \"T\"
  |       ^
"
    );
}

#[test]
fn unclosed_handlebars_block_points_at_its_opening() {
    let template = MINIMAL_TEMPLATE.replace(
        "        <mj-text>{{issue.title}}</mj-text>",
        "        {{#if issue.title}}\n        <mj-text>{{issue.title}}</mj-text>",
    );
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: templates/bulletin.mjml.hbs:5:9: template error: `{{#if}}` is never closed
  |
5 |         {{#if issue.title}}
  |         ^
  = hint: add `{{/if}}` where the block ends
"
    );
}

#[test]
fn unknown_placeholder_is_named_at_its_place() {
    // A recipient placeholder earlier on the line must not shift the column.
    let template = MINIMAL_TEMPLATE.replace(
        "<mj-text>{{issue.title}}</mj-text>",
        "<mj-text>{{subscriber.email}} {{issue.titel}}</mj-text>",
    );
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: templates/bulletin.mjml.hbs:5:39: unknown placeholder `issue.titel`
  |
5 |         <mj-text>{{subscriber.email}} {{issue.titel}}</mj-text>
  |                                       ^
  = hint: known here: `issue.banner`, `issue.date`, `issue.dateline`, `issue.direction`, `issue.editor_note_html`, `issue.language`, `issue.number`, `issue.preheader`, `issue.rtl`, `issue.sections`, `issue.sign_off`, `issue.spotlight`, `issue.subject`, `issue.title`
"
    );
    // `check` reports it as a finding and fails with the "partial" exit code.
    let o = run_in(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stdout(&o),
        "{\"severity\":\"error\",\"code\":\"unknown-placeholder\",\"message\":\"unknown placeholder `issue.titel`\",\"location\":\"templates/bulletin.mjml.hbs:5:39\"}\n"
    );
}

#[test]
fn mjml_error_is_traced_back_to_the_template_line() {
    let template = MINIMAL_TEMPLATE.replace("<mj-section>", "<mj-section padding=>");
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: templates/bulletin.mjml.hbs:3:17: invalid MJML: invalid attribute cause expected quote mark not '>'
  |
3 |     <mj-section padding=>
  |                 ^
  = hint: the compiled MJML has this at line 3
"
    );
}

#[test]
fn unclosed_mjml_element_is_named() {
    let template = MINIMAL_TEMPLATE.replace("      </mj-column>\n", "");
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: templates/bulletin.mjml.hbs:4:7: invalid MJML: <mj-column> is never closed
  |
4 |       <mj-column>
  |       ^
  = hint: the compiled MJML has this at line 4
"
    );
}

#[test]
fn missing_image_names_the_issue_line() {
    let dir = fixture(
        "subject = \"S\"\ntitle = \"T\"\nbanner = { src = \"nope.png\", alt = \"B\" }\n",
        &MINIMAL_TEMPLATE.replace(
            "<mj-text>{{issue.title}}</mj-text>",
            "<mj-image src=\"{{issue.banner.src}}\" alt=\"{{issue.banner.alt}}\" />",
        ),
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: issues/one/issue.toml:3:19: image not found: issues/one/nope.png
  |
3 | banner = { src = \"nope.png\", alt = \"B\" }
  |                   ^
  = hint: image paths are relative to the issue folder
"
    );
}

#[test]
fn windows_files_build_like_their_unix_twins() {
    let issue = "subject = \"S\"\ntitle = \"Windows\"\n\n[[sections]]\nheading = \"H\"\nbody = \"\"\"\nline one\nline two\n\"\"\"\n";
    let template = MINIMAL_TEMPLATE.replace(
        "  <mj-body>",
        "  <mj-head>\n    <mj-title>{{issue.subject}}</mj-title>\n    <mj-style>\n      .x { color: red; }\n    </mj-style>\n  </mj-head>\n  <mj-body>",
    ).replace(
        "<mj-text>{{issue.title}}</mj-text>",
        "<mj-text>{{issue.title}}</mj-text>\n        {{#each issue.sections}}{{> part}}{{/each}}",
    );
    let partial = "<mj-text>\n  <h2>{{heading}}</h2>\n  {{{body_html}}}\n</mj-text>\n";
    let crlf = |s: &str| format!("\u{feff}{}", s.replace('\n', "\r\n"));

    let unix = fixture(issue, &template);
    write(
        &unix.path().join("templates/partials/part.mjml.hbs"),
        partial,
    );
    let windows = fixture(&crlf(issue), &crlf(&template));
    write(
        &windows.path().join("templates/partials/part.mjml.hbs"),
        &crlf(partial),
    );
    write(
        &windows.path().join("bulletin.toml"),
        &crlf(
            "[sender]\nname = \"Test News\"\nemail = \"news@example.org\"\npostal_address = \"1 Test Road\"\n",
        ),
    );

    for dir in [&unix, &windows] {
        let o = run_in(dir.path(), &["build", "issues/one", "--out", "built"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in ["one.html", "one.txt", "one.mjml"] {
        let a = std::fs::read(unix.path().join("built").join(f)).unwrap();
        let b = std::fs::read(windows.path().join("built").join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the LF and the CRLF+BOM project"
        );
    }
    let text = std::fs::read_to_string(windows.path().join("built/one.txt")).unwrap();
    assert!(text.contains("line one line two"), "{text}");
}

#[test]
fn plain_mjml_template_builds_without_handlebars() {
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", MINIMAL_TEMPLATE);
    write(
        &dir.path().join("plain.mjml"),
        "<mjml><mj-body><mj-section><mj-column><mj-text>Just MJML</mj-text><mj-image src=\"pic.png\" /></mj-column></mj-section></mj-body></mjml>\n",
    );
    std::fs::write(dir.path().join("issues/one/pic.png"), PNG).unwrap();
    let o = run_in(
        dir.path(),
        &[
            "build",
            "issues/one",
            "--template",
            "plain.mjml",
            "--out",
            "o",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("o/one.html")).unwrap();
    assert!(html.contains("Just MJML"));
    // mrml leaves out alt on an image without one; ours always has it.
    assert!(html.contains("<img alt=\"\""), "{html}");
    assert_eq!(std::fs::read(dir.path().join("o/pic.png")).unwrap(), PNG);
}

#[test]
fn check_reports_alt_links_and_missing_unsubscribe() {
    let template = "<mjml><mj-body><mj-section><mj-column>
<mj-image src=\"{{issue.banner.src}}\" alt=\"{{issue.banner.alt}}\" />
<mj-text>{{{issue.editor_note_html}}}</mj-text>
</mj-column></mj-section></mj-body></mjml>
";
    let dir = fixture(
        "subject = \"S\"\ntitle = \"T\"\nbanner = { src = \"b.png\" }\neditor_note = \"[files](ftp://example.org/x) and [mail](mailto:a@example.org)\"\n",
        template,
    );
    std::fs::write(dir.path().join("issues/one/b.png"), PNG).unwrap();
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "warning[missing-alt]: issues/one/issue.toml:3: image b.png has no alt text (screen readers and blocked images show nothing useful)
error[bad-link]: issues/one/issue.toml:4: link `ftp://example.org/x` is not an https://, http:// or mailto: link
error[no-unsubscribe]: templates/bulletin.mjml.hbs: the template has no unsubscribe link (an <a href=\"{{unsubscribe_url}}\">)
warning[small-text]: issues/one/issue.toml:4: text set at 13 px, under 14 px, is hard to read on a phone: “files”
issues/one: 2 errors, 2 warnings
"
    );
    let o = run_in(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let codes: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        codes,
        ["missing-alt", "bad-link", "no-unsubscribe", "small-text"]
    );
}

#[test]
fn check_flags_columns_the_list_lacks() {
    let template = MINIMAL_TEMPLATE.replace(
        "Hello {{subscriber.name}}",
        "Hello {{subscriber.name}} of {{subscriber.company}}",
    );
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    write(
        &dir.path().join("lists/members.csv"),
        "email,name,organisation\na@example.org,A,X\n",
    );
    let o = run_in(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stdout(&o),
        "{\"severity\":\"error\",\"code\":\"unknown-placeholder\",\"message\":\"unknown placeholder `subscriber.company`: lists/members.csv has no column `company`\",\"location\":\"templates/bulletin.mjml.hbs:6:49\"}\n{\"severity\":\"warning\",\"code\":\"small-text\",\"message\":\"text set at 13 px, under 14 px, is hard to read on a phone: “T”\",\"location\":\"issues/one/issue.toml:2\"}\n"
    );
}

#[test]
fn html_over_gmail_clip_size_is_an_error() {
    let body = "Lorem ipsum dolor sit amet. ".repeat(4000);
    let dir = fixture(
        &format!("subject = \"S\"\ntitle = \"T\"\neditor_note = \"{body}\"\n"),
        &MINIMAL_TEMPLATE.replace("{{issue.title}}", "{{{issue.editor_note_html}}}"),
    );
    let o = run_in(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stdout(&o).contains("\"code\":\"html-size\""),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("Gmail clips messages over 102 KB"));
}

fn compile(dir: &Path) -> compose::CompiledIssue {
    let issue = dir.join("issues/one");
    let project = Project::discover(&issue).unwrap();
    compose::compile(&project, &issue, None).unwrap()
}

#[test]
fn content_is_never_template_code_and_is_escaped() {
    let dir = fixture(
        "subject = \"{{subscriber.email}}\"\ntitle = \"{{subscriber.email}} <b>&\"\n",
        MINIMAL_TEMPLATE,
    );
    let c = compile(dir.path());
    let s = Subscriber::from_email("ann@example.org");
    let r = c
        .render(&Recipient {
            subscriber: &s,
            unsubscribe_url: "https://example.org/u/1",
        })
        .unwrap();
    assert!(
        r.html
            .text()
            .contains("&#123;&#123;subscriber.email&#125;&#125; &lt;b&gt;&amp;"),
        "{}",
        r.html
    );
    assert!(
        !r.html.text().contains("ann@example.org &lt;b"),
        "content became a placeholder"
    );
    assert!(
        r.text.text().contains("{{subscriber.email}} <b>&"),
        "{}",
        r.text
    );
    assert_eq!(r.subject, "{{subscriber.email}}");
}

#[test]
fn render_personalises_per_recipient() {
    let template = MINIMAL_TEMPLATE.replace(
        "Hello {{subscriber.name}}",
        "{{#if subscriber.name}}Dear {{subscriber.name}}{{else}}Dear member{{/if}} from {{subscriber.[First Org]}}",
    );
    let dir = fixture("subject = \"S\"\ntitle = \"T\"\n", &template);
    let c = compile(dir.path());
    assert_eq!(
        c.recipient_placeholders(),
        [
            "subscriber.[First Org]",
            "subscriber.name",
            "unsubscribe_url"
        ]
    );
    let mut ann = Subscriber::from_email("ann@example.org");
    ann.name = Some("Ann <A&B>".into());
    ann.fields.insert("First Org".into(), "Acme".into());
    let r = c
        .render(&Recipient {
            subscriber: &ann,
            unsubscribe_url: "https://example.org/u?t=1&l=2",
        })
        .unwrap();
    assert!(
        r.html.text().contains("Dear Ann &lt;A&amp;B&gt; from Acme"),
        "{}",
        r.html
    );
    assert!(
        r.html
            .text()
            .contains("href=\"https://example.org/u?t=1&amp;l=2\""),
        "{}",
        r.html
    );
    assert!(
        r.text.text().contains("Dear Ann <A&B> from Acme"),
        "{}",
        r.text
    );
    assert!(
        r.text.text().contains("https://example.org/u?t=1&l=2"),
        "{}",
        r.text
    );

    let mut bob = Subscriber::from_email("bob@example.org");
    bob.fields.insert("First Org".into(), "Beta".into());
    let r = c
        .render(&Recipient {
            subscriber: &bob,
            unsubscribe_url: "https://example.org/u/2",
        })
        .unwrap();
    assert!(
        r.html.text().contains("Dear member from Beta"),
        "{}",
        r.html
    );

    // A recipient whose row lacks a column the template uses: an error naming it.
    let carol = Subscriber::from_email("carol@example.org");
    let e = c
        .render(&Recipient {
            subscriber: &carol,
            unsubscribe_url: "https://example.org/u/3",
        })
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with(
            "cannot personalise the issue for carol@example.org: unknown placeholder `subscriber.[First Org]` at "
        ),
        "{e}"
    );
    assert!(
        e.ends_with("bulletin.mjml.hbs:6:99: the list has no column `[First Org]`"),
        "{e}"
    );
}

#[test]
fn compiled_issue_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<compose::CompiledIssue>();
}

#[test]
fn compiled_issue_reports_images_and_watched_files() {
    let c = {
        let issue = repo().join(FLAGSHIP);
        let project = Project::discover(&issue).unwrap();
        compose::compile(&project, &issue, None).unwrap()
    };
    let srcs: Vec<&str> = c.images().iter().map(|i| i.src.as_str()).collect();
    assert_eq!(
        srcs,
        [
            "banner.png",
            "roundtable-collage.png",
            "btw2023.png",
            "topical-tuesday.png",
            "signature.png"
        ]
    );
    assert!(
        c.images()
            .iter()
            .all(|i| i.content_type == "image/png" && i.path.is_file())
    );
    let watched = c.watched_files();
    assert!(watched.iter().any(|p| p.ends_with("issue.toml")));
    assert!(watched.iter().any(|p| p.ends_with("bulletin.toml")));
    assert!(
        watched
            .iter()
            .any(|p| p.ends_with("templates/bulletin.mjml.hbs"))
    );
    assert!(
        watched
            .iter()
            .any(|p| p.ends_with("templates/partials/section.mjml.hbs"))
    );
    assert!(watched.iter().any(|p| p.ends_with("signature.png")));
    assert_eq!(c.content().sections.len(), 13);
    assert!(
        compose::check(&c)
            .iter()
            .all(|f| f.severity != Severity::Error)
    );
}
