//! Consent as member exports say it: which columns of a list say whether a member may be mailed,
//! and what their values mean.
//!
//! Each mailing service writes consent its own way: a status word (listmonk `status`,
//! Buttondown `subscriber_type`, MailerLite, Kit, Sendy), a true/false column (Ghost
//! `subscribed_to_emails`, Substack `email_disabled`, Brevo `EMAIL_BLACKLISTED`, HubSpot
//! `Unsubscribed from all email`), a date that is set only for members who left (`unsubscribed_at`),
//! or a whole file of members who left (Mailchimp's unsubscribed and cleaned exports, known by
//! their `UNSUB_TIME` and `CLEAN_TIME` columns). [`ConsentColumns::find`] reads the header;
//! [`ConsentColumns::read`] reads one row.
//!
//! Failing closed: a column that looks like consent (its header speaks of status, subscription,
//! opt-in or out, consent, bounces, block or black lists) is read cell by cell, and a value this
//! module does not know is [`Say::Unclear`]. The pre-scan ([`super::opt_outs`]) stops the send
//! on any unclear value; `[lists] send_when` says which values of a column mean "send", and
//! `[lists] not_consent` says that a column is not about consent at all.

use std::fmt;

use serde::Serialize;

/// Why the list says a member is not to be mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leave {
    /// Unsubscribed, opted out, cancelled, removed.
    Unsubscribed,
    /// Blocklisted (blacklisted), marked as spam, complained, banned.
    Blocklisted,
    /// Never confirmed a double opt-in: pending, unconfirmed, unactivated.
    Unconfirmed,
    /// Removed by the service as undeliverable (Mailchimp "cleaned", MailerLite "junk").
    Cleaned,
    /// Bounced.
    Bounced,
    /// Email turned off for the member (Substack `email_disabled`, listmonk `disabled`).
    EmailDisabled,
    /// Not a marketing contact (HubSpot; Mailchimp "transactional").
    NotMarketing,
    /// A value that `[lists] send_when` does not list.
    NotSendWhen,
}

impl Leave {
    const ALL: [Leave; 8] = [
        Leave::Unsubscribed,
        Leave::Blocklisted,
        Leave::Unconfirmed,
        Leave::Cleaned,
        Leave::Bounced,
        Leave::EmailDisabled,
        Leave::NotMarketing,
        Leave::NotSendWhen,
    ];

    /// The name used in reports and JSON: `unsubscribed`, `blocklisted`, …
    pub fn label(self) -> &'static str {
        match self {
            Leave::Unsubscribed => "unsubscribed",
            Leave::Blocklisted => "blocklisted",
            Leave::Unconfirmed => "unconfirmed",
            Leave::Cleaned => "cleaned",
            Leave::Bounced => "bounced",
            Leave::EmailDisabled => "email disabled",
            Leave::NotMarketing => "not a marketing contact",
            Leave::NotSendWhen => "not in send_when",
        }
    }

    pub(crate) fn code(self) -> u8 {
        Self::ALL.iter().position(|l| *l == self).unwrap_or(0) as u8
    }

    pub(crate) fn from_code(code: u8) -> Leave {
        Self::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(Leave::Unsubscribed)
    }
}

impl fmt::Display for Leave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What one cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Say {
    /// The member may be mailed, as far as this cell goes.
    Send,
    Leave(Leave),
    /// A value bulletin does not understand.
    Unclear,
}

/// How the values of a consent column are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Status words (subscribed, unsubscribed, blocklisted, …), plus what `yes`/`true`/`1`,
    /// `no`/`false`/`0`, a date (`2024-03-05 11:12`, `05/03/2024`) and an empty cell mean here.
    Cell {
        yes: Say,
        no: Say,
        dated: Say,
        blank: Say,
    },
    /// Any value (a date, a reason) means the member left; an empty cell says nothing.
    AnySet(Leave),
    /// The file is an export of members who left: every row is left out, whatever it says.
    EveryRow(Leave),
    /// `[lists] send_when`: these values (normalised) mean "send"; every other value is left out
    /// (for its own reason when it is a status word such as `unsubscribed`).
    SendWhen(Vec<String>),
}

/// A column of a list that says something about consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentColumn {
    pub index: usize,
    /// The header as written in the file.
    pub header: String,
    pub reading: Reading,
    /// What the column is, for the preflight: `listmonk status`, `Ghost subscribed_to_emails`, …
    pub what: &'static str,
}

/// The consent columns of one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentColumns {
    pub columns: Vec<ConsentColumn>,
    /// What kind of export the header looks like, when there is no consent column (Google
    /// Contacts, Outlook, Mailchimp's subscribed members).
    pub contacts_export: Option<&'static str>,
    /// Columns left unread because `[lists] not_consent` names them.
    pub ignored: Vec<String>,
}

/// What a project says about consent columns (`[lists]` in `bulletin.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// (normalised header, values meaning "send", normalised).
    send_when: Vec<(String, Vec<String>)>,
    /// Normalised headers that are not about consent.
    not_consent: Vec<String>,
}

impl Rules {
    /// `send_when`: (column, values that mean "send"); `not_consent`: columns that say nothing
    /// about consent. Headers and values are matched ignoring case, spaces, `-`, `_` and `.`.
    pub fn new<'a>(
        send_when: impl IntoIterator<Item = (&'a str, &'a [String])>,
        not_consent: impl IntoIterator<Item = &'a str>,
    ) -> Rules {
        Rules {
            send_when: send_when
                .into_iter()
                .map(|(column, values)| (key(column), values.iter().map(|v| key(v)).collect()))
                .collect(),
            not_consent: not_consent.into_iter().map(key).collect(),
        }
    }
}

/// A header or value normalised for matching: lower-case, without spaces, `-`, `_`, `.` and a
/// byte order mark.
pub fn key(text: &str) -> String {
    text.chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '_' | '.' | '\u{feff}')))
        .flat_map(char::to_lowercase)
        .collect()
}

const SEND: Say = Say::Send;
const UNCLEAR: Say = Say::Unclear;
const fn leave(l: Leave) -> Say {
    Say::Leave(l)
}

/// Status words: what platforms write in a status column, normalised by [`key`].
fn status_word(value: &str) -> Option<Say> {
    use Leave::*;
    Some(match value {
        // mailed
        "subscribed" | "subscribe" | "active" | "enabled" | "confirmed" | "optedin" | "optin"
        | "regular" | "premium" | "trialed" | "trialing" | "trial" | "unpaid" | "gifted"
        | "gift" | "churning" | "paused" | "pastdue" | "free" | "paid" | "comped" | "comp"
        | "complimentary" | "founding" | "cold" | "marketingcontact" => SEND,
        // left
        "unsubscribed" | "unsubscribe" | "unsub" | "optedout" | "optout" | "inactive"
        | "cancelled" | "canceled" | "removed" | "deleted" | "archived" | "nonsubscribed"
        | "notsubscribed" | "expired" | "left" => leave(Unsubscribed),
        "blocklisted" | "blacklisted" | "blocked" | "blocklist" | "blacklist" | "denylisted"
        | "spam" | "spammy" | "complained" | "complaint" | "markedasspam" | "abuse"
        | "suppressed" | "banned" => leave(Blocklisted),
        "unconfirmed"
        | "pending"
        | "unactivated"
        | "unverified"
        | "notconfirmed"
        | "awaitingconfirmation"
        | "pendingconfirmation"
        | "waitingforconfirmation"
        | "optinpending" => leave(Unconfirmed),
        "cleaned" | "junk" | "invalid" => leave(Cleaned),
        "bounced" | "hardbounced" | "hardbounce" | "softbounced" | "softbounce" | "bounce"
        | "undeliverable" | "held" => leave(Bounced),
        "disabled" | "emaildisabled" => leave(EmailDisabled),
        "nonmarketingcontact"
        | "nonmarketing"
        | "settononmarketingonnextupdate"
        | "settomarketingonnextupdate"
        | "transactional" => leave(NotMarketing),
        _ => return None,
    })
}

/// `2024-03-05`, `2024/03/05 11:12:13`, `05/03/2024`, `5.3.24 11:12`: a date, perhaps with a time.
fn looks_like_date(cell: &str) -> bool {
    let date = cell.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().any(|p| p.len() == 4 || p.len() == 2)
}

fn is_yes(value: &str) -> bool {
    matches!(value, "yes" | "y" | "true" | "t" | "1" | "on")
}

fn is_no(value: &str) -> bool {
    matches!(value, "no" | "n" | "false" | "f" | "0" | "off")
}

impl Reading {
    /// What a cell (trimmed) says.
    pub fn read(&self, cell: &str) -> Say {
        let value = key(cell);
        match self {
            Reading::Cell {
                yes,
                no,
                dated,
                blank,
            } => {
                if value.is_empty() {
                    *blank
                } else if is_yes(&value) {
                    *yes
                } else if is_no(&value) {
                    *no
                } else if looks_like_date(cell.trim()) {
                    *dated
                } else {
                    status_word(&value).unwrap_or(UNCLEAR)
                }
            }
            Reading::AnySet(l) if !value.is_empty() => leave(*l),
            Reading::AnySet(_) => SEND,
            Reading::EveryRow(l) => leave(*l),
            Reading::SendWhen(values) if values.contains(&value) => SEND,
            // not listed: a word that says why keeps its reason
            Reading::SendWhen(_) => match status_word(&value) {
                Some(Say::Leave(l)) => leave(l),
                _ => leave(Leave::NotSendWhen),
            },
        }
    }
}

/// A status column: words; yes/no say nothing clear; an empty cell says nothing.
const WORDS: Reading = Reading::Cell {
    yes: UNCLEAR,
    no: UNCLEAR,
    dated: UNCLEAR,
    blank: SEND,
};

/// A yes/no column that says the member opted in: `no` is `l`, an empty cell is unclear, a
/// date is when they did.
const fn opt_in(l: Leave) -> Reading {
    Reading::Cell {
        yes: SEND,
        no: leave(l),
        dated: SEND,
        blank: UNCLEAR,
    }
}

/// A yes/no column that says the member left: `yes` (or a date) is `l`, an empty cell says
/// nothing.
const fn opt_out(l: Leave) -> Reading {
    Reading::Cell {
        yes: leave(l),
        no: SEND,
        dated: leave(l),
        blank: SEND,
    }
}

/// Known consent headers, normalised by [`key`], as the platforms write them.
fn known(header: &str) -> Option<(Reading, &'static str)> {
    use Leave::*;
    Some(match header {
        "status" => (WORDS, "status"),
        "subscriptionstatus" | "emailsubscriptionstatus" | "subscriptionstate" => {
            (WORDS, "subscription status")
        }
        "memberstatus"
        | "subscriberstatus"
        | "subscriberstate"
        | "emailstatus"
        | "contactstatus"
        | "emailmarketingstatus" => (WORDS, "member status"),
        "subscribertype" => (WORDS, "Buttondown subscriber type"),
        "marketingcontactstatus" => (WORDS, "HubSpot marketing contact status"),
        "marketablestatus" | "hsmarketablestatus" => {
            (opt_in(NotMarketing), "HubSpot marketing contact status")
        }
        "subscribedtoemails" => (opt_in(Unsubscribed), "Ghost subscribed_to_emails"),
        "subscribed"
        | "optin"
        | "emailoptin"
        | "optedin"
        | "subscriber"
        | "emailconsent"
        | "consent"
        | "marketingconsent"
        | "acceptsemailmarketing"
        | "acceptsmarketing"
        | "emailmarketingconsent" => (opt_in(Unsubscribed), "yes/no opt-in"),
        "confirmed" | "doubleoptin" | "doubleoptinconfirmed" => {
            (opt_in(Unconfirmed), "yes/no confirmed")
        }
        "emaildisabled" => (opt_out(EmailDisabled), "Substack email_disabled"),
        "emailblacklisted" | "blacklisted" | "emailblocklisted" | "blocklisted" => {
            (opt_out(Blocklisted), "Brevo blocklist")
        }
        "unsubscribedfromallemail" | "optedoutofallemail" => {
            (opt_out(Unsubscribed), "HubSpot unsubscribed from all email")
        }
        "unsubscribed" | "optedout" | "optout" | "emailoptout" | "hasoptedoutofemail"
        | "donotemail" | "donotmail" | "globalunsubscribe" => {
            (opt_out(Unsubscribed), "yes/no opt-out")
        }
        "bounced" | "hardbounced" | "emailbounced" => (opt_out(Bounced), "yes/no bounced"),
        "complaint" | "complained" | "markedasspam" | "spam" | "spamcomplaint" => {
            (opt_out(Blocklisted), "yes/no spam complaint")
        }
        "unsubtime" | "unsubcampaigntitle" | "unsubcampaignid" | "unsubreason"
        | "unsubreasonother" => (
            Reading::EveryRow(Unsubscribed),
            "Mailchimp unsubscribed export: every row is left out",
        ),
        "cleantime" | "cleancampaigntitle" | "cleancampaignid" => (
            Reading::EveryRow(Cleaned),
            "Mailchimp cleaned export: every row is left out",
        ),
        "unsubscribedat" | "unsubscribeddate" | "unsubscribedon" | "unsubscribetime"
        | "unsubscribedtime" | "optedoutat" | "optoutdate" | "cancelledat" | "canceledat" => {
            (Reading::AnySet(Unsubscribed), "date of unsubscribing")
        }
        "blocklistedat" | "blacklistedat" | "complainedat" => {
            (Reading::AnySet(Blocklisted), "date of blocklisting")
        }
        "bouncedat" | "bounceddate" | "emailhardbouncereason" | "hardbouncereason" => {
            (Reading::AnySet(Bounced), "bounce date or reason")
        }
        "cleanedat" => (Reading::AnySet(Cleaned), "date of cleaning"),
        h if h.starts_with("optedoutofemail") => (
            opt_out(Unsubscribed),
            "HubSpot opted out of an email subscription",
        ),
        _ => return None,
    })
}

/// Headers that name something else than email consent, though their words look like it.
fn surely_not_consent(header: &str) -> bool {
    const OTHER: &[&str] = &[
        "leadstatus",
        "activesubscription",
        "paymentstatus",
        "orderstatus",
        "billingstatus",
        "dealstatus",
        "taskstatus",
        "maritalstatus",
        "taxstatus",
        "employmentstatus",
        "relationshipstatus",
        "subscriptiontype",
        "subscriptionplan",
        "subscriptioninterval",
        "subscriptionsource",
        "subscriptionexpires",
        "subscriptionexpiry",
    ];
    const SUFFIXES: &[&str] = &[
        "at",
        "time",
        "date",
        "ip",
        "id",
        "source",
        "title",
        "count",
        "rating",
        "reason",
        "plan",
        "interval",
        "expiry",
        "expires",
        "url",
        "type",
        "by",
        "timestamp",
        "edon",
    ];
    OTHER.contains(&header)
        || SUFFIXES.iter().any(|s| header.ends_with(s))
        || ["sms", "whatsapp", "phone", "mobile", "push", "postal"]
            .iter()
            .any(|other| header.contains(other))
}

/// A header that is not known but speaks of consent: read it as status words, with `yes`/`no`
/// by what the header says. `None` when it does not look like consent.
fn looks_like_consent(header: &str) -> Option<Reading> {
    use Leave::*;
    if surely_not_consent(header) {
        return None;
    }
    let negative: &[(&str, Leave)] = &[
        ("unsub", Unsubscribed),
        ("optout", Unsubscribed),
        ("optedout", Unsubscribed),
        ("donot", Unsubscribed),
        ("blacklist", Blocklisted),
        ("blocklist", Blocklisted),
        ("suppress", Blocklisted),
        ("spam", Blocklisted),
        ("complain", Blocklisted),
        ("bounce", Bounced),
    ];
    if let Some((_, l)) = negative.iter().find(|(w, _)| header.contains(w)) {
        return Some(opt_out(*l));
    }
    let positive = [
        "optin",
        "optedin",
        "consent",
        "subscri",
        "permission",
        "marketable",
    ];
    if positive.iter().any(|w| header.contains(w)) {
        return Some(opt_in(Unsubscribed));
    }
    header.contains("status").then_some(WORDS)
}

/// What an export without a consent column is, by its headers, and what that means: Google
/// Contacts, Outlook contacts, Mailchimp's export of subscribed members.
fn export_without_consent(keys: &[String]) -> Option<&'static str> {
    let has = |k: &str| keys.iter().any(|h| h == k);
    if has("email1value") || has("email1type") || has("email1label") {
        Some("a Google Contacts export: everyone in it is a contact")
    } else if has("emaildisplayname") || has("email2address") || has("emailtype") {
        Some("an Outlook contacts export: everyone in it is a contact")
    } else if has("memberrating") && (has("optintime") || has("leid")) {
        Some("a Mailchimp export of subscribed members")
    } else {
        None
    }
}

impl ConsentColumns {
    /// The consent columns among `headers` (as written), the address column left out.
    pub fn find(headers: &[String], email_column: usize, rules: &Rules) -> ConsentColumns {
        let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
        let mut found = ConsentColumns::default();
        let mut every_row = Vec::new();
        for (index, (header, k)) in headers.iter().zip(&keys).enumerate() {
            if index == email_column || k.is_empty() {
                continue;
            }
            if let Some((_, values)) = rules.send_when.iter().find(|(c, _)| c == k) {
                found.columns.push(ConsentColumn {
                    index,
                    header: header.clone(),
                    reading: Reading::SendWhen(values.clone()),
                    what: "[lists] send_when",
                });
                continue;
            }
            let reading =
                known(k).or_else(|| looks_like_consent(k).map(|r| (r, "looks like consent")));
            let Some((reading, what)) = reading else {
                continue;
            };
            if rules.not_consent.contains(k) {
                found.ignored.push(header.clone());
                continue;
            }
            // one column is enough to mark a whole file
            if let Reading::EveryRow(l) = reading {
                if every_row.contains(&l) {
                    continue;
                }
                every_row.push(l);
            }
            found.columns.push(ConsentColumn {
                index,
                header: header.clone(),
                reading,
                what,
            });
        }
        if found.columns.is_empty() {
            found.contacts_export = export_without_consent(&keys);
        }
        found
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// What the row says, the most restrictive cell winning: the first column that says
    /// leave, else the first unclear one, else send. `field(i)` is the trimmed cell of column
    /// `i` of the file; `unclear(n, cell)` hears of every unclear cell (`n` indexes
    /// [`columns`](Self::columns)).
    pub fn read<'r>(
        &self,
        field: impl Fn(usize) -> &'r str,
        mut unclear: impl FnMut(usize, &'r str),
    ) -> RowSays<'_> {
        let mut says = RowSays::Send;
        for (n, c) in self.columns.iter().enumerate() {
            let cell = field(c.index);
            match c.reading.read(cell) {
                Say::Send => {}
                Say::Leave(l) => {
                    if !matches!(says, RowSays::Leave(..)) {
                        says = RowSays::Leave(l, c);
                    }
                }
                Say::Unclear => {
                    unclear(n, cell);
                    if says == RowSays::Send {
                        says = RowSays::Unclear(c);
                    }
                }
            }
        }
        says
    }

    /// One line for the preflight: which columns were read as consent, and how.
    pub fn describe(&self) -> String {
        if self.columns.is_empty() {
            let what = match self.contacts_export {
                Some(export) => format!(" ({export})"),
                None => String::new(),
            };
            return format!(
                "no consent or status column{what}: every valid address is mailed, unless suppressed"
            );
        }
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{:?} ({})", c.header, c.what))
            .collect();
        parts.dedup();
        let mut s = format!("read from {}", parts.join(", "));
        if !self.ignored.is_empty() {
            s.push_str(&format!(
                "; not read ([lists] not_consent): {}",
                self.ignored
                    .iter()
                    .map(|h| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        s
    }
}

/// The values of one consent column that bulletin does not understand: each with how many rows
/// hold it and the first of them. At most [`UnclearValues::MAX_DISTINCT`] values are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnclearValues {
    pub column: String,
    pub values: Vec<UnclearValue>,
    /// Rows holding further distinct values, not kept.
    pub more_rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnclearValue {
    pub value: String,
    pub rows: u64,
    pub first_line: u64,
}

impl UnclearValues {
    pub const MAX_DISTINCT: usize = 20;

    pub fn new(column: &str) -> Self {
        UnclearValues {
            column: column.to_string(),
            ..Self::default()
        }
    }

    pub fn add(&mut self, value: &str, line: u64) {
        if let Some(v) = self.values.iter_mut().find(|v| v.value == value) {
            v.rows += 1;
        } else if self.values.len() < Self::MAX_DISTINCT {
            self.values.push(UnclearValue {
                value: value.to_string(),
                rows: 1,
                first_line: line,
            });
        } else {
            self.more_rows += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.more_rows == 0
    }
}

/// What one row says about consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowSays<'c> {
    Send,
    Leave(Leave, &'c ConsentColumn),
    Unclear(&'c ConsentColumn),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(header: &str) -> ConsentColumns {
        columns_with(header, &Rules::default())
    }

    fn columns_with(header: &str, rules: &Rules) -> ConsentColumns {
        let headers: Vec<String> = header.split(',').map(str::to_string).collect();
        let email = headers
            .iter()
            .position(|h| key(h).contains("email") && !key(h).contains("disabled"))
            .unwrap_or(usize::MAX);
        ConsentColumns::find(&headers, email, rules)
    }

    /// What the single consent column of `header` says of `value`.
    fn says(header: &str, value: &str) -> Say {
        let c = columns(&format!("email,{header}"));
        assert_eq!(c.columns.len(), 1, "{header}: {c:?}");
        c.columns[0].reading.read(value)
    }

    use Leave::*;

    #[test]
    fn status_words_of_the_platforms() {
        // listmonk
        assert_eq!(says("status", "enabled"), Say::Send);
        assert_eq!(says("status", "blocklisted"), Say::Leave(Blocklisted));
        assert_eq!(says("status", "disabled"), Say::Leave(EmailDisabled));
        assert_eq!(
            says("subscription_status", "unconfirmed"),
            Say::Leave(Unconfirmed)
        );
        assert_eq!(says("subscription_status", "Confirmed"), Say::Send);
        assert_eq!(
            says("subscription_status", "unsubscribed"),
            Say::Leave(Unsubscribed)
        );
        // Buttondown
        for send in [
            "regular", "premium", "trialed", "unpaid", "gifted", "churning", "paused", "past_due",
        ] {
            assert_eq!(says("subscriber_type", send), Say::Send, "{send}");
        }
        assert_eq!(
            says("subscriber_type", "unactivated"),
            Say::Leave(Unconfirmed)
        );
        assert_eq!(
            says("subscriber_type", "unsubscribed"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(says("subscriber_type", "spammy"), Say::Leave(Blocklisted));
        assert_eq!(says("subscriber_type", "removed"), Say::Leave(Unsubscribed));
        // MailerLite, Kit, Sendy
        assert_eq!(says("Status", "Junk"), Say::Leave(Cleaned));
        assert_eq!(says("Status", "INACTIVE"), Say::Leave(Unsubscribed));
        assert_eq!(says("Status", "Marked as spam"), Say::Leave(Blocklisted));
        assert_eq!(says("Status", "Soft bounced"), Say::Leave(Bounced));
        // HubSpot
        assert_eq!(
            says("Marketing contact status", "Marketing contact"),
            Say::Send
        );
        assert_eq!(
            says("Marketing contact status", "Non-marketing contact"),
            Say::Leave(NotMarketing)
        );
        // blank says nothing; a word bulletin does not know is unclear
        assert_eq!(says("status", ""), Say::Send);
        assert_eq!(says("status", "board"), Say::Unclear);
        assert_eq!(says("status", "yes"), Say::Unclear);
    }

    #[test]
    fn true_false_columns_by_their_polarity() {
        assert_eq!(
            says("subscribed_to_emails", "false"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(says("subscribed_to_emails", "TRUE"), Say::Send);
        assert_eq!(says("subscribed_to_emails", ""), Say::Unclear);
        assert_eq!(says("email_disabled", "true"), Say::Leave(EmailDisabled));
        assert_eq!(says("email_disabled", "false"), Say::Send);
        assert_eq!(says("email_disabled", ""), Say::Send);
        assert_eq!(says("EMAIL_BLACKLISTED", "Yes"), Say::Leave(Blocklisted));
        assert_eq!(says("EMAIL_BLACKLISTED", "No"), Say::Send);
        assert_eq!(
            says("Unsubscribed from all email", "true"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(
            says("Opted out of email: Weekly News", "true"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(says("subscribed", "no"), Say::Leave(Unsubscribed));
        assert_eq!(says("subscribed", "maybe"), Say::Unclear);
        // a date in a yes/no column: when it happened
        assert_eq!(
            says("Unsubscribed", "2024-03-01 09:00:00"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(says("Subscribed", "05/03/2024"), Say::Send);
        assert_eq!(says("status", "2024-03-01"), Say::Unclear);
        assert_eq!(says("Unsubscribed", "12"), Say::Unclear);
    }

    #[test]
    fn mailchimp_exports_of_members_who_left_mark_every_row() {
        let c = columns(
            "Email Address,First Name,MEMBER_RATING,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_REASON",
        );
        assert_eq!(c.columns.len(), 1);
        assert_eq!(c.columns[0].header, "UNSUB_TIME");
        assert_eq!(c.columns[0].reading.read(""), Say::Leave(Unsubscribed));
        let c = columns("Email Address,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE");
        assert_eq!(c.columns[0].reading.read("2024-01-01"), Say::Leave(Cleaned));
        // the subscribed export: no consent column
        let c =
            columns("Email Address,First Name,MEMBER_RATING,OPTIN_TIME,CONFIRM_TIME,LAST_CHANGED");
        assert!(c.is_empty(), "{c:?}");
        assert!(
            c.describe()
                .contains("a Mailchimp export of subscribed members")
        );
    }

    #[test]
    fn dates_and_other_columns_that_only_look_like_consent() {
        assert_eq!(
            says("unsubscribed_at", "2024-05-01"),
            Say::Leave(Unsubscribed)
        );
        assert_eq!(says("unsubscribed_at", ""), Say::Send);
        assert_eq!(
            says("Email hard bounce reason", "BOUNCED"),
            Say::Leave(Bounced)
        );
        for other in [
            "subscribed_at",
            "Subscription date",
            "OPTIN_TIME",
            "CONFIRM_IP",
            "active_subscription",
            "Lead Status",
            "SMS_BLACKLISTED",
            "subscription_source",
            "Subscription type",
            "State",
        ] {
            assert!(columns(&format!("email,{other}")).is_empty(), "{other}");
        }
        // an unknown header that speaks of consent is read, and fails closed
        assert_eq!(says("Newsletter opt-in", "yes"), Say::Send);
        assert_eq!(says("Newsletter opt-in", "no"), Say::Leave(Unsubscribed));
        assert_eq!(says("Newsletter opt-in", "sometimes"), Say::Unclear);
        assert_eq!(says("GDPR consent", ""), Say::Unclear);
        assert_eq!(says("Newsletter status", "board"), Say::Unclear);
        assert_eq!(says("is_suppressed", "1"), Say::Leave(Blocklisted));
    }

    #[test]
    fn send_when_and_not_consent_override() {
        let values = vec!["member".to_string(), "Board".to_string()];
        let rules = Rules::new([("status", values.as_slice())], ["Lead Status"]);
        let c = columns_with("email,Status,Lead Status,Newsletter status", &rules);
        assert_eq!(c.columns.len(), 2);
        let r = &c.columns[0].reading;
        assert_eq!(r.read("Member"), Say::Send);
        assert_eq!(r.read("board"), Say::Send);
        assert_eq!(r.read("resigned"), Say::Leave(NotSendWhen));
        assert_eq!(r.read("active"), Say::Leave(NotSendWhen));
        assert_eq!(r.read("Unsubscribed"), Say::Leave(Unsubscribed));
        assert_eq!(r.read(""), Say::Leave(NotSendWhen));
        let rules = Rules::new([], ["Newsletter status"]);
        let c = columns_with("email,Newsletter status", &rules);
        assert!(c.is_empty());
        assert_eq!(c.ignored, ["Newsletter status"]);
    }

    #[test]
    fn the_most_restrictive_cell_of_a_row_wins() {
        let c = columns("email,subscribed_to_emails,status,email_disabled");
        let row = ["x@example.org", "true", "enabled", "true"];
        assert!(matches!(
            c.read(|i| row[i], |_, _| {}),
            RowSays::Leave(EmailDisabled, _)
        ));
        let row = ["x@example.org", "", "blocklisted", "false"];
        assert!(matches!(
            c.read(|i| row[i], |_, _| {}),
            RowSays::Leave(Blocklisted, _)
        ));
        let row = ["x@example.org", "", "enabled", "false"];
        assert!(
            matches!(c.read(|i| row[i], |_, _| {}), RowSays::Unclear(col) if col.header == "subscribed_to_emails")
        );
        let row = ["x@example.org", "true", "enabled", ""];
        assert_eq!(c.read(|i| row[i], |_, _| {}), RowSays::Send);
    }

    #[test]
    fn contacts_exports_are_named() {
        let c = columns("Name,Given Name,E-mail 1 - Type,E-mail 1 - Value");
        assert_eq!(
            c.contacts_export,
            Some("a Google Contacts export: everyone in it is a contact")
        );
        assert!(c.describe().contains("Google Contacts"));
        let c = columns("First Name,Last Name,E-mail Address,E-mail Type,E-mail Display Name");
        assert_eq!(
            c.contacts_export,
            Some("an Outlook contacts export: everyone in it is a contact")
        );
    }

    #[test]
    fn leave_codes_round_trip() {
        for l in Leave::ALL {
            assert_eq!(Leave::from_code(l.code()), l);
        }
    }
}
