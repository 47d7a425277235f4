//! Templates: handlebars → MJML → mrml → HTML, plus the plain-text part; compiled once per issue, personalised per recipient.
