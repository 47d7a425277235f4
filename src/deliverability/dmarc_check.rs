//! The DMARC check: the From domain (or its organisational domain) publishes one valid DMARC
//! record; its policy is reported.

use super::dmarc_record::{DmarcRecord, Found, discover, parse};
use super::report::{Check, Publish, Status};
use super::resolver::Dns;
use super::sender::Sender;

pub async fn check(dns: &Dns, sender: &Sender) -> (Check, Option<DmarcRecord>) {
    let from = &sender.from_domain;
    let starter = Publish::txt(
        format!("_dmarc.{from}"),
        format!(
            "v=DMARC1; p=none; rua=mailto:{}",
            sender.from_address.to_ascii_lowercase()
        ),
    );
    let starter_note = "p=none asks for reports and changes no delivery; once the reports show \
                        all your mail passing, move to p=quarantine, then p=reject";
    let found = match discover(dns, from).await {
        Ok(f) => f,
        Err(e) => {
            let c = Check::new("dmarc", Status::Unknown, format!("TXT _dmarc.{from}: {e}"));
            return (c, None);
        }
    };
    let (at, text) = match found {
        Found::Nothing { asked } => {
            let c = Check::new(
                "dmarc",
                Status::Fail,
                format!(
                    "no DMARC record for {from} (asked {}); Gmail and Yahoo require one of bulk senders",
                    asked.join(" and ")
                ),
            )
            .detail(starter_note)
            .publish(starter);
            return (c, None);
        }
        Found::Several { at, texts } => {
            let mut c = Check::new(
                "dmarc",
                Status::Fail,
                format!(
                    "{at} has {} DMARC records; receivers then apply none (RFC 7489 §6.6.3): keep one",
                    texts.len()
                ),
            );
            for t in &texts {
                c = c.detail(format!("record: {t}"));
            }
            return (c.publish(starter), None);
        }
        Found::One { at, text } => (at, text),
    };
    let record = match parse(&at, &text) {
        Ok(r) => r,
        Err(e) => {
            let c = Check::new(
                "dmarc",
                Status::Fail,
                format!("the DMARC record at {at} does not parse: {e}"),
            )
            .detail(format!("record: {text}"))
            .publish(starter);
            return (c, None);
        }
    };
    let policy = record.policy_for(from).to_string();
    let mut c = Check::new(
        "dmarc",
        Status::Pass,
        format!("{at} publishes DMARC with policy p={policy}"),
    )
    .detail(format!("record: {text}"))
    .detail(format!(
        "alignment asked: DKIM {}, SPF {}",
        record.adkim.name(),
        record.aspf.name()
    ));
    if at != format!("_dmarc.{from}") {
        c = c.detail(format!(
            "found at the organisational domain: {from} has no record of its own"
        ));
    }
    match policy.as_str() {
        "none" => {
            c = c.detail(
                "p=none: failing mail is delivered as usual; it is monitoring only. Move to \
             p=quarantine once the reports show all your mail passing",
            )
        }
        _ if record.pct < 100 => {
            c = c.detail(format!(
                "pct={}: the policy applies to that share of failing mail",
                record.pct
            ));
        }
        _ => {}
    }
    if record.rua.is_empty() {
        c = c.detail("no rua=: nobody receives the aggregate reports that show what fails");
    }
    (c, Some(record))
}
