//! Templates that tell the truth: MJML validation, literal braces, language and direction, a
//! hand-written text part, and the accessibility lints of `check`; the real binary on
//! projects in temporary folders.

mod support;

use std::path::Path;

use support::files::{dry_run, run_in, stderr, stdout, tiny, write};

const ISSUE: &str = "subject = \"S\"\ntitle = \"T\"\n";
const LIST: &str = "email,name\nada@example.org,Ada\n";

/// A template whose every line is its own, so positions can be pinned.
const TEMPLATE: &str = "<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>{{issue.title}}</mj-text>
        <mj-text><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
";

/// `TEMPLATE` with a partial `part` holding the first `mj-text`, and `part` broken as given.
fn with_broken_partial(part: &str) -> tempfile::TempDir {
    let dir = tiny(
        &TEMPLATE.replace("<mj-text>{{issue.title}}</mj-text>", "{{> part}}"),
        ISSUE,
        LIST,
    );
    write(
        &dir.path().join("templates/partials/part.mjml.hbs"),
        part.as_bytes(),
    );
    dir
}

#[test]
fn invalid_mjml_is_an_error_at_the_template_line_and_column() {
    let template = TEMPLATE
        .replace("<mj-text>{{issue.title}}</mj-text>", "<mj-divder />")
        .replace("<mj-section>", "<mj-section padding=\"4\">")
        .replace("<mj-text><a", "<mj-text colour=\"#fff\"><a");
    let dir = tiny(&template, ISSUE, LIST);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: templates/bulletin.mjml.hbs:3:17: invalid MJML: attribute `padding` of <mj-section> has invalid value `4`: 1 to 4 values in `px`, `%` expected
  |
3 |     <mj-section padding=\"4\">
  |                 ^
error: templates/bulletin.mjml.hbs:5:9: invalid MJML: unknown element <mj-divder>
  |
5 |         <mj-divder />
  |         ^
  = hint: did you mean <mj-divider>?
error: templates/bulletin.mjml.hbs:6:18: invalid MJML: unknown attribute `colour` on <mj-text>
  |
6 |         <mj-text colour=\"#fff\"><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
  |                  ^
  = hint: did you mean `color`?
3 MJML errors: nothing was built (`[compose] validation = \"soft\"` in bulletin.toml builds anyway)
"
    );
    assert!(!dir.path().join("out").exists());

    // `check` lists each as a finding.
    let o = run_in(dir.path(), &["check", "issues/one", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let codes: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {}",
                v["code"].as_str().unwrap(),
                v["location"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            "invalid-mjml templates/bulletin.mjml.hbs:3:17",
            "invalid-mjml templates/bulletin.mjml.hbs:5:9",
            "invalid-mjml templates/bulletin.mjml.hbs:6:18"
        ]
    );

    // `send` refuses, even a dry run, and writes nothing.
    let o = run_in(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--yes",
            "--dry-run",
            "--outbox",
            "box",
        ],
    );
    // exit 3: what `check` refuses, `send` refuses
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o)
            .contains("templates/bulletin.mjml.hbs:5:9: invalid MJML: unknown element <mj-divder>")
    );
    assert!(!dir.path().join("box").exists());
}

#[test]
fn errors_in_a_partial_and_wrong_parents_and_closing_tags_are_placed() {
    let dir = with_broken_partial("<mj-section>\n  <mj-text>x</mj-text>\n</mj-colum>\n");
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with(
            "error: templates/partials/part.mjml.hbs:1:1: invalid MJML: <mj-section> cannot be used inside <mj-column>, only inside <mj-attributes>, <mj-body>, <mj-wrapper>\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "error: templates/partials/part.mjml.hbs:2:3: invalid MJML: <mj-text> cannot be used inside <mj-section>, only inside <mj-attributes>, <mj-column>, <mj-hero>\n"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "error: templates/partials/part.mjml.hbs:3:1: invalid MJML: </mj-colum> closes no open element\n"
        ),
        "{err}"
    );
}

#[test]
fn soft_validation_builds_with_warnings_and_skip_says_nothing() {
    let template = TEMPLATE.replace("<mj-text>{{issue.title}}</mj-text>", "<mj-divder />");
    let dir = tiny(&template, ISSUE, LIST);
    let config = dir.path().join("bulletin.toml");
    let base = std::fs::read_to_string(&config).unwrap();

    std::fs::write(&config, format!("{base}[compose]\nvalidation = \"soft\"\n")).unwrap();
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(
            "warning: templates/bulletin.mjml.hbs:5:9: invalid MJML: unknown element <mj-divder>"
        ),
        "{}",
        stderr(&o)
    );
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning[mjml]: templates/bulletin.mjml.hbs:5:9: invalid MJML: unknown element <mj-divder>"), "{}", stderr(&o));

    std::fs::write(&config, format!("{base}[compose]\nvalidation = \"skip\"\n")).unwrap();
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    std::fs::write(
        &config,
        format!("{base}[compose]\nvalidation = \"lenient\"\n"),
    )
    .unwrap();
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bulletin.toml:"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown variant `lenient`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_default_theme_and_the_flagship_are_valid_mjml() {
    let dir = tiny(TEMPLATE, ISSUE, LIST);
    std::fs::remove_file(dir.path().join("templates/bulletin.mjml.hbs")).unwrap();
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let files = dry_run(dir.path(), "lists/members.csv");
    assert_eq!(files.len(), 1);
}

/// A template with ESP merge tags meant literally, in text, an attribute and an entity form.
const LITERAL_BRACES: &str = "<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Dear \\{{FirstName}}, {{issue.title}} for {{subscriber.name}}. &#123;&#123;Code&#125;&#125;</mj-text>
        <mj-button href=\"https://esp.example.org/?id=\\{{ID}}\">Go</mj-button>
        <mj-text><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
";

#[test]
fn escaped_braces_come_out_literal_in_build_and_send() {
    let dir = tiny(LITERAL_BRACES, ISSUE, LIST);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("out/one.html")).unwrap();
    assert!(
        html.contains(
            "Dear &#123;&#123;FirstName&#125;&#125;, T for Reader. &#123;&#123;Code&#125;&#125;"
        ),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://esp.example.org/?id=&#123;&#123;ID&#125;&#125;\""),
        "{html}"
    );
    let text = std::fs::read_to_string(dir.path().join("out/one.txt")).unwrap();
    assert!(
        text.contains("Dear {{FirstName}}, T for Reader. {{Code}}"),
        "{text}"
    );
    assert!(
        text.contains("https://esp.example.org/?id={{ID}}"),
        "{text}"
    );

    // Sent: the member's name filled in, the merge tags kept as braces in both parts.
    let files = dry_run(dir.path(), "lists/members.csv");
    let eml = std::fs::read(&files[0]).unwrap();
    let m = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let html = m.body_html(0).unwrap();
    assert!(
        html.contains(
            "Dear &#123;&#123;FirstName&#125;&#125;, T for Ada. &#123;&#123;Code&#125;&#125;"
        ),
        "{html}"
    );
    let text = m.body_text(0).unwrap();
    assert!(
        text.contains("Dear {{FirstName}}, T for Ada. {{Code}}"),
        "{text}"
    );
    assert!(
        text.contains("https://esp.example.org/?id={{ID}}"),
        "{text}"
    );
}

#[test]
fn an_unescaped_merge_tag_is_refused_with_the_escape_as_hint() {
    let dir = tiny(
        &LITERAL_BRACES.replace("\\{{FirstName}}", "{{FirstName}}"),
        ISSUE,
        LIST,
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: templates/bulletin.mjml.hbs:5:23: unknown placeholder `FirstName`"),
        "{err}"
    );
    assert!(
        err.contains("write `\\{{FirstName}}` for literal braces"),
        "{err}"
    );
}

#[test]
fn language_and_direction_from_the_config_overridden_per_issue() {
    let dir = tiny(TEMPLATE, ISSUE, LIST);
    std::fs::remove_file(dir.path().join("templates/bulletin.mjml.hbs")).unwrap();
    let config = dir.path().join("bulletin.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        base.replace(
            "[sender]\n",
            "[sender]\nlanguage = \"en-GB\"\ndirection = \"ltr\"\n",
        ),
    )
    .unwrap();
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("out/one.html")).unwrap();
    assert!(
        html.starts_with("<!doctype html><html lang=\"en-GB\" dir=\"ltr\""),
        "{}",
        &html[..200]
    );

    // An Arabic issue of the same project: right to left throughout.
    write(
        &dir.path().join("issues/one/issue.toml"),
        "subject = \"S\"\ntitle = \"T\"\nlanguage = \"ar\"\ndirection = \"rtl\"\ndate = \"2026\"\n\n[[sections]]\nheading = \"H\"\nbody = \"- a\\n- b\\n\"\n".as_bytes(),
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("out/one.html")).unwrap();
    assert!(
        html.starts_with("<!doctype html><html lang=\"ar\" dir=\"rtl\""),
        "{}",
        &html[..200]
    );
    assert!(!html.contains("direction:ltr"), "{html}");
    assert!(html.contains("direction:rtl"), "{html}");
    // Text is aligned right, but for the dateline, which sits at the far end: the left.
    assert_eq!(html.matches("text-align:left").count(), 1, "{html}");
    assert!(
        html.contains("text-align:left;color:#cfe8f3;\">2026"),
        "{html}"
    );

    // A language that is no tag is refused at its line.
    write(
        &dir.path().join("issues/one/issue.toml"),
        b"subject = \"S\"\ntitle = \"T\"\nlanguage = \"English\"\n",
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o)
            .starts_with("error: issues/one/issue.toml:3:12: `English` is not a language tag"),
        "{}",
        stderr(&o)
    );
}

const WRITTEN_TEXT: &str = r#"subject = "S"
title = "T"

text = '''
{{issue.title}}, written by hand for {{#if subscriber.name}}{{subscriber.name}}{{else}}you{{/if}}.

Literal: \{{FirstName}}.

Leave: {{unsubscribe_url}}
'''
"#;

#[test]
fn a_hand_written_text_part_replaces_the_generated_one() {
    let dir = tiny(TEMPLATE, WRITTEN_TEXT, LIST);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("out/one.txt")).unwrap();
    assert_eq!(
        text,
        "T, written by hand for Reader.\n\nLiteral: {{FirstName}}.\n\nLeave: mailto:unsubscribe@example.org?subject=unsubscribe\n"
    );
    // The HTML is the template's, as ever.
    let html = std::fs::read_to_string(dir.path().join("out/one.html")).unwrap();
    assert!(html.contains(">T</div>"), "{html}");
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // As sent: personalised per member.
    let files = dry_run(dir.path(), "lists/members.csv");
    let eml = std::fs::read(&files[0]).unwrap();
    let m = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let text = m.body_text(0).unwrap();
    assert!(text.starts_with("T, written by hand for Ada."), "{text}");
    assert!(text.contains("Literal: {{FirstName}}."), "{text}");
}

#[test]
fn a_hand_written_text_part_is_checked_like_a_template() {
    // A typo: named at its line in issue.toml.
    let dir = tiny(
        TEMPLATE,
        &WRITTEN_TEXT.replace("{{issue.title}}", "{{issue.titel}}"),
        LIST,
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: issues/one/issue.toml:5:1: unknown placeholder `issue.titel`\n  |\n5 | {{issue.titel}}, written by hand"),
        "{}",
        stderr(&o)
    );
    // A list column no list has: found by check at its place.
    let dir = tiny(
        TEMPLATE,
        &WRITTEN_TEXT.replace("Literal:", "{{subscriber.city}}:"),
        LIST,
    );
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("error[unknown-placeholder]: issues/one/issue.toml:7:3: unknown placeholder `subscriber.city`"),
        "{}",
        stderr(&o)
    );
    // No way out in the text: an error.
    let dir = tiny(
        TEMPLATE,
        &WRITTEN_TEXT.replace("Leave: {{unsubscribe_url}}", "Bye."),
        LIST,
    );
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("error[no-unsubscribe]: issues/one/issue.toml:4: the hand-written text part has no unsubscribe link"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_flags_vague_links_skipped_headings_and_small_text() {
    let template = TEMPLATE.replace(
        "<mj-text>{{issue.title}}</mj-text>",
        "<mj-text><h1>{{issue.title}}</h1></mj-text>\n        <mj-text font-size=\"12px\">Small print</mj-text>",
    );
    let issue = "subject = \"S\"\ntitle = \"T\"\n[[sections]]\nbody = \"\"\"\n#### Deep heading\n\nRegister [here](https://events.example.org/r).\n\"\"\"\n";
    let dir = tiny(
        &template.replace(
            "{{issue.title}}</h1></mj-text>",
            "{{issue.title}}</h1>{{#each issue.sections}}{{{body_html}}}{{/each}}</mj-text>",
        ),
        issue,
        LIST,
    );
    // mj-text's own default size, 13 px, is small text too.
    let o = run_in(dir.path(), &["check", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "warning[vague-link]: issues/one/issue.toml:7: link text “here” says nothing about where it leads (https://events.example.org/r): name the destination, e.g. “Register for the roundtable”
warning[heading-order]: issues/one/issue.toml:5: heading “Deep heading” is an h4 after an h1: headings go down one level at a time (h2 here)
warning[small-text]: issues/one/issue.toml:5: text set at 13 px, under 14 px, is hard to read on a phone: “Deep heading”
warning[small-text]: templates/bulletin.mjml.hbs:6:35: text set at 12 px, under 14 px, is hard to read on a phone: “Small print”
issues/one: 0 errors, 4 warnings
"
    );
}

/// Build one of `tests/fixtures/mjml/` as a project's template; returns the HTML.
fn build_fixture(name: &str) -> String {
    let mjml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/mjml/{name}.mjml")),
    )
    .unwrap();
    let dir = tiny(&mjml, ISSUE, LIST);
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::read_to_string(dir.path().join("out/one.html")).unwrap()
}

#[test]
fn workaround_first_duplicate_attribute_wins() {
    let html = build_fixture("duplicate-attribute");
    assert!(html.contains("font-size:12px;"), "{html}");
    assert!(!html.contains("font-size:24px"), "{html}");
}

#[test]
fn workaround_carousel_media_query() {
    let html = build_fixture("carousel-arrows");
    assert!(html.contains("@media screen yahoo {"), "{html}");
    assert!(!html.contains("@media screen, yahoo"), "{html}");
}

#[test]
fn workaround_padding_zero_units_on_images() {
    // Three 200 px columns, images of 184 px with 25 px of padding each side: 150 px, as mjml.
    let html = build_fixture("image-wider-than-column");
    assert_eq!(html.matches("width=\"150\"").count(), 3, "{html}");
    assert!(!html.contains("width=\"184\""), "{html}");
}

#[test]
fn workaround_whole_pixel_image_widths() {
    // Two columns of 287.5 px: mjml truncates the images' box to 287 px.
    let html = build_fixture("fractional-image-width");
    assert_eq!(html.matches("width=\"287\"").count(), 2, "{html}");
    assert_eq!(
        html.matches("<td style=\"width:287px;\">").count(),
        2,
        "{html}"
    );
    assert!(!html.contains("width=\"287.5\""), "{html}");
}

#[test]
fn workaround_truncated_image_boxes() {
    // A column of 33.33333333333333% of 600 px is 199.99999999999997 px, which mjml reads as 199:
    // the image, with 25 px of padding each side, is 149 px wide (mrml alone makes it 150).
    let html = build_fixture("fractional-column-width");
    assert_eq!(html.matches("width=\"149\"").count(), 1, "{html}");
    assert_eq!(
        html.matches("<td style=\"width:149px;\">").count(),
        1,
        "{html}"
    );
    assert!(!html.contains("width=\"150\""), "{html}");
}

#[test]
fn workaround_padding_zero_units() {
    // `padding="0 12px 0 13px"` on the section: columns of (600 − 25) / 2 = 287.5 px, images of
    // 287 px as in mjml, not 300 px (mrml drops a padding with a bare 0).
    let html = build_fixture("padding-bare-zero");
    assert_eq!(html.matches("width=\"287\"").count(), 2, "{html}");
    assert!(!html.contains("width=\"300\""), "{html}");
}

#[test]
fn workaround_unapplied_defaults() {
    let html = build_fixture("body-in-mj-attributes");
    assert!(
        html.contains("<body style=\"word-spacing:normal;background-color:#336699;\">"),
        "{html}"
    );
    assert!(html.contains("max-width:500px"), "{html}");
}

#[test]
fn workaround_hero_fluid_height() {
    let html = build_fixture("hero-fluid-height");
    // 469 / 600 of the width, as mjml's spacer cells, and no negative height.
    assert_eq!(html.matches("padding-bottom:78%;").count(), 2, "{html}");
    assert!(!html.contains("-200px"), "{html}");
}

#[test]
fn workaround_wrapper_gap() {
    let html = build_fixture("wrapper-gap");
    // Above the second section only: on the section, and on its Outlook table.
    assert_eq!(html.matches("margin-top:20px;").count(), 1, "{html}");
    assert_eq!(html.matches("padding-top:20px;").count(), 1, "{html}");
    assert!(!html.contains("bulletin-gap"), "{html}");
}

#[test]
fn workaround_full_width_radius() {
    // The wrapper's box is rounded; the full-width table around it is not, as in mjml.
    let html = build_fixture("full-width-radius");
    assert!(
        html.contains("style=\"background:#f0f0f0;background-color:#f0f0f0;width:100%;\""),
        "{html}"
    );
    assert!(
        html.contains("border-radius:4px;overflow:hidden;"),
        "{html}"
    );
}

#[test]
fn an_mjml_element_mrml_lacks_is_named_with_what_to_do() {
    let dir = tiny(
        "<mjml><mj-head><mj-html-attributes><mj-selector path=\".x\"><mj-html-attribute name=\"data-id\">1</mj-html-attribute></mj-selector></mj-html-attributes></mj-head><mj-body></mj-body></mjml>",
        ISSUE,
        LIST,
    );
    let o = run_in(dir.path(), &["build", "issues/one"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("<mj-html-attributes> is not supported by bulletin's MJML compiler"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn workaround_unapplied_defaults_of_accordion_elements() {
    let html = build_fixture("accordion-element-defaults");
    assert_eq!(html.matches("width:20px;height:20px;").count(), 2, "{html}");
    assert!(html.contains("https://example.org/plus.png"), "{html}");
    assert!(!html.contains("width:32px;height:32px;"), "{html}");
}

#[test]
fn workaround_group_column_mobile_width() {
    // Seven columns in a group keep 14% each on phones, as mjml writes them, not 14.285714%.
    let html = build_fixture("group-of-seven");
    assert_eq!(
        html.matches("vertical-align:top;width:14%;").count(),
        7,
        "{html}"
    );
    assert!(
        !html.contains("vertical-align:top;width:14.285714%;"),
        "{html}"
    );
}
