//! Every documented shape of a report is found: ARF complaints (RFC 5965) as providers send
//! them, RFC 3464 DSNs, the plain-text bounces of qmail, Exim, Sendmail and Postfix, Exchange
//! and Office 365 NDRs, Amazon SES notifications; and each gets the reason and class its
//! words say. The messages are written here, after the formats' specifications and the
//! vendors' documented texts.

use bulletin::bounce::{self, Class, Kind};

fn one(raw: &str) -> bounce::Bounce {
    let r = bounce::parse(raw.as_bytes());
    assert_eq!(r.bounces.len(), 1, "{r:#?}");
    r.bounces.into_iter().next().unwrap()
}

fn kind(raw: &str) -> Option<Kind> {
    bounce::parse(raw.as_bytes()).kind
}

const ORIGINAL: &str = "From: news@example.org\r\nTo: kim@example.net\r\nSubject: Cluster News\r\nMessage-ID: <n1.kim@example.org>\r\nX-Bulletin-Issue: n1\r\n\r\nHello.\r\n";

// ----------------------------------------------------------------------------------------
// ARF (RFC 5965)

#[test]
fn arf_with_original_rcpt_to() {
    let raw = format!(
        "From: staff@isp.example\r\nTo: abuse@example.org\r\nSubject: FW: Cluster News\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"a\"\r\n\r\n\
--a\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n\
--a\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n\
Original-Mail-From: <news@example.org>\r\nOriginal-Rcpt-To: <kim@example.net>\r\nArrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\r\nReporting-MTA: dns; mail.isp.example\r\n\r\n\
--a\r\nContent-Type: message/rfc822\r\n\r\n{ORIGINAL}\r\n--a--\r\n"
    );
    let b = one(&raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!((b.class, b.reason.as_str()), (Class::Complaint, "feedback"));
    assert_eq!(kind(&raw), Some(Kind::Feedback));
}

#[test]
fn arf_without_original_rcpt_to_names_the_original_recipient() {
    // Yahoo's and AOL's reports often leave Original-Rcpt-To out; the returned message's
    // To then names the member.
    let raw = format!(
        "From: feedback@arf.mail.example\r\nTo: fbl@example.org\r\nSubject: Abuse Report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=\"feedback-report\"; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n\r\nThis is an email abuse report for an email message received from IP 192.0.2.1.\r\n\r\n\
--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Yahoo!-Mail-Feedback/2.0\r\nVersion: 0.1\r\n\
Original-Mail-From: <news@example.org>\r\nReported-Domain: example.org\r\nAuthentication-Results: mta.example; dkim=pass\r\n\r\n\
--b\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n{ORIGINAL}\r\n--b--\r\n"
    );
    let b = one(&raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!(b.class, Class::Complaint);
}

#[test]
fn arf_with_returned_headers_only() {
    let raw = "From: fbl@isp.example\r\nTo: abuse@example.org\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"c\"\r\n\r\n\
--c\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n\r\n\
--c\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: fbl/2\r\nVersion: 1\r\n\r\n\
--c\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@example.org\r\nTo: <kim@example.net>\r\nSubject: Cluster News\r\n\r\n--c--\r\n";
    assert_eq!(one(raw).recipient, "kim@example.net");
}

#[test]
fn arf_removal_recipient_and_a_redacted_original() {
    let raw = "From: scomp@aol.example\r\nTo: fbl@example.org\r\nSubject: Email Feedback Report for IP 192.0.2.1\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"d\"\r\n\r\n\
--d\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n\r\n\
--d\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: AOL SComp\r\nVersion: 0.1\r\nRemoval-Recipient: kim@example.net\r\n\r\n\
--d\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@example.org\r\nTo: redacted@aol.example\r\nSubject: x\r\n\r\nbody\r\n--d--\r\n";
    assert_eq!(one(raw).recipient, "kim@example.net");
}

#[test]
fn arf_without_report_type_parameter_or_inside_a_forward() {
    // The feedback-report part alone marks the message, whatever the outer type says.
    let raw = "From: fbl@isp.example\r\nTo: abuse@example.org\r\nSubject: Fwd: report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"e\"\r\n\r\n\
--e\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n\r\n\
--e\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: fraud\r\nUser-Agent: x/1\r\nVersion: 1\r\nOriginal-Rcpt-To: kim@example.net\r\n\r\n--e--\r\n";
    let b = one(raw);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("kim@example.net", Class::Complaint)
    );
}

#[test]
fn arf_fields_in_a_text_part_without_a_recipient_field() {
    // AOL's older reports: the fields in a text/plain part of a multipart/mixed, no
    // Original-Rcpt-To; the complainant is the returned original's To.
    let raw = "From: scomp@aol.example\r\nTo: fbl@example.org\r\nSubject: Email Feedback Report for IP 192.0.2.1\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"g\"\r\n\r\n\
--g\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for an email message received from IP 192.0.2.1\r\n\r\n\
--g\r\nContent-Type: text/plain\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: AOL SComp\r\nVersion: 0.1\r\nSource-IP: 192.0.2.1\r\n\r\n\
--g\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@example.org\r\nTo: kim@aol.example\r\nSubject: x\r\n\r\nbody\r\n--g--\r\n";
    let b = one(raw);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("kim@aol.example", Class::Complaint)
    );
}

#[test]
fn arf_forwarded_whole_as_an_attachment() {
    // An abuse desk forwards the report it received: the complainant is in the attached
    // report, not the attached message's To (the desk itself).
    let raw = "From: abuse@isp.example\r\nTo: abuse@example.org\r\nSubject: Fwd: Abuse report\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: text/plain\r\n\r\nPlease see the attached complaint.\r\n\r\n\
--outer\r\nContent-Type: message/rfc822\r\n\r\n\
From: fbl@isp.example\r\nTo: abuse@isp.example\r\nSubject: Abuse report\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"inner\"\r\n\r\n\
--inner\r\nContent-Type: text/plain\r\n\r\nAn email abuse report.\r\n\r\n\
--inner\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: gen/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <lee@isp.example>\r\n\r\n\
--inner\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@example.org\r\nTo: lee@isp.example\r\nSubject: x\r\n\r\n\
--inner--\r\n--outer--\r\n";
    let b = one(raw);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("lee@isp.example", Class::Complaint)
    );
}

#[test]
fn arf_fields_in_a_plain_text_body() {
    // Some abuse desks paste the report's fields into a plain message.
    let raw = "From: abuse@isp.example\r\nTo: postmaster@example.org\r\nSubject: Abuse report\r\nContent-Type: text/plain\r\n\r\n\
This is an email abuse report for an email message received from IP 192.0.2.1.\r\n\r\n\
Feedback-Type: abuse\r\nUser-Agent: desk/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <kim@example.net>\r\n";
    let b = one(raw);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("kim@example.net", Class::Complaint)
    );
}

#[test]
fn microsoft_jmrp_complaint() {
    let raw = format!(
        "From: staff@hotmail.com\r\nTo: jmrp@example.org\r\nSubject: complaint about message from 192.0.2.1\r\n\
X-HmXmrOriginalRecipient: <kim@hotmail.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f\"\r\n\r\n\
--f\r\nContent-Type: text/plain\r\n\r\nThis is a complaint.\r\n\r\n--f\r\nContent-Type: message/rfc822\r\n\r\n{ORIGINAL}\r\n--f--\r\n"
    );
    let b = one(&raw);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("kim@hotmail.example", Class::Complaint)
    );
}

// ----------------------------------------------------------------------------------------
// DSNs and plain-text bounces

#[test]
fn rfc3464_dsn_with_a_4xx_user_unknown_is_hard() {
    let raw = "From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"g\"\r\n\r\n\
--g\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n\
--g\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
Final-Recipient: rfc822; kim@example.net\r\nAction: failed\r\nStatus: 4.1.1\r\nRemote-MTA: dns; mx.example.net\r\n\
Diagnostic-Code: smtp; 450 4.1.1 <kim@example.net>: Recipient address rejected: User unknown in local recipient table\r\n\r\n--g--\r\n";
    let b = one(raw);
    assert_eq!((b.reason.as_str(), b.class), ("userunknown", Class::Hard));
}

#[test]
fn qmail_text_bounce() {
    let raw = "From: MAILER-DAEMON@mx.example.org\r\nTo: bounces@example.org\r\nSubject: failure notice\r\n\r\n\
Hi. This is the qmail-send program at mx.example.org.\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\n\
This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n<kim@example.net>:\r\n\
192.0.2.2 does not like recipient.\r\nRemote host said: 552 5.2.2 <kim@example.net>... Mailbox full\r\nGiving up on 192.0.2.2.\r\n\r\n\
--- Below this line is a copy of the message.\r\n\r\nTo: kim@example.net\r\n";
    let b = one(raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!((b.reason.as_str(), b.class), ("mailboxfull", Class::Soft));
}

#[test]
fn exim_text_bounce() {
    let raw = "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\r\nTo: bounces@example.org\r\nSubject: Mail delivery failed: returning message to sender\r\n\
X-Failed-Recipients: kim@example.net\r\n\r\n\
This message was created automatically by mail delivery software.\r\n\r\n\
A message that you sent could not be delivered to one or more of its\r\nrecipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
  kim@example.net\r\n    host mx.example.net [192.0.2.3]\r\n    SMTP error from remote mail server after RCPT TO:<kim@example.net>:\r\n    550 5.1.1 <kim@example.net>: Recipient address rejected: User unknown\r\n";
    let b = one(raw);
    assert_eq!((b.reason.as_str(), b.class), ("userunknown", Class::Hard));
}

#[test]
fn sendmail_text_bounce() {
    let raw = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\r\nTo: bounces@example.org\r\nSubject: Returned mail: see transcript for details\r\n\r\n\
The original message was received at Mon, 1 Dec 2025 10:00:00 +0000\r\nfrom localhost [127.0.0.1]\r\n\r\n\
   ----- The following addresses had permanent fatal errors -----\r\n<kim@example.net>\r\n    (reason: 550 5.7.1 <kim@example.net>... Relaying denied)\r\n\r\n\
   ----- Transcript of session follows -----\r\n... while talking to mx.example.net.:\r\n>>> RCPT To:<kim@example.net>\r\n<<< 550 5.7.1 <kim@example.net>... Relaying denied\r\n";
    let b = one(raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!((b.reason.as_str(), b.class), ("norelaying", Class::Soft));
}

#[test]
fn exchange_ndr() {
    let raw = "From: postmaster@example.net\r\nTo: bounces@example.org\r\nSubject: Undeliverable: Cluster News\r\nContent-Type: text/plain\r\n\r\n\
Delivery has failed to these recipients or groups:\r\n\r\nkim@example.net\r\n\
The email address you entered couldn't be found. Please check the recipient's email address and try to resend the message.\r\n\r\n\
Diagnostic information for administrators:\r\n\r\nGenerating server: EX01.example.net\r\n\r\nkim@example.net\r\n\
#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\r\n";
    let b = one(raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!((b.reason.as_str(), b.class), ("userunknown", Class::Hard));
}

#[test]
fn office365_blocked_sender_is_soft() {
    let raw = "From: postmaster@outlook.example\r\nTo: bounces@example.org\r\nSubject: Undeliverable: Cluster News\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"h\"\r\n\r\n\
--h\r\nContent-Type: text/plain\r\n\r\nYour message couldn't be delivered.\r\n\r\n\
--h\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; AM0PR01MB0001.eurprd01.prod.outlook.com\r\n\r\n\
Final-Recipient: rfc822; kim@example.net\r\nAction: failed\r\nStatus: 5.7.606\r\nRemote-MTA: dns; mx1.eur01.prod.protection.outlook.com\r\n\
Diagnostic-Code: smtp; 550 5.7.606 Access denied, banned sending IP [192.0.2.1]\r\n\r\n--h--\r\n";
    let b = one(raw);
    assert_eq!((b.reason.as_str(), b.class), ("blocked", Class::Soft));
}

#[test]
fn ses_bounce_and_complaint_notifications() {
    let bounce = r#"From: no-reply@sns.amazonaws.com
To: bounces@example.org
Subject: AWS Notification Message
Content-Type: text/plain

{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"kim@example.net","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"reportingMTA":"dsn; a1-2.smtp-out.amazonses.com"},"mail":{"source":"news@example.org"}}
"#;
    let b = one(bounce);
    assert_eq!(
        (b.recipient.as_str(), b.class),
        ("kim@example.net", Class::Hard)
    );
    let complaint = r#"From: no-reply@sns.amazonaws.com
To: bounces@example.org
Subject: AWS Notification Message
Content-Type: text/plain

{"Type":"Notification","Message":"{\"notificationType\":\"Complaint\",\"complaint\":{\"complainedRecipients\":[{\"emailAddress\":\"kim@example.net\"}],\"complaintFeedbackType\":\"abuse\"}}"}
"#;
    let c = one(complaint);
    assert_eq!(
        (c.recipient.as_str(), c.class),
        ("kim@example.net", Class::Complaint)
    );
}

#[test]
fn ses_transient_mailbox_full_by_its_sub_type() {
    let raw = r#"From: no-reply@sns.amazonaws.com
To: bounces@example.org
Subject: AWS Notification Message
Content-Type: text/plain

{"notificationType":"Bounce","bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","bouncedRecipients":[{"emailAddress":"kim@example.net"}]}}
"#;
    let b = one(raw);
    assert_eq!((b.reason.as_str(), b.class), ("mailboxfull", Class::Soft));
}

// ----------------------------------------------------------------------------------------
// Reporting systems with words of their own

#[test]
fn an_ses_receipt_rule_bounce_is_a_filter_not_a_dead_address() {
    // The "Mailbox does not exist" template of a receipt rule's bounce action.
    let raw = format!(
        "From: postmaster@mail.example.net\r\nTo: news@example.org\r\nSubject: Delivery Status Notification (Failure)\r\nMIME-Version: 1.0\r\n\
X-SES-Outgoing: 2026.12.07-192.0.2.7\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"s\"\r\n\r\n\
--s\r\nContent-Type: text/plain\r\n\r\nThis message could not be delivered.\r\n\r\n\
--s\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; inbound-smtp.eu-west-1.amazonaws.com\r\n\r\n\
Action: failed\r\nFinal-Recipient: rfc822; kim@mail.example.net\r\nDiagnostic-Code: smtp; 550 5.1.1 Mailbox does not exist\r\nStatus: 5.1.1\r\n\r\n\
--s\r\nContent-Type: text/rfc822-headers\r\n\r\n{ORIGINAL}\r\n--s--\r\n"
    );
    let b = one(&raw);
    assert_eq!(b.recipient, "kim@mail.example.net");
    assert_eq!((b.class, b.reason.as_str()), (Class::Soft, "filtered"));
}

#[test]
fn mcafee_delivery_status_no_such_user() {
    let raw = format!(
        "From: <>\r\nTo: news@example.org\r\nSubject: Delivery Status\r\nX-NAI-Header: Modified by McAfee Email Gateway\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
--m\r\nContent-Type: text/plain\r\n\r\n    --- The following addresses had delivery problems ---\r\n\r\n<kim@example.net>   (kim@example.net... No such user)\r\n\r\n\
--m\r\nContent-Type: message/delivery-status\r\n\r\nOriginal-Recipient: <kim@example.net>\r\nAction: failed\r\nDiagnostic-Code: smtp; 550 kim@example.net... No such user\r\nRemote-MTA: 192.0.2.25\r\n\r\n\
--m\r\nContent-Type: message/rfc822\r\n\r\n{ORIGINAL}\r\n--m--\r\n"
    );
    let b = one(&raw);
    assert_eq!(b.recipient, "kim@example.net");
    assert_eq!((b.class, b.reason.as_str()), (Class::Hard, "userunknown"));
}

#[test]
fn verizon_mms_gateway_no_valid_recipients() {
    let raw = "From: postmaster@vzwpix.example\r\nTo: news@example.org\r\nSubject: Returned mail: see transcript for details\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=US-ASCII\r\n\r\n\
Message could not be delivered to mobile.\r\nError: No valid recipients for this MM\r\nOriginal Message:\r\n\
From: News <news@example.org>\r\nTo: 5550100@vzwpix.example\r\nSubject: Cluster News\r\n";
    let b = one(raw);
    assert_eq!(b.recipient, "5550100@vzwpix.example");
    assert_eq!((b.class, b.reason.as_str()), (Class::Hard, "userunknown"));
}

/// A DSN from `relay` whose one group is `group`.
fn dsn(relay_headers: &str, human: &str, group: &str) -> String {
    format!(
        "{relay_headers}To: bounces@example.org\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"d\"\r\n\r\n\
--d\r\nContent-Type: text/plain\r\n\r\n{human}\r\n\r\n\
--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n{group}\r\n\
--d\r\nContent-Type: text/rfc822-headers\r\n\r\n{ORIGINAL}--d--\r\n"
    )
}

#[test]
fn words_of_an_unknown_user_at_no_known_command_are_a_filter() {
    // No command is named anywhere, and the code names another reason: a filter that answers
    // as if the user were unknown, as sisimai reads it. Named at RCPT, the user is unknown.
    let group = |diag: &str| {
        format!(
            "Final-Recipient: rfc822; kim@example.net\r\nAction: failed\r\nStatus: 5.7.1\r\n\
Diagnostic-Code: smtp; {diag}\r\n"
        )
    };
    let head =
        "From: MAILER-DAEMON@mx.example.org\r\nSubject: Delivery Status Notification (Failure)\r\n";
    let b = one(&dsn(
        head,
        "Delivery failed.",
        &group("550 5.7.1 User unknown"),
    ));
    assert_eq!((b.reason.as_str(), b.class), ("filtered", Class::Soft));
    let b = one(&dsn(
        head,
        "<kim@example.net>: host mx.example.net[192.0.2.1] said: 550 5.7.1 User unknown (in reply to RCPT TO command)",
        &group("550 5.7.1 User unknown"),
    ));
    assert_eq!((b.reason.as_str(), b.class), ("userunknown", Class::Hard));
}

#[test]
fn outlook_com_mailbox_unavailable() {
    let head = "Received: from BAY0-OMC1-S1.bay0.hotmail.com ([198.51.100.1]) by mx.example.org\r\n\
From: postmaster@hotmail.example\r\nSubject: Delivery Status Notification (Failure)\r\n";
    let group = "Final-Recipient: rfc822;kim@hotmail.example\r\nAction: failed\r\nStatus: 5.5.0\r\n\
Diagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable (-1234567890:1234:-1234567890)\r\n";
    let b = one(&dsn(
        head,
        "This is an automatically generated Delivery Status Notification.",
        group,
    ));
    assert_eq!(b.recipient, "kim@hotmail.example");
    assert_eq!((b.reason.as_str(), b.class), ("userunknown", Class::Hard));
}

#[test]
fn facebook_names_the_recipient_last() {
    let head = "From: Facebook <mailer-daemon@mx.facebook.com>\r\nSubject: Sorry, your message could not be delivered\r\n";
    let group = "Diagnostic-Code: smtp; 550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp Refused due to recipient preferences\r\n\
Status: 5.1.1\r\nFinal-Recipient: rfc822; kim@facebook.example\r\nAction: failed\r\n";
    let b = one(&dsn(
        head,
        "This message was created automatically by Facebook.",
        group,
    ));
    assert_eq!(b.recipient, "kim@facebook.example");
    assert_eq!((b.reason.as_str(), b.class), ("filtered", Class::Soft));
}

/// An fml notice from the list `list`: its headers, then `text` before the original.
fn fml_notice(subject: &str, text: &str) -> String {
    format!(
        "From: members-admin@lists.example.net\r\nTo: news@example.org\r\nSubject: {subject}\r\n\
Message-ID: <202511291234.FMLAAB0001.members@lists.example.net>\r\nX-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]\r\n\
X-ML-Name: members\r\n\r\n{text}\r\n\r\nOriginal mail as follows:\r\n\r\n{ORIGINAL}"
    )
}

#[test]
fn fml_list_refuses_a_post_from_a_non_member() {
    let b = one(&fml_notice(
        "You news@example.org are not member (members ML)",
        "You are not a member of this mailing list <members@lists.example.net>.\r\n\r\n\
If you know the general guide of this list, please send mail with\r\nthe mail body",
    ));
    assert_eq!(b.recipient, "members@lists.example.net");
    assert_eq!((b.reason.as_str(), b.class), ("rejected", Class::Soft));
}

#[test]
fn fml_loop_alert_names_the_list() {
    let b = one(&fml_notice(
        "Loop Alert: Duplicated Message-ID (members ML)",
        "Duplicated Message-ID in <members@lists.example.net>.",
    ));
    assert_eq!(b.recipient, "members@lists.example.net");
    assert_eq!((b.reason.as_str(), b.class), ("systemerror", Class::Soft));
    // The same words from anything else are no fml notice.
    let other = fml_notice(
        "Loop Alert",
        "Duplicated Message-ID in <members@lists.example.net>.",
    )
    .replace("X-MLServer: fml", "X-MLServer: other");
    assert!(
        bounce::parse(other.as_bytes())
            .bounces
            .iter()
            .all(|b| b.reason.as_str() != "systemerror")
    );
}
