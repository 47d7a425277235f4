"""Write N synthetic bounce reports into a folder, for scripts/differential-bounces.sh.

Each report puts one remote server's reply (from the list below, in the words mail systems
and providers are known to use) in one of five layouts (a generic RFC 3464 DSN, Postfix's
DSN, Exim's and qmail's text bounces, Sendmail's DSN with its transcript), under a status
code and an SMTP command drawn at random, so that the code, the command and the words
sometimes agree and sometimes do not.

    python3 synthetic-bounces.py OUT_DIR N SEED
"""

import os
import random
import sys

REPLIES = [
    "<{r}>: Recipient address rejected: User unknown in virtual mailbox table",
    "<{r}>: Recipient address rejected: User unknown in local recipient table",
    "The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos",
    "Requested action not taken: mailbox unavailable",
    "No such user here",
    "{r}... User unknown",
    "Sorry, no mailbox here by that name.",
    "This user doesn't have a example.net account",
    "Invalid recipient",
    "Mailbox does not exist",
    "unknown user: \"kim\"",
    "The email account that you tried to reach is over quota.",
    "Mailbox full",
    "Quota exceeded (mailbox for user is full)",
    "user is over quota",
    "Message size exceeds fixed maximum message size",
    "Message too large",
    "Relay access denied",
    "relaying denied",
    "Client host rejected: cannot find your hostname, [192.0.2.9]",
    "Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org",
    "Blocked - see https://www.spamcop.net/bl.shtml?192.0.2.9",
    "Access denied, banned sending IP [192.0.2.9]",
    "Message rejected as spam",
    "Our system has detected that this message is likely unsolicited mail.",
    "Message rejected due to content restrictions",
    "Virus found in message",
    "Too many connections from your host",
    "Too many concurrent SMTP connections; please try again later.",
    "Greylisted, please try again later",
    "Connection timed out",
    "Host or domain name not found. Name service error for name=example.net type=A: Host not found",
    "Domain not found",
    "Mailbox disabled, not accepting messages",
    "This account has been disabled or discontinued",
    "Account suspended",
    "SPF check failed",
    "Unauthenticated email from example.org is not accepted due to domain's DMARC policy.",
    "Must issue a STARTTLS command first",
    "Sender address rejected: Domain not found",
    "Sender address rejected: not owned by user",
    "Message rejected under suspicion of SPAM",
    "Local Policy Violation",
    "Rejected by policy",
    "Temporary local problem - please try later",
    "System error",
    "Internal server error",
    "Delivery not authorized, message refused",
    "Mail appears to be unsolicited -- send error reports to postmaster",
    "We do not accept mail from this domain",
    "Recipient not found",
    "Address rejected",
    "mailbox unavailable",
    "user not found",
    "no mailbox by that name is currently available",
    "Requested mail action aborted: exceeded storage allocation",
    "Insufficient system storage",
    "Header size exceeds maximum permitted",
    "Too many hops",
    "I am out of the office",
    "Message expired",
]
STATUSES = [None, None, "5.0.0", "4.0.0", "5.1.1", "4.1.1", "5.1.2", "5.1.0", "5.2.1",
            "5.2.2", "4.2.2", "5.3.4", "5.4.1", "4.4.1", "4.4.7", "5.5.0", "5.7.1",
            "4.7.1", "5.7.0", "5.7.26"]
COMMANDS = [None, "RCPT TO", "RCPT TO", "MAIL FROM", "DATA", "end of DATA"]
LAYOUTS = ["dsn", "postfix", "exim", "qmail", "sendmail"]


def original(rcpt, i):
    return (f"Return-Path: <news@example.org>\nFrom: news@example.org\nTo: {rcpt}\n"
            f"Subject: Cluster News\nMessage-Id: <n{i}@example.org>\n\nHello.\n")


def head(sender, subject, i, extra=""):
    return (f"Return-Path: <>\nReceived: by mx.example.org; Mon, 1 Dec 2025 10:00:05 +0000\n"
            f"Date: Mon, 1 Dec 2025 10:00:05 +0000\nFrom: {sender}\nTo: bounces@example.org\n"
            f"Subject: {subject}\nMessage-Id: <r{i}@mx.example.org>\n{extra}")


def report(i, rnd):
    rcpt = f"m{i}@example.net"
    words = rnd.choice(REPLIES).format(r=rcpt)
    status = rnd.choice(STATUSES)
    command = rnd.choice(COMMANDS)
    temporary = status.startswith("4") if status else rnd.random() < 0.2
    code = rnd.choice(["450", "451", "452"] if temporary else ["550", "550", "553", "554"])
    reply = f"{code} {status + ' ' if status else ''}{words}"
    field = status or f"{code[0]}.0.0"
    layout = rnd.choice(LAYOUTS)
    multipart = "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    if layout in ("dsn", "postfix"):
        if layout == "postfix":
            said = f" (in reply to {command} command)" if command else ""
            human = ("This is the mail system at host mx.example.org.\n\nI'm sorry to have to inform you "
                     "that your message could not\nbe delivered to one or more recipients. It's attached below.\n\n"
                     f"<{rcpt}>: host mx.example.net[192.0.2.1] said: {reply}{said}\n")
            sender, subject = "MAILER-DAEMON@mx.example.org (Mail Delivery System)", "Undelivered Mail Returned to Sender"
        else:
            human = f"Delivery to the following recipients failed.\n\n       {rcpt}\n"
            sender, subject = "postmaster@mx.example.org", "Delivery Status Notification (Failure)"
        action = "delayed" if temporary and rnd.random() < 0.5 else "failed"
        return head(sender, subject, i, multipart) + (
            f"\n--B\nContent-Type: text/plain\n\n{human}\n--B\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; {rcpt}\nAction: {action}\n"
            f"Status: {field}\nRemote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; {reply}\n\n"
            f"--B\nContent-Type: text/rfc822-headers\n\n{original(rcpt, i)}\n--B--\n")
    if layout == "exim":
        after = {None: "RCPT TO:<" + rcpt + ">", "RCPT TO": "RCPT TO:<" + rcpt + ">",
                 "MAIL FROM": "MAIL FROM:<news@example.org>", "DATA": "DATA",
                 "end of DATA": "end of data"}[command]
        return head("Mail Delivery System <Mailer-Daemon@mx.example.org>",
                    "Mail delivery failed: returning message to sender", i,
                    f"X-Failed-Recipients: {rcpt}\nAuto-Submitted: auto-replied\n") + (
            "\nThis message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {rcpt}\n    host mx.example.net [192.0.2.1]\n"
            f"    SMTP error from remote mail server after {after}:\n    {reply}\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            + original(rcpt, i))
    if layout == "qmail":
        stage = {None: "does not like recipient.", "RCPT TO": "does not like recipient.",
                 "MAIL FROM": "does not like sender.", "DATA": "failed after I sent the message.",
                 "end of DATA": "failed after I sent the message."}[command]
        return head("MAILER-DAEMON@mx.example.org", "failure notice", i) + (
            "\nHi. This is the qmail-send program at mx.example.org.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            f"<{rcpt}>:\n192.0.2.1 {stage}\nRemote host said: {reply}\nGiving up on 192.0.2.1.\n\n"
            "--- Below this line is a copy of the message.\n\n" + original(rcpt, i))
    sent = {None: "RCPT To:<" + rcpt + ">", "RCPT TO": "RCPT To:<" + rcpt + ">",
            "MAIL FROM": "MAIL From:<news@example.org> SIZE=1000", "DATA": "DATA",
            "end of DATA": "."}[command]
    return head("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>",
                "Returned mail: see transcript for details", i, multipart) + (
        "\n--B\nContent-Type: text/plain\n\n"
        "   ----- The following addresses had permanent fatal errors -----\n"
        f"<{rcpt}>\n    (reason: {reply})\n\n   ----- Transcript of session follows -----\n"
        f"... while talking to mx.example.net.:\n>>> {sent}\n<<< {reply}\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: RFC822; {rcpt}\nAction: failed\nStatus: {field}\n"
        f"Remote-MTA: DNS; mx.example.net\nDiagnostic-Code: SMTP; {reply}\n\n"
        f"--B\nContent-Type: message/rfc822\n\n{original(rcpt, i)}\n--B--\n")


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        with open(os.path.join(out, f"r{i:05d}.eml"), "w") as f:
            f.write(report(i, rnd))


main()
