//! The default theme, built into the binary: used when a project has no template of its own,
//! and written out by `bulletin init`.

/// The main template (`templates/bulletin.mjml.hbs`).
pub const TEMPLATE: &str = include_str!("../../templates/bulletin.mjml.hbs");

/// The partials (`templates/partials/NAME.mjml.hbs`), by name.
pub const PARTIALS: &[(&str, &str)] = &[
    (
        "banner",
        include_str!("../../templates/partials/banner.mjml.hbs"),
    ),
    (
        "editor_note",
        include_str!("../../templates/partials/editor_note.mjml.hbs"),
    ),
    (
        "footer",
        include_str!("../../templates/partials/footer.mjml.hbs"),
    ),
    (
        "head",
        include_str!("../../templates/partials/head.mjml.hbs"),
    ),
    (
        "image",
        include_str!("../../templates/partials/image.mjml.hbs"),
    ),
    (
        "section",
        include_str!("../../templates/partials/section.mjml.hbs"),
    ),
    (
        "sign_off",
        include_str!("../../templates/partials/sign_off.mjml.hbs"),
    ),
    (
        "spotlight",
        include_str!("../../templates/partials/spotlight.mjml.hbs"),
    ),
    (
        "title_bar",
        include_str!("../../templates/partials/title_bar.mjml.hbs"),
    ),
    (
        "web_link",
        include_str!("../../templates/partials/web_link.mjml.hbs"),
    ),
];
