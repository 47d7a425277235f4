//! MJML's components as the reference compiler (mjml 5) documents them: which elements exist,
//! which attributes each takes and of what type, and which children each may hold.
//!
//! Types are written as MJML writes them: `string`, `color`, `boolean`, `integer`,
//! `enum(a,b)`, `unit(px,%)` (one value), `unit(px,%){1,4}` (one to four values),
//! `unitWithNegative(px,em)`; an empty unit (`unit(px,%,)`) allows a bare number.

/// One MJML component.
pub struct Component {
    pub name: &'static str,
    /// Attribute names and their types.
    pub attributes: &'static [(&'static str, &'static str)],
    /// Elements allowed directly inside; `None`: anything (`mj-attributes`).
    pub children: Option<&'static [&'static str]>,
    /// Its content is raw HTML or text, not MJML (`mj-text`, `mj-button`, `mj-style`, …).
    pub ending: bool,
}

/// Allowed on every component.
pub const ALWAYS_ALLOWED: [&str; 2] = ["mj-class", "css-class"];

/// Elements with no component of their own, allowed without checks of their attributes or
/// children (`mj-all` and `mj-class` in `mj-attributes`, the parts of `mj-html-attributes`).
pub const COMPONENTLESS: [&str; 4] = ["mj-all", "mj-class", "mj-selector", "mj-html-attribute"];

const PADDING: [(&str, &str); 5] = [
    ("padding", "unit(px,%){1,4}"),
    ("padding-top", "unit(px,%)"),
    ("padding-bottom", "unit(px,%)"),
    ("padding-left", "unit(px,%)"),
    ("padding-right", "unit(px,%)"),
];

macro_rules! attrs {
    ($($name:literal : $ty:literal),* $(,)? ; padding) => {
        &[$(($name, $ty),)* PADDING[0], PADDING[1], PADDING[2], PADDING[3], PADDING[4]]
    };
    ($($name:literal : $ty:literal),* $(,)?) => {
        &[$(($name, $ty),)*]
    };
}

const COLUMN_CONTENT: &[&str] = &[
    "mj-accordion",
    "mj-button",
    "mj-carousel",
    "mj-divider",
    "mj-image",
    "mj-raw",
    "mj-social",
    "mj-spacer",
    "mj-table",
    "mj-text",
    "mj-navbar",
];

/// `mj-section`'s attributes, with more (`mj-wrapper` adds `gap`).
macro_rules! section_attrs {
    ($($name:literal : $ty:literal),*) => {
        attrs!(
            "background-color": "color",
            "background-url": "string",
            "background-repeat": "enum(repeat,no-repeat)",
            "background-size": "string",
            "background-position": "string",
            "background-position-x": "string",
            "background-position-y": "string",
            "border": "string",
            "border-bottom": "string",
            "border-left": "string",
            "border-radius": "string",
            "border-right": "string",
            "border-top": "string",
            "direction": "enum(ltr,rtl)",
            "full-width": "enum(full-width,false,)",
            "gutter": "unit(px,%)",
            "text-align": "enum(left,center,right)",
            "text-padding": "unit(px,%){1,4}"
            $(, $name: $ty)*;
            padding
        )
    };
}

const SECTION: &[(&str, &str)] = section_attrs!();

const WRAPPER: &[(&str, &str)] = section_attrs!("gap": "unit(px)");

/// Every MJML component.
pub const COMPONENTS: &[Component] = &[
    Component {
        name: "mjml",
        attributes: &[],
        children: Some(&["mj-body", "mj-head", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-head",
        attributes: &[],
        children: Some(&[
            "mj-attributes",
            "mj-breakpoint",
            "mj-html-attributes",
            "mj-font",
            "mj-preview",
            "mj-style",
            "mj-title",
            "mj-raw",
        ]),
        ending: false,
    },
    Component {
        name: "mj-attributes",
        attributes: &[],
        children: None,
        ending: false,
    },
    Component {
        name: "mj-breakpoint",
        attributes: attrs!("width": "unit(px)"),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-font",
        attributes: attrs!("name": "string", "href": "string"),
        children: Some(&[]),
        ending: false,
    },
    Component {
        name: "mj-html-attributes",
        attributes: &[],
        children: Some(&["mj-selector"]),
        ending: false,
    },
    Component {
        name: "mj-preview",
        attributes: &[],
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-style",
        attributes: attrs!("inline": "string"),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-title",
        attributes: &[],
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-body",
        attributes: attrs!("width": "unit(px)", "background-color": "color", "id": "string"),
        children: Some(&["mj-raw", "mj-section", "mj-wrapper", "mj-hero"]),
        ending: false,
    },
    Component {
        name: "mj-wrapper",
        attributes: WRAPPER,
        children: Some(&["mj-hero", "mj-raw", "mj-section"]),
        ending: false,
    },
    Component {
        name: "mj-section",
        attributes: SECTION,
        children: Some(&["mj-column", "mj-group", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-group",
        attributes: attrs!(
            "background-color": "color",
            "direction": "enum(ltr,rtl)",
            "vertical-align": "enum(top,bottom,middle)",
            "width": "unit(px,%)",
        ),
        children: Some(&["mj-column", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-column",
        attributes: attrs!(
            "background-color": "color",
            "border": "string",
            "border-bottom": "string",
            "border-left": "string",
            "border-radius": "string",
            "border-right": "string",
            "border-top": "string",
            "direction": "enum(ltr,rtl)",
            "inner-background-color": "color",
            "inner-border": "string",
            "inner-border-bottom": "string",
            "inner-border-left": "string",
            "inner-border-radius": "string",
            "inner-border-right": "string",
            "inner-border-top": "string",
            "vertical-align": "enum(top,bottom,middle)",
            "width": "unit(px,%)";
            padding
        ),
        children: Some(COLUMN_CONTENT),
        ending: false,
    },
    Component {
        name: "mj-hero",
        attributes: attrs!(
            "mode": "string",
            "height": "unit(px,%)",
            "background-url": "string",
            "background-width": "unit(px,%)",
            "background-height": "unit(px,%)",
            "background-position": "string",
            "border-radius": "string",
            "inner-background-color": "color",
            "inner-padding": "unit(px,%){1,4}",
            "inner-padding-top": "unit(px,%)",
            "inner-padding-left": "unit(px,%)",
            "inner-padding-right": "unit(px,%)",
            "inner-padding-bottom": "unit(px,%)",
            "background-color": "color",
            "vertical-align": "enum(top,bottom,middle)";
            padding
        ),
        children: Some(COLUMN_CONTENT),
        ending: false,
    },
    Component {
        name: "mj-accordion",
        attributes: attrs!(
            "container-background-color": "color",
            "border": "string",
            "font-family": "string",
            "icon-align": "enum(top,middle,bottom)",
            "icon-width": "unit(px,%)",
            "icon-height": "unit(px,%)",
            "icon-wrapped-url": "string",
            "icon-wrapped-alt": "string",
            "icon-unwrapped-url": "string",
            "icon-unwrapped-alt": "string",
            "icon-position": "enum(left,right)";
            padding
        ),
        children: Some(&["mj-accordion-element", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-accordion-element",
        attributes: attrs!(
            "background-color": "color",
            "border": "string",
            "font-family": "string",
            "icon-align": "enum(top,middle,bottom)",
            "icon-width": "unit(px,%)",
            "icon-height": "unit(px,%)",
            "icon-wrapped-url": "string",
            "icon-wrapped-alt": "string",
            "icon-unwrapped-url": "string",
            "icon-unwrapped-alt": "string",
            "icon-position": "enum(left,right)",
        ),
        children: Some(&["mj-accordion-title", "mj-accordion-text", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-accordion-title",
        attributes: attrs!(
            "background-color": "color",
            "color": "color",
            "font-size": "unit(px)",
            "font-family": "string",
            "font-weight": "string";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-accordion-text",
        attributes: attrs!(
            "background-color": "color",
            "font-size": "unit(px)",
            "font-family": "string",
            "font-weight": "string",
            "letter-spacing": "unitWithNegative(px,em)",
            "line-height": "unit(px,%,)",
            "color": "color";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-button",
        attributes: attrs!(
            "align": "enum(left,center,right)",
            "background-color": "color",
            "border-bottom": "string",
            "border-left": "string",
            "border-radius": "string",
            "border-right": "string",
            "border-top": "string",
            "border": "string",
            "color": "color",
            "container-background-color": "color",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-style": "string",
            "font-weight": "string",
            "height": "unit(px,%)",
            "href": "string",
            "name": "string",
            "title": "string",
            "inner-padding": "unit(px,%){1,4}",
            "letter-spacing": "unitWithNegative(px,em)",
            "line-height": "unit(px,%,)",
            "rel": "string",
            "target": "string",
            "text-decoration": "string",
            "text-transform": "string",
            "vertical-align": "enum(top,bottom,middle)",
            "text-align": "enum(left,right,center)",
            "width": "unit(px,%)";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-carousel",
        attributes: attrs!(
            "align": "enum(left,center,right)",
            "border-radius": "string",
            "container-background-color": "color",
            "icon-width": "unit(px,%)",
            "left-icon": "string",
            "right-icon": "string",
            "thumbnails": "enum(visible,hidden,supported)",
            "tb-border": "string",
            "tb-border-radius": "string",
            "tb-hover-border-color": "color",
            "tb-selected-border-color": "color",
            "tb-width": "unit(px,%)";
            padding
        ),
        children: Some(&["mj-carousel-image"]),
        ending: false,
    },
    Component {
        name: "mj-carousel-image",
        attributes: attrs!(
            "alt": "string",
            "href": "string",
            "rel": "string",
            "target": "string",
            "title": "string",
            "src": "string",
            "thumbnails-src": "string",
            "border-radius": "string",
            "tb-border": "string",
            "tb-border-radius": "string",
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-divider",
        attributes: attrs!(
            "border-color": "color",
            "border-style": "string",
            "border-width": "unit(px)",
            "container-background-color": "color",
            "width": "unit(px,%)",
            "align": "enum(left,center,right)";
            padding
        ),
        children: Some(&[]),
        ending: false,
    },
    Component {
        name: "mj-image",
        attributes: attrs!(
            "alt": "string",
            "href": "string",
            "name": "string",
            "src": "string",
            "srcset": "string",
            "sizes": "string",
            "title": "string",
            "rel": "string",
            "align": "enum(left,center,right)",
            "border": "string",
            "border-bottom": "string",
            "border-left": "string",
            "border-right": "string",
            "border-top": "string",
            "border-radius": "string",
            "container-background-color": "color",
            "fluid-on-mobile": "boolean",
            "target": "string",
            "width": "unit(px)",
            "height": "unit(px,auto)",
            "max-height": "unit(px,%)",
            "font-size": "unit(px)",
            "usemap": "string";
            padding
        ),
        children: Some(&[]),
        ending: false,
    },
    Component {
        name: "mj-navbar",
        attributes: attrs!(
            "align": "enum(left,center,right)",
            "base-url": "string",
            "hamburger": "string",
            "ico-align": "enum(left,center,right)",
            "ico-open": "string",
            "ico-close": "string",
            "ico-color": "color",
            "ico-font-size": "unit(px,%)",
            "ico-font-family": "string",
            "ico-text-transform": "string",
            "ico-padding": "unit(px,%){1,4}",
            "ico-padding-left": "unit(px,%)",
            "ico-padding-top": "unit(px,%)",
            "ico-padding-right": "unit(px,%)",
            "ico-padding-bottom": "unit(px,%)",
            "ico-text-decoration": "string",
            "ico-line-height": "unit(px,%,)";
            padding
        ),
        children: Some(&["mj-navbar-link", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-navbar-link",
        attributes: attrs!(
            "color": "color",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-style": "string",
            "font-weight": "string",
            "href": "string",
            "name": "string",
            "target": "string",
            "rel": "string",
            "letter-spacing": "unitWithNegative(px,em)",
            "line-height": "unit(px,%,)",
            "text-decoration": "string",
            "text-transform": "string";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-raw",
        attributes: attrs!("position": "enum(file-start)"),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-social",
        attributes: attrs!(
            "align": "enum(left,right,center)",
            "border": "string",
            "border-radius": "string",
            "container-background-color": "color",
            "color": "color",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-style": "string",
            "font-weight": "string",
            "icon-size": "unit(px,%)",
            "icon-height": "unit(px,%)",
            "icon-padding": "unit(px,%){1,4}",
            "inner-padding": "unit(px,%){1,4}",
            "line-height": "unit(px,%,)",
            "mode": "enum(horizontal,vertical)",
            "table-layout": "enum(auto,fixed)",
            "text-padding": "unit(px,%){1,4}",
            "text-decoration": "string",
            "vertical-align": "enum(top,bottom,middle)";
            padding
        ),
        children: Some(&["mj-social-element", "mj-raw"]),
        ending: false,
    },
    Component {
        name: "mj-social-element",
        attributes: attrs!(
            "align": "enum(left,center,right)",
            "icon-position": "enum(left,right)",
            "background-color": "color",
            "color": "color",
            "border": "string",
            "border-radius": "string",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-style": "string",
            "font-weight": "string",
            "href": "string",
            "icon-size": "unit(px,%)",
            "icon-height": "unit(px,%)",
            "icon-padding": "unit(px,%){1,4}",
            "line-height": "unit(px,%,)",
            "name": "string",
            "text-padding": "unit(px,%){1,4}",
            "rel": "string",
            "src": "string",
            "srcset": "string",
            "sizes": "string",
            "alt": "string",
            "title": "string",
            "target": "string",
            "text-decoration": "string",
            "vertical-align": "enum(top,middle,bottom)";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-spacer",
        attributes: attrs!(
            "border": "string",
            "border-bottom": "string",
            "border-left": "string",
            "border-right": "string",
            "border-top": "string",
            "container-background-color": "color",
            "height": "unit(px,%)";
            padding
        ),
        children: Some(&[]),
        ending: false,
    },
    Component {
        name: "mj-table",
        attributes: attrs!(
            "align": "enum(left,right,center)",
            "border": "string",
            "cellpadding": "integer",
            "cellspacing": "integer",
            "container-background-color": "color",
            "color": "color",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-weight": "string",
            "line-height": "unit(px,%,)",
            "role": "enum(none,presentation)",
            "table-layout": "enum(auto,fixed,initial,inherit)",
            "vertical-align": "enum(top,bottom,middle)",
            "width": "unit(px,%,auto)";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
    Component {
        name: "mj-text",
        attributes: attrs!(
            "align": "enum(left,right,center,justify)",
            "background-color": "color",
            "color": "color",
            "container-background-color": "color",
            "font-family": "string",
            "font-size": "unit(px)",
            "font-style": "string",
            "font-weight": "string",
            "height": "unit(px,%)",
            "letter-spacing": "unitWithNegative(px,em)",
            "line-height": "unit(px,%,)",
            "text-decoration": "string",
            "text-transform": "string",
            "vertical-align": "enum(top,bottom,middle)";
            padding
        ),
        children: Some(&[]),
        ending: true,
    },
];

/// The component of this name.
pub fn component(name: &str) -> Option<&'static Component> {
    COMPONENTS.iter().find(|c| c.name == name)
}

/// The components that may hold `child`, for "only inside: …".
pub fn parents_of(child: &str) -> Vec<&'static str> {
    COMPONENTS
        .iter()
        .filter(|c| c.children.is_none_or(|k| k.contains(&child)))
        .map(|c| c.name)
        .collect()
}

/// CSS colour names MJML accepts.
const COLOR_NAMES: &[&str] = &[
    "aliceblue",
    "antiquewhite",
    "aqua",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanchedalmond",
    "blue",
    "blueviolet",
    "brown",
    "burlywood",
    "cadetblue",
    "chartreuse",
    "chocolate",
    "coral",
    "cornflowerblue",
    "cornsilk",
    "crimson",
    "cyan",
    "darkblue",
    "darkcyan",
    "darkgoldenrod",
    "darkgray",
    "darkgreen",
    "darkgrey",
    "darkkhaki",
    "darkmagenta",
    "darkolivegreen",
    "darkorange",
    "darkorchid",
    "darkred",
    "darksalmon",
    "darkseagreen",
    "darkslateblue",
    "darkslategray",
    "darkslategrey",
    "darkturquoise",
    "darkviolet",
    "deeppink",
    "deepskyblue",
    "dimgray",
    "dimgrey",
    "dodgerblue",
    "firebrick",
    "floralwhite",
    "forestgreen",
    "fuchsia",
    "gainsboro",
    "ghostwhite",
    "gold",
    "goldenrod",
    "gray",
    "green",
    "greenyellow",
    "grey",
    "honeydew",
    "hotpink",
    "indianred",
    "indigo",
    "inherit",
    "ivory",
    "khaki",
    "lavender",
    "lavenderblush",
    "lawngreen",
    "lemonchiffon",
    "lightblue",
    "lightcoral",
    "lightcyan",
    "lightgoldenrodyellow",
    "lightgray",
    "lightgreen",
    "lightgrey",
    "lightpink",
    "lightsalmon",
    "lightseagreen",
    "lightskyblue",
    "lightslategray",
    "lightslategrey",
    "lightsteelblue",
    "lightyellow",
    "lime",
    "limegreen",
    "linen",
    "magenta",
    "maroon",
    "mediumaquamarine",
    "mediumblue",
    "mediumorchid",
    "mediumpurple",
    "mediumseagreen",
    "mediumslateblue",
    "mediumspringgreen",
    "mediumturquoise",
    "mediumvioletred",
    "midnightblue",
    "mintcream",
    "mistyrose",
    "moccasin",
    "navajowhite",
    "navy",
    "oldlace",
    "olive",
    "olivedrab",
    "orange",
    "orangered",
    "orchid",
    "palegoldenrod",
    "palegreen",
    "paleturquoise",
    "palevioletred",
    "papayawhip",
    "peachpuff",
    "peru",
    "pink",
    "plum",
    "powderblue",
    "purple",
    "rebeccapurple",
    "red",
    "rosybrown",
    "royalblue",
    "saddlebrown",
    "salmon",
    "sandybrown",
    "seagreen",
    "seashell",
    "sienna",
    "silver",
    "skyblue",
    "slateblue",
    "slategray",
    "slategrey",
    "snow",
    "springgreen",
    "steelblue",
    "tan",
    "teal",
    "thistle",
    "tomato",
    "transparent",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "whitesmoke",
    "yellow",
    "yellowgreen",
];

/// Why `value` is not of type `ty`, or `None` when it is.
pub fn type_error(ty: &str, value: &str) -> Option<String> {
    let ok = if ty == "string" {
        true
    } else if ty == "color" {
        is_color(value)
    } else if ty == "boolean" {
        value == "true" || value == "false"
    } else if ty == "integer" {
        value.bytes().any(|b| b.is_ascii_digit())
    } else if let Some(list) = ty.strip_prefix("enum(").and_then(|r| r.strip_suffix(')')) {
        let ok = list.split(',').any(|v| v == value);
        if !ok {
            return Some(format!(
                "has invalid value `{value}`: one of {} is expected",
                list.split(',')
                    .map(|v| if v.is_empty() {
                        "``".into()
                    } else {
                        format!("`{v}`")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        true
    } else if let Some(unit) = Unit::parse(ty) {
        if !unit.accepts(value) {
            return Some(unit.describe(value));
        }
        true
    } else {
        true
    };
    (!ok).then(|| match ty {
        "color" => format!("has invalid value `{value}`: a colour is expected (#rgb, #rrggbb, rgb(…), rgba(…) or a CSS colour name)"),
        "boolean" => format!("has invalid value `{value}`: `true` or `false` is expected"),
        _ => format!("has invalid value `{value}` for type {ty}"),
    })
}

fn is_color(value: &str) -> bool {
    let v = value.trim();
    if let Some(hex) = v.strip_prefix('#') {
        return (hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("rgb(") || lower.starts_with("rgba(") {
        let inner = lower
            .trim_start_matches("rgba(")
            .trim_start_matches("rgb(")
            .trim_end_matches(')');
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        let channels = if lower.starts_with("rgba(") { 4 } else { 3 };
        return parts.len() == channels
            && parts
                .iter()
                .take(3)
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            && parts
                .get(3)
                .is_none_or(|a| a.parse::<f64>().is_ok_and(|a| (0.0..=1.0).contains(&a)));
    }
    COLOR_NAMES.contains(&v)
}

/// A `unit(…)` type: the units, whether negative numbers pass, how many values.
struct Unit<'a> {
    units: Vec<&'a str>,
    negative: bool,
    min: usize,
    max: usize,
}

impl<'a> Unit<'a> {
    fn parse(ty: &'a str) -> Option<Unit<'a>> {
        let (negative, rest) = if let Some(r) = ty.strip_prefix("unitWithNegative(") {
            (true, r)
        } else {
            (false, ty.strip_prefix("unit(")?)
        };
        let (units, count) = rest.split_once(')')?;
        let (min, max) = match count.strip_prefix('{').and_then(|c| c.strip_suffix('}')) {
            Some(c) => {
                let (a, b) = c.split_once(',').unwrap_or((c, c));
                (a.parse().ok()?, b.parse().ok()?)
            }
            None => (1, 1),
        };
        Some(Unit {
            units: units.split(',').collect(),
            negative,
            min,
            max,
        })
    }

    fn accepts(&self, value: &str) -> bool {
        let parts: Vec<&str> = value.split(' ').filter(|p| !p.is_empty()).collect();
        // One blank between values, none at the start.
        if value.starts_with(' ') || value.contains("  ") {
            return false;
        }
        (self.min..=self.max).contains(&parts.len()) && parts.iter().all(|p| self.one(p))
    }

    fn one(&self, part: &str) -> bool {
        if part == "0" || (part == "auto" && self.units.contains(&"auto")) {
            return true;
        }
        let digits = part
            .find(|c: char| {
                !(c.is_ascii_digit() || c == '.' || c == ',' || (self.negative && c == '-'))
            })
            .unwrap_or(part.len());
        let (number, unit) = part.split_at(digits);
        !number.is_empty()
            && number.bytes().any(|b| b.is_ascii_digit())
            && self.units.iter().any(|u| *u != "auto" && *u == unit)
    }

    fn describe(&self, value: &str) -> String {
        let units: Vec<String> = self
            .units
            .iter()
            .map(|u| {
                if u.is_empty() {
                    "a bare number".into()
                } else {
                    format!("`{u}`")
                }
            })
            .collect();
        let count = if self.min == self.max {
            format!("{} value{}", self.min, if self.min == 1 { "" } else { "s" })
        } else {
            format!("{} to {} values", self.min, self.max)
        };
        format!(
            "has invalid value `{value}`: {count} in {} expected",
            units.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(type_error("unit(px)", "600px"), None);
        assert!(type_error("unit(px)", "600").is_some());
        assert!(type_error("unit(px,%)", "50 %").is_some());
        assert_eq!(type_error("unit(px,%){1,4}", "10px 0 4px 20%"), None);
        assert!(type_error("unit(px,%){1,4}", "1px 2px 3px 4px 5px").is_some());
        assert!(type_error("unit(px,%){1,4}", "").is_some());
        assert_eq!(type_error("unit(px,%,)", "1.55"), None);
        assert!(type_error("unit(px,%)", "-2px").is_some());
        assert_eq!(type_error("unitWithNegative(px,em)", "-0.5em"), None);
        assert_eq!(type_error("unit(px,auto)", "auto"), None);
        assert!(type_error("unit(px)", "auto").is_some());
    }

    #[test]
    fn colours_enums_booleans() {
        for ok in [
            "#fff",
            "#1F2933",
            "rgb(1, 2, 3)",
            "rgba(0,0,0,0.5)",
            "transparent",
            "red",
        ] {
            assert_eq!(type_error("color", ok), None, "{ok}");
        }
        for bad in ["#ffff", "1f2933", "reddish", "rgb(1,2)"] {
            assert!(type_error("color", bad).is_some(), "{bad}");
        }
        assert_eq!(type_error("enum(left,center,right)", "left"), None);
        assert!(type_error("enum(left,center,right)", "middle").is_some());
        assert_eq!(type_error("enum(full-width,false,)", ""), None);
        assert_eq!(type_error("boolean", "true"), None);
        assert!(type_error("boolean", "yes").is_some());
    }

    #[test]
    fn wrapper_is_a_section_with_a_gap() {
        let has_gap = |c: &str| {
            component(c)
                .unwrap()
                .attributes
                .iter()
                .any(|a| a.0 == "gap")
        };
        assert!(has_gap("mj-wrapper"));
        assert!(!has_gap("mj-section"));
        assert_eq!(
            component("mj-wrapper").unwrap().attributes.len(),
            SECTION.len() + 1
        );
    }

    #[test]
    fn parents() {
        assert_eq!(
            parents_of("mj-column"),
            ["mj-attributes", "mj-section", "mj-group"]
        );
    }
}
