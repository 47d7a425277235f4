//! The MX check: the bounce domain receives mail, so bounces and reports can come back (an MX
//! record, else an address record as the implicit MX of RFC 5321 §5.1; a null MX, RFC 7505,
//! refuses all mail).

use super::report::{Check, Status};
use super::resolver::{Dns, LookupError};
use super::sender::Sender;

pub async fn check(dns: &Dns, sender: &Sender) -> Check {
    let domain = &sender.bounce_domain;
    let fix = format!(
        "publish an MX record for {domain} naming the server that receives its mail \
         (`{domain}. IN MX 10 mail.{domain}.`), or set [sender] bounce_address to an address \
         at a domain that receives mail"
    );
    match dns.mx(domain).await {
        Ok(hosts) => {
            if hosts.len() == 1 && hosts[0].1.is_empty() {
                return Check::new(
                    "mx",
                    Status::Fail,
                    format!(
                        "{domain} (the bounce domain) publishes a null MX: it accepts no mail (RFC 7505), so bounces are lost"
                    ),
                )
                .fix(fix);
            }
            let mut details = Vec::new();
            let mut reachable = false;
            let mut unknown = None;
            for (pref, host) in &hosts {
                match dns.all_addresses(host).await {
                    Ok(a) => {
                        reachable = true;
                        let list: Vec<String> = a.iter().map(ToString::to_string).collect();
                        details.push(format!("MX {pref} {host} ({})", list.join(", ")));
                    }
                    Err(e) => {
                        if !e.is_absent() {
                            unknown = Some(e.clone());
                        }
                        details.push(format!("MX {pref} {host}: {e}"));
                    }
                }
            }
            let mut c = if reachable {
                Check::new(
                    "mx",
                    Status::Pass,
                    format!("{domain} (the bounce domain) receives mail"),
                )
            } else if let Some(e) = unknown {
                Check::new(
                    "mx",
                    Status::Unknown,
                    format!("the MX hosts of {domain} could not be resolved: {e}"),
                )
            } else {
                Check::new(
                    "mx",
                    Status::Fail,
                    format!("no MX host of {domain} (the bounce domain) has an address"),
                )
                .fix(fix)
            };
            c.details = details;
            c
        }
        Err(LookupError::NxDomain) => Check::new(
            "mx",
            Status::Fail,
            format!("{domain} (the bounce domain) does not exist (NXDOMAIN): bounces cannot come back"),
        )
        .fix(fix),
        Err(LookupError::NoData(_)) => match dns.all_addresses(domain).await {
            Ok(a) => {
                let list: Vec<String> = a.iter().map(ToString::to_string).collect();
                Check::new(
                    "mx",
                    Status::Pass,
                    format!(
                        "{domain} (the bounce domain) has no MX record; mail goes to its address ({}) (RFC 5321 §5.1)",
                        list.join(", ")
                    ),
                )
                .detail("an MX record is the usual way; some senders do not fall back to the address")
            }
            Err(e) if e.is_absent() => Check::new(
                "mx",
                Status::Fail,
                format!(
                    "{domain} (the bounce domain) has no MX and no A/AAAA record: bounces and reports cannot come back"
                ),
            )
            .fix(fix),
            Err(e) => Check::new(
                "mx",
                Status::Unknown,
                format!("A/AAAA {domain}: {e}"),
            ),
        },
        Err(e) => Check::new("mx", Status::Unknown, format!("MX {domain}: {e}")),
    }
}
