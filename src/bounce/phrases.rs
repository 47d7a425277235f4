//! What mail systems say, reason by reason: the words of Postfix, Exim, Sendmail, qmail,
//! Courier, Exchange and Office 365, Gmail and Google Workspace, Yahoo, Outlook.com, Amazon SES,
//! Domino, Zoho, GMX, mail.ru, the French, Japanese and Chinese providers and the filtering
//! gateways, as their documentation and their bounces word them.
//!
//! Each phrase is lower-case; `*` stands for one word (a run of characters without spaces),
//! e.g. `mailbox * does not exist` for "Mailbox alice@example.org does not exist".

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::classify::Reason;

/// Does `text` (lower-case) hold `pattern`?
pub fn matches(text: &str, pattern: &str) -> bool {
    if !pattern.contains('*') {
        return text.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let first = parts[0];
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|t| t.find(first)) {
        let start = from + pos;
        if rest_matches(&text[start + first.len()..], &parts[1..]) {
            return true;
        }
        from = start + first.len().max(1);
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
        if from >= text.len() {
            break;
        }
    }
    false
}

/// After a `*`: one word, then the next literal part, and so on.
fn rest_matches(text: &str, parts: &[&str]) -> bool {
    let Some((next, rest)) = parts.split_first() else {
        return true;
    };
    let word_end = text.find(char::is_whitespace).unwrap_or(text.len());
    // The word may end anywhere inside the run (`<a@b>...` followed by `...`), but is never
    // empty and never crosses a space.
    let mut end = 1;
    while end <= word_end {
        if text.is_char_boundary(end)
            && text[end..].starts_with(next)
            && rest_matches(&text[end + next.len()..], rest)
        {
            return true;
        }
        end += 1;
    }
    false
}

/// Does `text` hold any phrase of `reason`?
pub fn says(reason: Reason, text: &str) -> bool {
    // One classification asks this of the same text for reason after reason: the text is read
    // once for every reason's phrases, and the answer kept until another text is asked about.
    thread_local! {
        static LAST: std::cell::RefCell<(String, u64)> = const {
            std::cell::RefCell::new((String::new(), 0))
        };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        // (It starts as the empty text, of which no reason is said.)
        if last.0 != text {
            last.0.clear();
            last.0.push_str(text);
            last.1 = reasons_said(text);
        }
        last.1 & bit(reason) != 0
    })
}

fn bit(reason: Reason) -> u64 {
    1 << (reason as u32)
}

/// Every reason whose phrases `text` holds, as bits: one pass over the text for the literal
/// phrases of every reason and the first words of the phrases with a `*`; a phrase with a `*`
/// is then matched whole only when its first words are there.
fn reasons_said(text: &str) -> u64 {
    struct All {
        ac: AhoCorasick,
        /// For each pattern of `ac`: its reason, and the whole phrase when it has a `*`.
        entries: Vec<(Reason, Option<&'static str>)>,
    }
    static ALL: LazyLock<All> = LazyLock::new(|| {
        let mut patterns = Vec::new();
        let mut entries = Vec::new();
        for &reason in Reason::ALL {
            for &p in phrases(reason) {
                let first = p.split('*').next().unwrap_or(p);
                patterns.push(first);
                entries.push((reason, p.contains('*').then_some(p)));
            }
        }
        All {
            ac: build(patterns),
            entries,
        }
    });
    let all = &*ALL;
    let mut said = 0;
    for m in all.ac.find_overlapping_iter(text) {
        let (reason, wild) = all.entries[m.pattern().as_usize()];
        if said & bit(reason) == 0 && wild.is_none_or(|p| matches(text, p)) {
            said |= bit(reason);
        }
    }
    said
}

/// The index in `patterns` of every literal pattern `text` holds, found in one pass over the
/// text however many patterns there are, with where each match starts.
pub fn found<'t, T: 'static>(
    table: &'static [(&'static str, T)],
    text: &'t str,
) -> impl Iterator<Item = (usize, usize)> + 't {
    automaton(table, table.iter().map(|(p, _)| *p))
        .find_overlapping_iter(text)
        .map(|m| (m.pattern().as_usize(), m.start()))
}

/// Does `text` hold any of the literal `phrases`?
pub fn holds_any(phrases: &'static [&'static str], text: &str) -> bool {
    automaton(phrases, phrases.iter().copied()).is_match(text)
}

/// The Aho–Corasick automaton of a table's literal patterns, built on first use and kept for
/// the life of the process (the tables are static), keyed by the table's address.
fn automaton<T: 'static>(
    table: &'static [T],
    patterns: impl Iterator<Item = &'static str>,
) -> &'static AhoCorasick {
    type Key = (usize, usize, TypeId);
    static BUILT: LazyLock<RwLock<HashMap<Key, &'static AhoCorasick>>> =
        LazyLock::new(Default::default);
    let key = (table.as_ptr() as usize, table.len(), TypeId::of::<T>());
    if let Some(ac) = BUILT.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return ac;
    }
    let mut built = BUILT.write().unwrap_or_else(|e| e.into_inner());
    built
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(build(patterns))))
}

/// A contiguous NFA: quick to build, and the texts searched are short.
fn build<'p>(patterns: impl IntoIterator<Item = &'p str>) -> AhoCorasick {
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        // Patterns are a few hundred plain words; building cannot fail for them.
        .unwrap_or_else(|e| unreachable!("a phrase table does not build: {e}"))
}

/// Words that mean "rejected" only when they answer the sender (MAIL FROM), and so are not read
/// as a refusal of the sender when they speak of the recipient.
const NOT_REJECTED: &[&str] = &[
    "5.1.0 address rejected",
    "recipient address rejected",
    "sender ip address rejected",
];

/// Does `text` say the sender was refused?
pub fn says_rejected(text: &str) -> bool {
    !NOT_REJECTED.iter().any(|p| text.contains(p)) && says(Reason::Rejected, text)
}

/// The phrases of one reason.
pub fn phrases(reason: Reason) -> &'static [&'static str] {
    use Reason::*;
    match reason {
        UserUnknown => USER_UNKNOWN,
        HostUnknown => HOST_UNKNOWN,
        HasMoved => HAS_MOVED,
        MailboxFull => MAILBOX_FULL,
        MesgTooBig => MESG_TOO_BIG,
        ExceedLimit => EXCEED_LIMIT,
        Suspend => SUSPEND,
        Filtered => FILTERED,
        Rejected => REJECTED,
        Blocked => BLOCKED,
        SpamDetected => SPAM_DETECTED,
        VirusDetected => VIRUS_DETECTED,
        PolicyViolation => POLICY_VIOLATION,
        SecurityError => SECURITY_ERROR,
        NoRelaying => NO_RELAYING,
        Expired => EXPIRED,
        NetworkError => NETWORK_ERROR,
        SystemError => SYSTEM_ERROR,
        SystemFull => SYSTEM_FULL,
        TooManyConn => TOO_MANY_CONN,
        MailerError => MAILER_ERROR,
        ContentError => CONTENT_ERROR,
        NotAccept => NOT_ACCEPT,
        Vacation => VACATION,
        SyntaxError | OnHold | Feedback | Undefined => &[],
    }
}

/// The mailbox does not exist (Postfix `User unknown in local recipient table`, Exim
/// `Unrouteable address`-less `unknown user`, qmail `no mailbox here by that name`, Exchange
/// `RESOLVER.ADR.RecipNotFound`, Gmail `The email account that you tried to reach does not
/// exist`, Domino `not listed in Domino Directory`, …).
const USER_UNKNOWN: &[&str] = &[
    "#5.1.1 bad address",
    "<*> not found",
    "<*>... blocked by ",
    "550 address invalid",
    "5.1.0 address rejected.",
    "account * does not exist at the organization",
    "address does not exist",
    "address not present in directory",
    "address unknown",
    "archived recipient",
    "bad recipient",
    "bad-recipient",
    "bad_recipient",
    "can't accept user",
    "does not exist.",
    "destination addresses were unknown",
    "destination server rejected recipients",
    "email address does not exist",
    "email address could not be found",
    "invalid address",
    "invalid mailbox",
    "invalid recipient",
    "is not a known user",
    "is not a valid mailbox",
    "is not an active address at this host",
    "mailbox * does not exist",
    "mailbox *@* unavailable",
    "mailbox does not exist",
    "mailbox invalid",
    "mailbox is inactive",
    "mailbox is unavailable",
    "mailbox not present",
    "mailbox not found",
    "mailbox unavailable",
    "nessun utente simile in questo indirizzo",
    "no account by that name here",
    "no existe dicha persona",
    "no existe ese usuario ",
    "no mail box available for this user",
    "no mailbox by that name is currently available",
    "no mailbox found",
    "no matches to nameserver query",
    "no such address here",
    "no such mailbox",
    "no such person at this address",
    "no such recipient",
    "no such user",
    "no thank you rejected: account unavailable:",
    "no valid recipients, bye",
    "non-existent user",
    "nonexistent user",
    "non existent user",
    "not a valid recipient",
    "not a valid user here",
    "not a local address",
    "not email addresses",
    "not listed in domino directory",
    "not listed in public name & address book",
    "rcpt <*> does not exist",
    "recipient address rejected. (in reply to rcpt to command)",
    "recipient * was not found in",
    "recipient address rejected: access denied",
    "recipient address rejected: invalid user",
    "recipient address rejected: invalid-recipient",
    "recipient address rejected: user * does not exist",
    "recipient address rejected: user unknown in * table",
    "recipient address rejected: unknown user",
    "recipient does not exist",
    "recipient is not local",
    "recipient not exist",
    "recipient not found",
    "recipient not ok",
    "recipient refuses to accept your mail",
    "recipient unknown",
    "requested action not taken: mailbox unavailable",
    "resolver.adr.recipnotfound",
    "resolver.adr.recipientnotfound",
    "said: 550 5.1.1 * user unknown ",
    "sorry, user unknown",
    "sorry, badrcptto",
    "sorry, no mailbox here by that name",
    "sorry, your envelope recipient has been denied",
    "that domain or user isn't in my list of allowed rcpthosts",
    "the email account that you tried to reach does not exist",
    "the following recipients was undeliverable",
    "the recipient name is not recognized",
    "the user's email name is not found",
    "there is no one at this address",
    "this address no longer accepts mail",
    "this email address is wrong or no longer valid",
    "this recipient is in my badrecipientto list",
    "this recipient is not in my validrcptto list",
    "this spectator does not exist",
    "this user doesn't have a * account",
    "this user doesnt have a * account",
    "unknown e-mail address",
    "unknown email address",
    "unknown local part",
    "unknown local-part",
    "unknown mailbox",
    "unknown recipient",
    "unknown user",
    "user * was not found",
    "user * does not exist",
    "user does not exist",
    "user missing home directory",
    "user not active",
    "user not exist",
    "user not found",
    "user not known",
    "user unknown",
    "utilisateur inconnu !",
    "vdeliver: invalid or unknown virtual user",
    "your envelope recipient is in my badrcptto list",
];

/// The domain does not exist or has no mail host (`Host or domain name not found`, Exim
/// `all relevant MX records point to non-existent hosts`, Sendmail `Host unknown`).
const HOST_UNKNOWN: &[&str] = &[
    "domain does not exist",
    "domain is not reachable",
    "domain must exist",
    "host or domain name not found",
    "host unknown",
    "host unreachable",
    "mail domain mentioned in email address is unknown",
    "name or service not known",
    "no such domain",
    "recipient address rejected: unknown domain name",
    "recipient domain must exist",
    "the account or domain may not exist",
    "unknown host",
    "unroutable address",
    "unrouteable address",
    "553 * does not exist",
    "all relevant mx records point to non-existent hosts",
    "couldn't find any host named",
];

/// The address moved and left no forwarding address (RFC 3463 X.1.6).
const HAS_MOVED: &[&str] = &[" has been replaced by "];

/// The mailbox is over its quota.
const MAILBOX_FULL: &[&str] = &[
    "account disabled temporarly for exceeding receiving limits",
    "account is exceeding their quota",
    "account is over quota",
    "account is temporarily over quota",
    "boite du destinataire pleine",
    "delivery failed: over quota",
    "disc quota exceeded",
    "disk quota exceeded",
    "does not have enough space",
    "exceeded storage allocation",
    "exceeding its mailbox quota",
    "full mailbox",
    "is over disk quota",
    "is over quota temporarily",
    "mail file size exceeds the maximum size allowed for mail delivery",
    "mail quota exceeded",
    "mailbox exceeded the local limit",
    "mailbox full",
    "mailbox has exceeded its disk space limit",
    "mailbox is full",
    "mailbox over quota",
    "mailbox quota usage exceeded",
    "mailbox size limit exceeded",
    "maildir over quota",
    "maildir delivery failed: userdisk quota ",
    "maildir delivery failed: domaindisk quota ",
    "mailfolder is full",
    "not enough storage space in",
    "over quota",
    "over the allowed quota",
    "quota exceeded",
    "quota violation for",
    "recipient reached disk quota",
    "recipient rejected: mailbox would exceed maximum allowed storage",
    "the recipient mailbox has exceeded its disk space limit",
    "the user's space has been used up",
    "the user you are trying to reach is over quota",
    "the email account that you tried to reach is over quota",
    "too much mail data",
    "user has exceeded quota, bouncing mail",
    "user has too many messages on the server",
    "user is over quota",
    "user is over the quota",
    "user over quota",
    "was automatically rejected: quota exceeded",
    "would be over the allowed quota",
];

/// The message is bigger than the receiver takes.
const MESG_TOO_BIG: &[&str] = &[
    "exceeded maximum inbound message size",
    "line limit exceeded",
    "max message size exceeded",
    "message file too big",
    "message length exceeds administrative limit",
    "message size exceeds fixed limit",
    "message size exceeds fixed maximum message size",
    "message size exceeds maximum value",
    "message too big",
    "message too large for this ",
    "size limit",
    "taille limite du message atteinte",
];

/// A limit of the receiver other than the message size (RFC 3463 X.2.3).
const EXCEED_LIMIT: &[&str] = &["message header size exceeds limit", "message too large"];

/// The mailbox exists but is disabled or suspended.
const SUSPEND: &[&str] = &[
    " is currently suspended",
    " temporary locked",
    "boite du destinataire archivee",
    "email account that you tried to reach is disabled",
    "has been suspended",
    "invalid/inactive user",
    "is a deactivated mailbox",
    "mailbox currently suspended",
    "mailbox is frozen",
    "mailbox unavailable or access denied",
    "recipient rejected: temporarily inactive",
    "recipient suspend the service",
    "this account has been disabled or discontinued",
    "this mailbox is disabled",
    "user suspended",
    "vdelivermail: account is locked email bounced",
];

/// The recipient's own rules refused the message (filters, only mail from known senders).
const FILTERED: &[&str] = &[
    "because the recipient is only accepting mail from specific email addresses",
    "bounced address",
    "due to extended inactivity new mail is not currently being accepted for this mailbox",
    "has restricted sms e-mail",
    "is not accepting any mail",
    "message rejected due to user rules",
    "not found recipient account",
    "refused due to recipient preferences",
    "resolver.rst.notauthorized",
    "this account is protected by",
    "user not found",
    "user reject",
    "we failed to deliver mail because the following address recipient id refuse to receive mail",
    "you have been blocked by the recipient",
];

/// The sender (envelope or header) was refused.
const REJECTED: &[&str] = &[
    "access denied (in reply to mail from command)",
    "access denied (sender blacklisted)",
    "address rejected",
    "administrative prohibition",
    "batv failed to verify",
    "batv validation failure",
    "backscatter protection detected an invalid or expired email address",
    "because the sender isn't on the recipient's list of senders to accept mail from",
    "bogus mail from",
    "connections not accepted from servers without a valid sender domain",
    "denied [bouncedeny]",
    "denied by secumail valid-address-filter",
    "delivery not authorized, message refused",
    "does not exist e2110",
    "domain of sender address ",
    "email address is on senderfilterconfig list",
    "emetteur invalide",
    "empty envelope senders not allowed",
    "envelope blocked",
    "error: no third-party dsns",
    "from: domain is invalid. please provide a valid from:",
    "fully qualified email address required",
    "invalid domain, see <url:",
    "invalid sender",
    "is not a registered gateway user",
    "mail from not owned by user",
    "message rejected: email address is not verified",
    "mx records for ",
    "null sender is not allowed",
    "recipient addresses rejected : access denied",
    "recipient not accepted. (batv: no tag",
    "returned mail not accepted here",
    "rfc 1035 violation: recursive cname records for",
    "rule imposed mailbox access for",
    "sender address has been blacklisted",
    "sender email address rejected",
    "sender is in my black list",
    "sender is spammer",
    "sender not pre-approved",
    "sender rejected",
    "sender domain is empty",
    "sender verify failed",
    "syntax error: empty email address",
    "the message has been rejected by batv defense",
    "this server does not accept mail from",
    "transaction failed unsigned dsn for",
    "unroutable sender address",
    "you are not allowed to post to this mailing list",
    "you are sending to/from an address that has been blacklisted",
    "your access to submit messages to this e-mail system has been rejected",
];

/// The sending host or its network is refused (DNSBLs, reverse DNS, reputation).
const BLOCKED: &[&str] = &[
    " said: 550 blocked",
    ":blocked)",
    "access denied. ip name lookup failed",
    "access from ip address * blocked",
    "all mail servers must have a ptr record with a valid reverse dns entry",
    "bad dns ptr resource record",
    "bad sender ip address",
    "banned sending ip",
    "blacklisted by",
    "blocked - see http",
    "refused - see http",
    "blocked using ",
    "can't determine purported responsible address",
    "cannot find your hostname",
    "cannot resolve your address",
    "client host * blocked using",
    "client host rejected: abus detecte gu_eib_0",
    "client host rejected: cannot find your hostname",
    "client host rejected: may not be mail exchanger",
    "client host rejected: was not authenticated",
    "confirm this mail server",
    "connection dropped",
    "connection refused by",
    "connection reset by peer",
    "connection was dropped by remote host",
    "connections not accepted from ip addresses on spamhaus xbl",
    "connections will not be accepted from *, because the ip is in spamhaus's list",
    "currently sending spam see: ",
    "domain * mismatches client ip",
    "domain does not exist:",
    "dns lookup failure: * try again later",
    "dnsbl:attrbl",
    "_is_blocked",
    "dynamic/zombied/spam ips blocked",
    "email blocked by spamhaus",
    ".barracudacentral.org",
    "error: no valid recipients from ",
    "esmtp not accepting connections",
    "extreme bad ip profile",
    "fix reverse dns for ",
    "go away",
    "helo command rejected:",
    "host * refused to talk to me: * blocked",
    "host network not allowed",
    "hosts with dynamic ip",
    "http://spf.pobox.com/why.html",
    "http://www.spamcop.net/bl.",
    "invalid ip for sending mail of domain",
    "is blocked by earthlink",
    "ip/domain reputation problems",
    "ips with missing ptr records",
    "is in a black list",
    "is in an *rbl on ",
    "is not allowed to send mail from",
    "per it's spf record",
    "mail server at * is blocked",
    "mail from * refused:",
    "rejected based on blacklist",
    "message was rejected for possible spam/virus content",
    "temporarily deferred due to user complaints",
    "no access from mail server",
    "no ptr record found.",
    "not currently accepting mail from your ip",
    "part of their network is on our block list",
    "please get a custom reverse dns name from your isp for your host",
    "please inspect your spf settings",
    "please use the smtp server of your isp",
    "ptr record setup",
    "rejected because the sending mta or the sender has not passed validation",
    "rejected due to a poor email reputation score",
    "rejected due to the sending mta's poor reputation",
    "rejecting open proxy",
    "reverse dns failed",
    "reverse dns required",
    "reverse dns lookup for host * failed permanently",
    "sender ip address rejected",
    "sender ip reverse lookup rejected",
    "forbidden by invalid rdns record of your mail server",
    "server access forbidden by your ip ",
    "server ip * listed as abusive",
    "service not available, closing transmission channel",
    "unverifyable sending ips",
    "smtp error from remote mail server after initial connection:",
    "sorry, that domain isn't in my list of allowed rcpthosts",
    "sorry, that domain isnt in my list of allowed rcpthosts",
    "sorry, your remotehost looks suspiciously like spammer",
    "spf (sender policy framework) domain authentication fail",
    "spf record",
    "spf check: fail",
    "spf: * is not allowed to send mail.",
    "temporarily deferred due to unexpected volume or user complaints",
    "the email * is blacklisted",
    "the domain * is blacklisted",
    "the ip * is blacklisted",
    "this system will not accept messages from servers/devices with no reverse dns",
    "to submit messages to this e-mail system has been rejected",
    "too many spams from your ip",
    "too many unwanted messages have been sent from the following ip address above",
    "unresolvable relay host name",
    "service refused, please try later.",
    "was blocked by ",
    "we do not accept mail from dynamic ips",
    "we do not accept mail from hosts with dynamic ip or generic dns ptr-records",
    "you are not allowed to connect",
    "you are sending spam",
    "your email address has been blacklisted",
    "your network is temporary blacklisted",
    ".abuseat.org",
    "your server requires confirmation",
    // Google Workspace and Gmail, as their SMTP error reference words them.
    "ip not in whitelist for rcpt domain",
    "unusual rate of unsolicited mail originating from your ip address",
    "try again later, closing connection.",
    "helo/ehlo argument is invalid",
    "is not authorized to send email directly to our servers",
    "does not have a ptr record setup",
    "very low reputation of the sending ip address",
    // Exchange Online and Outlook.com.
    "access denied, bad helo",
    "access denied, rejected by recipient",
    "access denied, banned sender",
    "using customer block list",
    "access denied, banned sending ip",
    "must have a reverse dns record",
];

/// A spam filter refused the message.
const SPAM_DETECTED: &[&str] = &[
    "the mail server detected your message as spam and has prevented delivery.",
    "554 5.7.0 reject, id=",
    "appears to be unsolicited",
    "blacklisted url in message",
    "block for spam",
    "blocked by policy: no spam please",
    "blocked by spamassassin",
    "blocked for abuse. see http://att.net/blocks",
    "bulk email",
    "considered unsolicited bulk e-mail (spam) by our mail filters",
    "content filter rejection",
    "cyberoam anti spam engine has identified this email as a bulk email",
    "denied due to spam list",
    "high probability of spam",
    "http://www.spamhaus.org",
    "https://www.spamhaus.org",
    "http://dsbl.org",
    "mail.163.com/help/help_spam_16.htm",
    "listed in work.drbl.imedia.ru",
    "mail appears to be unsolicited",
    "mail content denied",
    "mail rejete. mail rejected.",
    "may consider spam",
    "message considered as spam or virus",
    "message contains spam or virus",
    "message content rejected",
    "message detected as spam",
    "message filtered",
    "message is being rejected as it seems to be a spam",
    "message looks like spam",
    "message refused by mailmarshal spamprofiler",
    "message refused by trustwave seg spamprofiler",
    "message rejected as spam",
    "message rejected because of unacceptable content",
    "message rejected due to suspected spam content",
    "message rejected for policy reasons",
    "our email server thinks this email is spam",
    "percent probability of being spam",
    "our system has detected that this message is",
    "probable spam",
    "reject bulk.advertising",
    "rejected: spamassassin score ",
    "rejected by * (spam)",
    "rejected due to spam classification",
    "rejected due to spam content",
    "rejected due to spam url in classification",
    "rejected due to spam url in content",
    "rejecting banned content",
    "rejecting mail content",
    "related to content with spam-like characteristics",
    "rule imposed as * is blacklisted on",
    "sender domain listed at ",
    "sending address not accepted due to spam filter",
    "spam blocked",
    "spam * exceeded",
    "greylisted. please try again in",
    "greylisted, please try again in",
    "spam check",
    "spam content matched",
    "spam detected",
    "spam email",
    "spam not accepted",
    "spam refused",
    "spam rejection",
    "spam reporting address",
    "spam score ",
    "spam message rejected.",
    "spambouncer identified spam",
    "spamming not allowed",
    "too much spam.",
    "the email message was detected as spam",
    "the message has been rejected by spam filtering engine",
    "the message was rejected due to classification as bulk mail",
    "the content of this message looked like spam",
    "cannot be forwarded because it was detected as spam",
    "is classified as spam and is rejected",
    "this message appears to be spam",
    "this message has been identified as spam",
    "this message has been scored as spam with a probability",
    "this message scored * spam points",
    "this message was classified as spam",
    "this message was rejected by recurrent pattern detection system",
    "transaction failed spam message not queued",
    "we dont accept spam",
    "you're using a mass mailer",
    "your email appears similar to spam we have received before",
    "your email breaches local uribl policy",
    "your email had spam-like ",
    "your email is considered spam",
    "your email is probably spam",
    "your email was detected as spam",
    "your message as spam and has prevented delivery",
    "your message has been temporarily blocked by our filter",
    "your message has been rejected because it appears to be spam",
    "your message has triggered a spam block",
    "your message may contain the spam contents",
    "your message failed several antispam checks",
];

/// A virus scanner refused the message.
const VIRUS_DETECTED: &[&str] = &[
    "it has a potentially executable attachment",
    "the message was rejected because it contains prohibited virus or spam content",
    "this form of attachment has been used by recent viruses or other malware",
    "virus detected",
    "your message was infected with a virus",
];

/// A policy of the receiver (DMARC, closed lists, attachments) refused the message.
const POLICY_VIOLATION: &[&str] = &[
    "an illegal attachment on your message",
    "because the recipient is not accepting mail with ",
    "by non-member to a members-only list",
    "closed mailing list",
    "denied by policy",
    "dmarc policy",
    "email not accepted for policy reasons",
    "email rejected due to security policies",
    "header are not accepted",
    "header error",
    "local policy violation",
    "message bounced due to organizational settings",
    "message given low priority",
    "message not accepted for policy reasons",
    "message rejected due to local policy",
    "messages with multiple addresses",
    "rejected for policy reasons",
    "protocol violation",
    "the email address used to send your message is not subscribed to this group",
    "the message was rejected by organization policy",
    "this message was blocked because its content presents a potential",
    "we do not accept messages containing images or other attachments",
    "you have exceeded the allowable number of posts without solving a captcha",
    "you have exceeded the the allowable number of posts without solving a captcha",
];

/// Authentication, TLS or sender-authorisation trouble.
const SECURITY_ERROR: &[&str] = &[
    "account not subscribed to ses",
    "authentication credentials invalid",
    "authentication failure",
    "authentication failed; server * said:",
    "authentication required",
    "authentication turned on in your email client",
    "authentification requise",
    "authentification invalide",
    "domain * is a dead domain",
    "executable files are not allowed in compressed files",
    "insecure mail relay",
    "recipient address rejected: access denied",
    "sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts",
    "sorry, you dont authenticate or the domain isnt in my list of allowed rcpthosts",
    "tls required but not supported",
    "unauthenticated senders not allowed",
    "is not authorized to perform ses:sendrawemail on resource",
    "you are not authorized to send mail, authentication is required",
    "verification failure",
];

/// The receiver does not relay for us.
const NO_RELAYING: &[&str] = &[
    "as a relay",
    "insecure mail relay",
    "is not permitted to relay through this server without authentication",
    "mail server requires authentication when attempting to send to a non-local e-mail address",
    "not a gateway",
    "not allowed to relay through this machine",
    "not an open relay, so get lost",
    "not local host",
    "relay access denied",
    "relay denied",
    "relaying mail to ",
    "relay not permitted",
    "relaying denied",
    "that domain isn't in my list of allowed rcpthost",
    "this system is not configured to relay mail",
    "unable to relay for",
    "we don't handle mail for",
];

/// The sender's queue gave up.
const EXPIRED: &[&str] = &[
    "connection timed out",
    "could not find a gateway for",
    "delivery attempts will continue to be",
    "delivery time expired",
    "failed to deliver to domain ",
    "giving up on",
    "have been failing for a long time",
    "has been delayed",
    "it has not been collected after",
    "message expired after sitting in queue for",
    "message expired, connection refulsed",
    "message timed out",
    "retry time not reached for any host after a long failure period",
    "retry timeout exceeded",
    "server did not respond",
    "this message has been in the queue too long",
    "unable to deliver message after multiple retries",
    "was not reachable within the allowed queue period",
    "your message could not be delivered for more than",
];

/// Routing and DNS trouble between the two hosts.
const NETWORK_ERROR: &[&str] = &[
    "could not connect and send the mail to",
    "dns records for the destination computer could not be found",
    "hop count exceeded - possible mail loop",
    "host is unreachable",
    "host name lookup failure",
    "host not found, try again",
    "mail forwarding loop for ",
    "malformed name server reply",
    "malformed or unexpected name server reply",
    "maximum forwarding loop count exceeded",
    "message looping",
    "message probably in a routing loop",
    "no route to host",
    "too many hops",
    "unable to resolve route ",
    "unrouteable mail domain",
];

/// The receiving system failed.
const SYSTEM_ERROR: &[&str] = &[
    "aliasing/forwarding loop broken",
    "can't create user output file",
    "could not load drd for domain",
    "internal error reading data",
    "internal server error: operation now in progress",
    "interrupted system call",
    "it encountered an error while being processed",
    "it would create a mail loop",
    "local configuration error",
    "local error in processing",
    "loop was found in the mail exchanger",
    "loops back to myself",
    "queue file write error",
    "mail system configuration error",
    "remote server is misconfigured",
    "server configuration error",
    "service currently unavailable",
    "system config error",
    "temporary local problem",
    "timeout waiting for input",
    "transaction failed",
];

/// The receiving system is out of space.
const SYSTEM_FULL: &[&str] = &[
    "mail system full",
    "requested mail action aborted: exceeded storage allocation",
];

/// Too many connections or messages at once.
const TOO_MANY_CONN: &[&str] = &[
    "all available ips are at maximum connection limit",
    "connection rate limit exceeded",
    "exceeds per-domain connection limit for",
    "has exceeded the max emails per hour ",
    "throttling failure: daily message quota exceeded",
    "throttling failure: maximum sending rate exceeded",
    "too many connections",
    "too many concurrent smtp connections",
    "too many errors from your ip",
    "too many recipients",
    "too many smtp sessions for this host",
    "trop de connexions, ",
    "we have already made numerous attempts to deliver this message",
    "is receiving mail at a rate that prevents additional messages from being delivered",
    "is receiving mail too quickly",
];

/// A local delivery program failed (procmail, maildrop, a pipe).
const MAILER_ERROR: &[&str] = &[
    "procmail: ",
    "bin/procmail",
    "bin/maildrop",
    "command failed: ",
    "command died with status ",
    "command output:",
    "mailer error",
    "pipe to |/",
    "x-unix; ",
];

/// The message's format was refused.
const CONTENT_ERROR: &[&str] = &[
    "header size exceeds maximum permitted",
    "improper use of 8-bit data in message header",
    "message header size, or recipient list, exceeds policy limit",
    "message mime complexity exceeds the policy maximum",
    "routing loop detected -- too many received: headers",
    "this message contain invalid mime headers",
    "this message contain improperly-formatted binary content",
    "this message contain text that uses unnecessary base64 encoding",
];

/// The domain accepts no mail at all (null MX, RFC 7505).
const NOT_ACCEPT: &[&str] = &[
    "does not accept mail (nullmx)",
    "host/domain does not accept mail",
    "host does not accept mail",
    "name server: .: host not found",
    "no mx record found for domain=",
    "no route for current request",
    "smtp protocol returned a permanent error",
];

/// An out-of-office reply.
const VACATION: &[&str] = &[
    "i am away on vacation",
    "i am away until",
    "i am out of the office",
    "i will be traveling for work on",
];

/// What a mail system says of its own failures, in words particular to it, which name the
/// reason when the command and the status code have not: qmail, Exim, Courier, Domino and
/// Notes, IMail, Exchange (its `RESOLVER`/`QUEUE` error names), Gmail and GMX.
pub const MTA_STATEMENTS: &[(&str, Reason)] = &[
    // qmail
    ("but sender was rejected", Reason::Rejected),
    ("but my name was rejected", Reason::Blocked),
    ("no mailbox here by that name", Reason::UserUnknown),
    ("sorry, i couldn't find any host ", Reason::HostUnknown),
    (
        "requested action not taken: mailbox unavailable (not enough free space)",
        Reason::SystemFull,
    ),
    (
        "message size exceeds fixed maximum message size:",
        Reason::MesgTooBig,
    ),
    (
        "sorry, i wasn't able to establish an smtp connection",
        Reason::NetworkError,
    ),
    (
        "sorry, i couldn't find a mail exchanger or ip address",
        Reason::NetworkError,
    ),
    (
        "although i'm listed as a best-preference mx or a for that host",
        Reason::NetworkError,
    ),
    // qmail-ldap (the patch's own replies)
    ("mailaddress is administratively disabled", Reason::Suspend),
    ("mailaddress is administrativley disabled", Reason::Suspend),
    (
        "the message exeeded the maximum size the user accepts",
        Reason::ExceedLimit,
    ),
    ("automatic homedir creator crashed", Reason::SystemError),
    ("illegal value in ldap attribute", Reason::SystemError),
    (
        "ldap attribute is not given but mandatory",
        Reason::SystemError,
    ),
    (
        "timeout while performing search on ldap server",
        Reason::SystemError,
    ),
    (
        "too many results returned but needs to be unique",
        Reason::SystemError,
    ),
    (
        "permanent error while executing qmail-forward",
        Reason::SystemError,
    ),
    (
        "temporary error in automatic homedir creation",
        Reason::SystemError,
    ),
    (
        "temporary error while executing qmail-forward",
        Reason::SystemError,
    ),
    ("temporary failure in ldap lookup", Reason::SystemError),
    ("unable to contact ldap server", Reason::SystemError),
    (
        "unable to login into ldap server, bad credentials",
        Reason::SystemError,
    ),
    // Exim
    (
        "all host address lookups failed permanently",
        Reason::HostUnknown,
    ),
    (
        "all relevant mx records point to non-existent hosts",
        Reason::HostUnknown,
    ),
    (
        "an mx or srv record indicated no smtp service",
        Reason::NotAccept,
    ),
    (
        "no host found for existing smtp connection",
        Reason::NotAccept,
    ),
    ("retry timeout exceeded", Reason::Expired),
    ("delivery retry timeout exceeded", Reason::Expired),
    ("too many \"received\" headers", Reason::ContentError),
    ("delivery to file forbidden", Reason::SystemError),
    ("delivery to pipe forbidden", Reason::SystemError),
    ("local delivery failed", Reason::SystemError),
    ("lmtp error after ", Reason::SystemError),
    ("error: quota exceed", Reason::MailboxFull),
    // Courier
    ("this domain's dns violates rfc 1035.", Reason::SystemError),
    ("dns lookup failed.", Reason::NetworkError),
    // Domino and Notes
    ("not listed in domino directory", Reason::UserUnknown),
    (
        "not listed in public name & address book",
        Reason::UserUnknown,
    ),
    ("non répertorié dans l'annuaire domino", Reason::UserUnknown),
    ("domino ディレクトリには見つかりません", Reason::UserUnknown),
    ("ディレクトリのリストにありません", Reason::UserUnknown),
    ("cannot route mail to user", Reason::Filtered),
    (
        "several matches found in domino directory",
        Reason::SystemError,
    ),
    (
        "message has exceeded maximum hop count",
        Reason::NetworkError,
    ),
    // Exchange 2007 and later: the error names of its diagnostic information
    ("resolver.adr.recipnotfound", Reason::UserUnknown),
    ("resolver.adr.recipientnotfound", Reason::UserUnknown),
    ("resolver.adr.exrecipnotfound", Reason::UserUnknown),
    ("resolver.adr.badprimary", Reason::SystemError),
    ("resolver.adr.reciplimit", Reason::TooManyConn),
    ("resolver.adr.invalidinsmtp", Reason::SystemError),
    ("resolver.adr.ambiguous", Reason::SystemError),
    ("resolver.rst.recipsizelimit", Reason::MesgTooBig),
    ("resolver.rst.authrequired", Reason::SecurityError),
    ("resolver.rst.notauthorized", Reason::Rejected),
    ("queue.expired", Reason::Expired),
    ("smtpsend.dns.nonexistentdomain", Reason::HostUnknown),
    ("smtpsend.dns.mxloopback", Reason::NetworkError),
    // Outlook.com, for a domain it cannot resolve.
    (
        "could not be delivered to the recipient because the domain is not reachable",
        Reason::HostUnknown,
    ),
    // Verizon's MMS gateway, for a number it does not serve.
    ("no valid recipients for this mm", Reason::UserUnknown),
    // IMail Server
    ("unknown user:", Reason::UserUnknown),
    ("invalid final delivery userid", Reason::UserUnknown),
    ("user mailbox exceeds allowed size", Reason::MailboxFull),
    // Exchange 2003 and earlier, also by the IMS error codes of its `MSEXCH:IMS:…` lines.
    ("the recipient name is not recognized", Reason::UserUnknown),
    ("(000c05a6)", Reason::UserUnknown),
    ("(000c0595)", Reason::Filtered),
    ("(00010256)", Reason::SystemError),
    ("(000d06b5)", Reason::SystemError),
    ("(00120270)", Reason::NetworkError),
    ("(00050311)", Reason::ContentError),
    ("(000502cc)", Reason::ContentError),
    ("(000b0981)", Reason::SecurityError),
    // Google Workspace, for an MX lookup that failed: "DNS Error: 1234 DNS type 'mx' lookup of
    // example.jp responded with code NXDOMAIN", "… had no relevant answers."
    (" responded with code nxdomain", Reason::NetworkError),
    (" had no relevant answers", Reason::NetworkError),
    // Gmail
    ("dns error: domain name not found", Reason::HostUnknown),
    (
        "dns error: dns server returned answer with no data",
        Reason::HostUnknown,
    ),
    ("dns error: could not contact dns servers", Reason::Expired),
    (
        "the recipient server did not accept our requests to connect",
        Reason::Expired,
    ),
    // Gmail's "Address not found" notice: "… wasn't delivered to X because the address
    // couldn't be found, or is unable to receive mail."
    ("because the address couldn't be found", Reason::UserUnknown),
    // Gmail, for a domain with a null MX (RFC 7505).
    (
        "doesn't receive email according to the administrator",
        Reason::NotAccept,
    ),
    // OpenSMTPD (its mta.c): a message that outlived its queue time, a domain that cannot be
    // resolved or routed to, a destination that refuses every message.
    ("envelope expired", Reason::Expired),
    ("invalid domain name", Reason::HostUnknown),
    ("destination seem to reject all mails", Reason::NotAccept),
    ("no mx found for domain", Reason::NetworkError),
    ("no mx found for destination", Reason::NetworkError),
    ("no valid route to remote mx", Reason::NetworkError),
    ("no valid route to destination", Reason::NetworkError),
    ("network error on destination mxs", Reason::NetworkError),
    (
        "address family mismatch on destination mxs",
        Reason::NetworkError,
    ),
    ("all routes to destination blocked", Reason::NetworkError),
    ("could not retrieve source address", Reason::NetworkError),
    ("bad dns lookup error code", Reason::NetworkError),
    ("could not retrieve credentials", Reason::SecurityError),
    ("temporary failure in mx lookup", Reason::NetworkError),
];

/// The reason a mail system's own words name, if any.
pub fn mta_statement(text: &str) -> Option<Reason> {
    named_in(MTA_STATEMENTS, text)
}

/// The reason of the first phrase of `table` that `text` holds.
pub fn named_in(table: &'static [(&'static str, Reason)], text: &str) -> Option<Reason> {
    found(table, text).map(|(i, _)| i).min().map(|i| table[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_is_asked_about_afresh() {
        use Reason::{MailboxFull, UserUnknown};
        let unknown = "550 5.1.1 user unknown";
        let full = "452 4.2.2 mailbox full";
        let wild = "550 this user doesn't have a example.org account";
        for _ in 0..2 {
            assert!(says(UserUnknown, unknown) && !says(MailboxFull, unknown));
            assert!(says(MailboxFull, full) && !says(UserUnknown, full));
            assert!(says(UserUnknown, wild));
            // the first words of a phrase with a `*` are not enough
            assert!(!says(
                UserUnknown,
                "550 this user doesn't have a trusted example.org account"
            ));
            assert!(!says(UserUnknown, ""));
        }
    }

    #[test]
    fn the_first_phrase_of_a_table_wins_wherever_the_text_holds_it() {
        const TABLE: &[(&str, Reason)] = &[
            ("mailbox full", Reason::MailboxFull),
            ("user unknown", Reason::UserUnknown),
            ("unknown", Reason::OnHold),
        ];
        let text = "user unknown, mailbox full";
        assert_eq!(named_in(TABLE, text), Some(Reason::MailboxFull));
        assert_eq!(
            named_in(TABLE, "no such user unknown"),
            Some(Reason::UserUnknown)
        );
        assert_eq!(named_in(TABLE, "something unknown"), Some(Reason::OnHold));
        assert_eq!(named_in(TABLE, "nothing said"), None);
        // Overlapping phrases are all found, with where each starts.
        let mut all: Vec<_> = found(TABLE, text).collect();
        all.sort();
        assert_eq!(all, [(0, 14), (1, 0), (2, 5)]);
    }

    #[test]
    fn a_star_is_one_word() {
        assert!(matches(
            "550 mailbox kim@example.org does not exist",
            "mailbox * does not exist"
        ));
        assert!(!matches(
            "550 mailbox of kim does not exist",
            "mailbox * does not exist"
        ));
        assert!(matches(
            "rcpt <a@b.example> does not exist",
            "rcpt <*> does not exist"
        ));
        assert!(matches("x <a@b>... blocked by y", "<*>... blocked by "));
        assert!(!matches(
            "mailbox  does not exist",
            "mailbox * does not exist"
        ));
        assert!(matches(
            "é mailbox ü does not exist",
            "mailbox * does not exist"
        ));
    }

    #[test]
    fn a_star_may_hold_an_at_sign_pattern() {
        // "Mailbox kim@example.org unavailable" names the address; "mailbox temporarily
        // unavailable" does not say it is unknown.
        assert!(says(
            Reason::UserUnknown,
            "550 mailbox kim@example.org unavailable"
        ));
        assert!(!says(
            Reason::UserUnknown,
            "450 mailbox temporarily unavailable"
        ));
    }

    #[test]
    fn statements_of_qmail_ldap_opensmtpd_and_exim() {
        let said = |t: &str| mta_statement(t);
        assert_eq!(
            said(
                "unable to contact ldap server. (#4.4.3)i'm not going to try again; this message has been in the queue too long."
            ),
            Some(Reason::SystemError)
        );
        assert_eq!(
            said("mailaddress is administratively disabled. (#5.2.1)"),
            Some(Reason::Suspend)
        );
        assert_eq!(
            said("all routes to destination blocked"),
            Some(Reason::NetworkError)
        );
        assert_eq!(
            said("could not retrieve credentials"),
            Some(Reason::SecurityError)
        );
        assert_eq!(
            said("lmtp error after end of data: 452 4.2.2 quota"),
            Some(Reason::SystemError)
        );
    }

    #[test]
    fn the_sender_refused_is_not_the_recipient_refused() {
        assert!(says_rejected(
            "553 sender address rejected: domain not found"
        ));
        assert!(!says_rejected(
            "550 recipient address rejected: user unknown"
        ));
    }
}
