//! The alignment check (RFC 7489 §3.1): DMARC passes only when DKIM's `d=` or the envelope
//! (bounce) domain aligns with the From domain, and that mechanism passes.

use super::dmarc_record::DmarcRecord;
use super::org_domain::{Mode, aligned};
use super::report::{Check, Status};
use super::sender::Sender;
use super::spf_check::SpfOutcome;

/// `dkim`: how the DKIM check came out; `spf`: how the SPF check came out.
pub fn check(sender: &Sender, dmarc: Option<&DmarcRecord>, dkim: Status, spf: SpfOutcome) -> Check {
    let dkim_ok = matches!(dkim, Status::Pass | Status::Warn);
    let from = &sender.from_domain;
    let (adkim, aspf) = dmarc.map_or((Mode::Relaxed, Mode::Relaxed), |d| (d.adkim, d.aspf));
    let dkim_domain = sender.dkim_domain();
    let dkim_aligned = dkim_domain
        .as_deref()
        .is_some_and(|d| aligned(d, from, adkim));
    let spf_aligned = aligned(&sender.bounce_domain, from, aspf);

    let dkim_line = match &dkim_domain {
        None => "DKIM: messages are not signed".to_string(),
        Some(d) => format!(
            "DKIM: d={d} {} From {from} ({}){}",
            if dkim_aligned {
                "aligns with"
            } else {
                "does not align with"
            },
            adkim.name(),
            match (dkim_aligned, dkim) {
                (true, Status::Unknown) =>
                    ", but whether the key record verifies is unknown (see dkim)",
                (true, Status::Fail) => ", but the key record does not verify (see dkim)",
                _ => "",
            }
        ),
    };
    let spf_line = format!(
        "SPF: the bounce domain {} {} From {from} ({}){}",
        sender.bounce_domain,
        if spf_aligned {
            "aligns with"
        } else {
            "does not align with"
        },
        aspf.name(),
        match (spf_aligned, spf) {
            (true, SpfOutcome::Broken) => ", but SPF does not pass (see spf)",
            (true, SpfOutcome::Unknown) => ", but whether SPF passes is unknown (see spf)",
            (true, SpfOutcome::Valid) =>
                ", if the relay's outbound address passes SPF (not knowable from here)",
            _ => "",
        }
    );
    let (status, summary) = if dkim_aligned && dkim_ok {
        (
            Status::Pass,
            "DMARC would pass through an aligned DKIM signature".to_string(),
        )
    } else if spf_aligned && spf == SpfOutcome::Covers {
        (
            Status::Pass,
            "DMARC would pass through aligned SPF only: mail forwarded by members' own \
             addresses fails it; an aligned DKIM signature survives forwarding"
                .to_string(),
        )
    } else if (dkim_aligned && dkim == Status::Unknown)
        || (spf_aligned && spf == SpfOutcome::Unknown)
    {
        (
            Status::Unknown,
            "whether DMARC would pass is unknown: the DNS did not answer".to_string(),
        )
    } else if spf_aligned && spf == SpfOutcome::Valid {
        (
            Status::Warn,
            "DMARC would pass only through SPF, if the relay's outbound address is covered"
                .to_string(),
        )
    } else {
        (
            Status::Fail,
            if dkim_aligned || spf_aligned {
                format!(
                    "DMARC would fail for the From domain {from}: what aligns with it does not pass"
                )
            } else {
                format!("neither DKIM nor SPF would align with the From domain {from}: DMARC fails")
            },
        )
    };
    let mut c = Check::new("alignment", status, summary)
        .detail(dkim_line)
        .detail(spf_line);
    if status == Status::Fail {
        let dkim_fix = match (&dkim_domain, dkim_aligned) {
            (None, _) => {
                format!("sign the messages: set [dkim] with domain = \"{from}\" (see dkim)")
            }
            (Some(_), false) => format!(
                "sign with [dkim] domain = \"{from}\" (or a domain of the same organisation in \
                 relaxed mode), or send From an address at the signing domain"
            ),
            (Some(_), true) => "publish the DKIM key record that matches the key (see dkim)".into(),
        };
        let spf_fix = if spf_aligned {
            "make SPF pass for the relay (see spf)".to_string()
        } else {
            format!("use a bounce address at {from} ([sender] bounce_address) that SPF covers")
        };
        c = c.fix(format!("{dkim_fix}; or {spf_fix}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;

    fn sender(toml: &str) -> Sender {
        let config = Config::parse(Path::new("bulletin.toml"), toml).unwrap();
        Sender::from_config(&config, Path::new("."), None).unwrap()
    }

    #[test]
    fn unsigned_mail_with_failing_spf_fails_and_says_both_fixes() {
        let s = sender("[sender]\nemail = \"news@cluster.test\"\n");
        let c = check(&s, None, Status::Fail, SpfOutcome::Broken);
        assert_eq!(c.status, Status::Fail);
        assert_eq!(
            c.summary,
            "DMARC would fail for the From domain cluster.test: what aligns with it does not pass"
        );
        assert_eq!(
            c.fix.as_deref(),
            Some(
                "sign the messages: set [dkim] with domain = \"cluster.test\" (see dkim); \
                 or make SPF pass for the relay (see spf)"
            )
        );
    }

    #[test]
    fn spf_alone_covering_the_relay_passes_and_unknowns_stay_unknown() {
        let s = sender(
            "[sender]\nemail = \"news@news.cluster.test\"\nbounce_address = \"b@cluster.test\"\n",
        );
        assert_eq!(
            check(&s, None, Status::Fail, SpfOutcome::Covers).status,
            Status::Pass
        );
        assert_eq!(
            check(&s, None, Status::Fail, SpfOutcome::Unknown).status,
            Status::Unknown
        );
        assert_eq!(
            check(&s, None, Status::Fail, SpfOutcome::Valid).status,
            Status::Warn
        );
    }
}
