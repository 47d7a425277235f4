//! The deliverability checks end to end: the real `bulletin` binary (`check --dns`, and the
//! bulk send's preflight) against a real DNS server on loopback (dnsmasq) serving the
//! sender's records, right and wrong.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::dnsmasq::Dnsmasq;

const RSA_KEY: &str = include_str!("../src/message/testdata/dkim-rsa.pem");
const RSA_PUB: &str = include_str!("../src/message/testdata/dkim-rsa.pub.b64");
const RSA_1024_KEY: &str = include_str!("../src/message/testdata/dkim-rsa-1024.pem");
const RSA_1024_PUB: &str = include_str!("../src/message/testdata/dkim-rsa-1024.pub.b64");
const ED25519_KEY: &str = include_str!("../src/message/testdata/dkim-ed25519.pem");
const ED25519_PUB: &str = include_str!("../src/message/testdata/dkim-ed25519.pub.b64");

const ISSUE: &str = r#"
subject = "Cluster News, December"
title = "CLUSTER NEWS"

[[sections]]
heading = "One"
body = "A short body."
"#;

/// The sender every test starts from: From and bounces at cluster.test, signed by
/// s1._domainkey.cluster.test, sent through relay.cluster.test.
fn config(nameserver: &str, extra: &str) -> String {
    format!(
        r#"[sender]
name = "Cluster News"
email = "news@cluster.test"
bounce_address = "bounces@cluster.test"
postal_address = "1 Test Road"
unsubscribe_mailto = "unsubscribe@cluster.test"
[smtp]
url = "smtp://relay.cluster.test:587"
[dkim]
domain = "cluster.test"
selector = "s1"
private_key_file = "dkim.pem"
[dns]
nameserver = "{nameserver}"
timeout_secs = 1
{extra}"#
    )
}

/// Records that pass every check.
fn good() -> Vec<String> {
    vec![
        "--txt-record=cluster.test,v=spf1 ip4:192.0.2.0/24 include:_spf.cluster.test -all".into(),
        "--txt-record=_spf.cluster.test,v=spf1 a:out.cluster.test -all".into(),
        format!(
            "--txt-record=s1._domainkey.cluster.test,v=DKIM1; k=rsa; p={}",
            RSA_PUB.trim()
        ),
        "--txt-record=_dmarc.cluster.test,v=DMARC1; p=quarantine; rua=mailto:dmarc@cluster.test"
            .into(),
        "--mx-host=cluster.test,mail.cluster.test,10".into(),
        "--host-record=mail.cluster.test,192.0.2.25".into(),
        "--host-record=out.cluster.test,198.51.100.7".into(),
        "--host-record=relay.cluster.test,192.0.2.10".into(),
    ]
}

/// `good()` with the records whose option starts with `drop` left out, and `add` added.
fn records(drop: &[&str], add: &[&str]) -> Vec<String> {
    let mut r: Vec<String> = good()
        .into_iter()
        .filter(|o| !drop.iter().any(|d| o.starts_with(d)))
        .collect();
    r.extend(add.iter().map(|s| s.to_string()));
    r
}

/// `good()` with relay.cluster.test at `ip`.
fn relay_at(ip: &str) -> Vec<String> {
    records(
        &["--host-record=relay"],
        &[&format!("--host-record=relay.cluster.test,{ip}")],
    )
}

/// `good()` with `v=DKIM1; k=KIND; p=PUBLIC` at s1._domainkey.cluster.test.
fn key_record(kind: &str, public: &str) -> Vec<String> {
    records(
        &["--txt-record=s1._domainkey"],
        &[&format!(
            "--txt-record=s1._domainkey.cluster.test,v=DKIM1; k={kind}; p={}",
            public.trim()
        )],
    )
}

/// A project with the repository's templates, the issue `issues/one`, a three-member list and
/// the RSA key as `dkim.pem`.
fn project(config: &str) -> tempfile::TempDir {
    let dir = support::files::with_templates(config, "one", ISSUE);
    support::files::write(&dir.path().join("dkim.pem"), RSA_KEY.as_bytes());
    support::files::write(
        &dir.path().join("lists/members.csv"),
        b"email,name\na@members.test,A\nb@members.test,B\nc@members.test,C\n",
    );
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(args)
        .current_dir(dir)
        .env_remove("BULLETIN_SMTP_URL")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `bulletin send issues/one --list lists/members.csv --dry-run --yes --outbox box`.
fn send_dry_run(dir: &Path) -> Output {
    run(
        dir,
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--dry-run",
            "--yes",
            "--outbox",
            "box",
        ],
    )
}

/// `bulletin check --dns` with `records` served and `extra` config lines.
fn check_dns(records: &[String], extra: &str) -> Output {
    let dns = Dnsmasq::start(records);
    let dir = project(&config(&dns.address(), extra));
    run(dir.path(), &["check", "--dns"])
}

/// The `--json` line of one check.
fn json_check(o: &Output, name: &str) -> serde_json::Value {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object a line"))
        .find(|v| v["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {}", stdout(o)))
}

fn assert_has(o: &Output, needle: &str) {
    assert!(
        stdout(o).contains(needle),
        "stdout lacks {needle:?}:\n{}{}",
        stdout(o),
        stderr(o)
    );
}

#[test]
fn all_records_right_pass_every_check() {
    let dns = Dnsmasq::start(&good());
    let dir = project(&config(&dns.address(), ""));
    let o = run(dir.path(), &["check", "--dns"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "spf: pass: cluster.test (the bounce domain) has one valid SPF record
  record: v=spf1 ip4:192.0.2.0/24 include:_spf.cluster.test -all
  mechanisms: ip4:192.0.2.0/24, include:_spf.cluster.test, -all
  DNS lookups: 2 of the 10 allowed (RFC 7208 §4.6.4)
  relay relay.cluster.test (192.0.2.10): pass (`ip4:192.0.2.0/24` in the record of cluster.test)
  cannot be known from here: the address the relay actually sends from; a provider's relay often hands mail to other outbound servers than the one you submit to, so follow its documented SPF `include:` if it has one
dkim: pass: s1._domainkey.cluster.test publishes the public half of dkim.pem (rsa-sha256)
dmarc: pass: _dmarc.cluster.test publishes DMARC with policy p=quarantine
  record: v=DMARC1; p=quarantine; rua=mailto:dmarc@cluster.test
  alignment asked: DKIM relaxed, SPF relaxed
alignment: pass: DMARC would pass through an aligned DKIM signature
  DKIM: d=cluster.test aligns with From cluster.test (relaxed)
  SPF: the bounce domain cluster.test aligns with From cluster.test (relaxed)
mx: pass: cluster.test (the bounce domain) receives mail
  MX 10 mail.cluster.test (192.0.2.25)
"
    );
    assert_eq!(
        stderr(&o),
        format!(
            "dns: 5 checks, 0 failed, 0 unknown, 0 warnings (answers from {})\n",
            dns.address()
        )
    );
}

#[test]
fn a_relay_covered_only_through_an_include_passes_by_that_include() {
    let o = check_dns(&relay_at("198.51.100.7"), "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_has(
        &o,
        "relay relay.cluster.test (198.51.100.7): pass (`include:_spf.cluster.test` in the record \
         of cluster.test, then `a:out.cluster.test` in the record of _spf.cluster.test)",
    );
}

#[test]
fn a_relay_the_spf_record_does_not_list_is_a_warning_with_a_record_to_publish() {
    let dns = Dnsmasq::start(&relay_at("203.0.113.9"));
    let dir = project(&config(&dns.address(), ""));
    let o = run(dir.path(), &["check", "--dns", "--json"]);
    // A warning: the relay's outbound address may still be listed.
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let spf = json_check(&o, "spf");
    assert_eq!(spf["status"], "warning");
    assert_eq!(
        spf["summary"],
        "cluster.test has one valid SPF record, but it does not cover the relay"
    );
    assert!(
        spf["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "relay relay.cluster.test (203.0.113.9): fail (`-all` in the record of cluster.test)"),
        "{spf}"
    );
    assert_eq!(
        spf["publish"]["value"],
        "v=spf1 ip4:192.0.2.0/24 include:_spf.cluster.test a:relay.cluster.test -all"
    );
}

#[test]
fn no_dmarc_record_fails_with_a_starter_record_to_publish() {
    let o = check_dns(&records(&["--txt-record=_dmarc"], &[]), "");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "dmarc: fail: no DMARC record for cluster.test (asked _dmarc.cluster.test); \
         Gmail and Yahoo require one of bulk senders\n",
    );
    assert_has(
        &o,
        "  publish: _dmarc.cluster.test. IN TXT \"v=DMARC1; p=none; rua=mailto:news@cluster.test\"\n",
    );
    // Alignment still holds, in DMARC's default relaxed mode.
    assert_has(&o, "alignment: pass:");
}

#[test]
fn a_from_domain_the_signature_and_bounces_do_not_align_with_fails() {
    // From a subdomain of another organisation, whose DMARC record is at its organisational
    // domain and asks for strict DKIM alignment.
    let o = check_dns(
        &records(
            &[],
            &[
                "--txt-record=_dmarc.other.test,v=DMARC1; p=reject; adkim=s; rua=mailto:d@other.test",
            ],
        ),
        "",
    );
    drop(o);
    let dns = Dnsmasq::start(&records(
        &[],
        &["--txt-record=_dmarc.other.test,v=DMARC1; p=reject; adkim=s; rua=mailto:d@other.test"],
    ));
    let cfg = config(&dns.address(), "").replace(
        "email = \"news@cluster.test\"",
        "email = \"news@letters.other.test\"",
    );
    let dir = project(&cfg);
    let o = run(dir.path(), &["check", "--dns"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "dmarc: pass: _dmarc.other.test publishes DMARC with policy p=reject\n",
    );
    assert_has(
        &o,
        "  found at the organisational domain: letters.other.test has no record of its own\n",
    );
    assert_has(
        &o,
        "alignment: fail: neither DKIM nor SPF would align with the From domain letters.other.test: DMARC fails\n  \
         DKIM: d=cluster.test does not align with From letters.other.test (strict)\n  \
         SPF: the bounce domain cluster.test does not align with From letters.other.test (relaxed)\n  \
         fix: sign with [dkim] domain = \"letters.other.test\"",
    );
}

#[test]
fn a_published_key_that_is_not_the_configured_one_fails_with_the_right_record() {
    let dns = Dnsmasq::start(&key_record("rsa", ED25519_PUB));
    let dir = project(&config(&dns.address(), ""));
    let o = run(dir.path(), &["check", "--dns", "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let dkim = json_check(&o, "dkim");
    assert_eq!(dkim["status"], "fail");
    assert_eq!(
        dkim["summary"],
        "s1._domainkey.cluster.test: the published key is not the public half of dkim.pem"
    );
    assert_eq!(dkim["publish"]["name"], "s1._domainkey.cluster.test");
    assert_eq!(dkim["publish"]["type"], "TXT");
    assert_eq!(
        dkim["publish"]["value"],
        format!("v=DKIM1; k=rsa; p={}", RSA_PUB.trim())
    );
    // DKIM no longer carries DMARC; SPF aligns and covers the relay.
    let alignment = json_check(&o, "alignment");
    assert_eq!(alignment["status"], "pass");
    assert!(
        alignment["details"][0]
            .as_str()
            .unwrap()
            .ends_with("but the key record does not verify (see dkim)"),
        "{alignment}"
    );
}

#[test]
fn an_ed25519_key_matches_its_published_record() {
    let dns = Dnsmasq::start(&key_record("ed25519", ED25519_PUB));
    let dir = project(&config(&dns.address(), ""));
    support::files::write(&dir.path().join("dkim.pem"), ED25519_KEY.as_bytes());
    let o = run(dir.path(), &["check", "--dns"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_has(
        &o,
        "dkim: pass: s1._domainkey.cluster.test publishes the public half of dkim.pem (ed25519-sha256)\n",
    );
}

#[test]
fn an_rsa_key_under_2048_bits_verifies_but_is_a_warning() {
    let dns = Dnsmasq::start(&key_record("rsa", RSA_1024_PUB));
    let dir = project(&config(&dns.address(), ""));
    support::files::write(&dir.path().join("dkim.pem"), RSA_1024_KEY.as_bytes());
    let o = run(dir.path(), &["check", "--dns", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dkim = json_check(&o, "dkim");
    assert_eq!(dkim["status"], "warning", "{dkim}");
    assert!(
        dkim["details"][0].as_str().unwrap().starts_with(
            "dkim.pem is an RSA key of 1024 bits: RFC 8301 asks signers for at least 2048"
        ),
        "{dkim}"
    );
    assert!(
        dkim["fix"]
            .as_str()
            .unwrap()
            .contains("rsa_keygen_bits:2048"),
        "{dkim}"
    );
    // The 2048-bit key of every other test passes without it.
    let dns = Dnsmasq::start(&good());
    let dir = project(&config(&dns.address(), ""));
    let o = run(dir.path(), &["check", "--dns", "--json"]);
    assert_eq!(json_check(&o, "dkim")["status"], "pass");
}

#[test]
fn a_missing_key_record_is_printed_split_for_a_zone_file() {
    let o = check_dns(&records(&["--txt-record=s1._domainkey"], &[]), "");
    assert_eq!(o.status.code(), Some(3));
    let value = format!("v=DKIM1; k=rsa; p={}", RSA_PUB.trim());
    let (a, b) = value.split_at(255);
    assert_has(
        &o,
        "dkim: fail: no DKIM key record at s1._domainkey.cluster.test: the name does not exist (NXDOMAIN)\n",
    );
    assert_has(
        &o,
        &format!("  publish: s1._domainkey.cluster.test. IN TXT \"{a}\" \"{b}\"\n"),
    );
}

#[test]
fn a_bounce_domain_without_mx_or_address_fails() {
    let o = check_dns(&records(&["--mx-host", "--host-record=mail"], &[]), "");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "mx: fail: cluster.test (the bounce domain) has no MX and no A/AAAA record: \
         bounces and reports cannot come back\n",
    );
    // The address of the domain is the implicit MX (RFC 5321 §5.1).
    let o = check_dns(
        &records(
            &["--mx-host", "--host-record=mail"],
            &["--host-record=cluster.test,192.0.2.26"],
        ),
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_has(
        &o,
        "mx: pass: cluster.test (the bounce domain) has no MX record; mail goes to its address (192.0.2.26)",
    );
}

#[test]
fn an_spf_record_that_does_not_parse_fails_naming_the_term() {
    let o = check_dns(
        &records(
            &["--txt-record=cluster.test"],
            &["--txt-record=cluster.test,v=spf1 ip4:192.0.2.300 mx -all"],
        ),
        "",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "spf: fail: the SPF record of cluster.test does not parse: `ip4:192.0.2.300`: \
         `192.0.2.300` is not an IPv4 address\n",
    );
    assert_has(
        &o,
        "  publish: cluster.test. IN TXT \"v=spf1 mx a:relay.cluster.test -all\"\n",
    );
}

#[test]
fn a_missing_record_and_a_missing_name_are_told_apart() {
    // cluster.test exists (it has an MX) but holds no TXT: no data, not NXDOMAIN.
    let o = check_dns(&records(&["--txt-record=cluster.test"], &[]), "");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "spf: fail: cluster.test (the bounce domain) has no SPF record: no TXT record\n",
    );
    assert_has(
        &o,
        "  publish: cluster.test. IN TXT \"v=spf1 a:relay.cluster.test ~all\"\n",
    );
    // A bounce domain that does not exist at all.
    let dns = Dnsmasq::start(&good());
    let cfg =
        config(&dns.address(), "").replace("bounces@cluster.test", "bounces@gone.cluster.test");
    let dir = project(&cfg);
    let o = run(dir.path(), &["check", "--dns"]);
    assert_has(
        &o,
        "spf: fail: gone.cluster.test (the bounce domain) has no SPF record: the name does not \
         exist (NXDOMAIN)\n",
    );
    assert_has(
        &o,
        "mx: fail: gone.cluster.test (the bounce domain) does not exist (NXDOMAIN): bounces \
         cannot come back\n",
    );
}

#[test]
fn two_spf_records_fail_and_one_merged_record_is_suggested() {
    let dns = Dnsmasq::start(&records(
        &[],
        &["--txt-record=cluster.test,v=spf1 include:_spf.provider.test ~all"],
    ));
    let dir = project(&config(&dns.address(), ""));
    let o = run(dir.path(), &["check", "--dns"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "spf: fail: cluster.test has 2 SPF records; receivers treat that as a permanent error \
         (RFC 7208 §4.5): merge them into one\n",
    );
    // The records come in either order: the merged record holds the terms of both, no term
    // for the relay (ip4:192.0.2.0/24 lists its address), and `~all` where they disagree.
    let o = run(dir.path(), &["check", "--dns", "--json"]);
    let spf = json_check(&o, "spf");
    let value = spf["publish"]["value"].as_str().unwrap();
    let mut terms: Vec<&str> = value.split(' ').collect();
    assert_eq!(terms.remove(0), "v=spf1");
    assert_eq!(terms.pop(), Some("~all"));
    terms.sort();
    assert_eq!(
        terms,
        [
            "include:_spf.cluster.test",
            "include:_spf.provider.test",
            "ip4:192.0.2.0/24"
        ]
    );
}

#[test]
fn more_than_ten_lookups_is_a_permanent_error() {
    // Eleven includes, each a real record.
    let mut add: Vec<String> = (1..=11)
        .map(|n| format!("--txt-record=i{n}.cluster.test,v=spf1 -all"))
        .collect();
    let includes: Vec<String> = (1..=11)
        .map(|n| format!("include:i{n}.cluster.test"))
        .collect();
    add.push(format!(
        "--txt-record=cluster.test,v=spf1 {} ip4:192.0.2.0/24 -all",
        includes.join(" ")
    ));
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    let o = check_dns(&records(&["--txt-record=cluster.test"], &add), "");
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert_has(
        &o,
        "spf: fail: receivers will get a permanent error from the SPF record of cluster.test: \
         more than 10 DNS lookups (RFC 7208 §4.6.4)\n",
    );
}

#[test]
fn a_server_that_never_answers_is_reported_as_a_timeout() {
    // A bound UDP socket that reads nothing and answers nothing.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap().to_string();
    let dir = project(&config(&address, ""));
    let started = Instant::now();
    let o = run(dir.path(), &["check", "--dns"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let timeout = format!("no answer from {address} within 1s (timeout)");
    assert_has(
        &o,
        &format!("dkim: unknown: TXT s1._domainkey.cluster.test: {timeout}\n"),
    );
    assert_has(
        &o,
        &format!("dmarc: unknown: TXT _dmarc.cluster.test: {timeout}\n"),
    );
    assert_has(&o, &format!("mx: unknown: MX cluster.test: {timeout}\n"));
    // Nothing is known, so nothing is said to fail.
    assert_has(
        &o,
        "alignment: unknown: whether DMARC would pass is unknown: the DNS did not answer\n",
    );
    assert!(stdout(&o).starts_with("spf: unknown: "), "{}", stdout(&o));
    // Not a speed figure: a guard against retries or sequential lookups multiplying the
    // configured second into a hang.
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

/// A dry-run send with `records` served and `extra` config lines; the project is kept for a
/// look at its outbox.
fn dry_run_with(records: &[String], extra: &str) -> (tempfile::TempDir, Output) {
    let dns = Dnsmasq::start(records);
    let dir = project(&config(&dns.address(), extra));
    let o = send_dry_run(dir.path());
    (dir, o)
}

fn assert_stderr_has(o: &Output, needle: &str) {
    assert!(
        stderr(o).contains(needle),
        "stderr lacks {needle:?}:\n{}",
        stderr(o)
    );
}

#[test]
fn a_dry_run_send_shows_the_dns_warnings_and_sends() {
    let (dir, o) = dry_run_with(&records(&["--txt-record=_dmarc"], &[]), "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_stderr_has(
        &o,
        "\nwarning: dns: dmarc: fail: no DMARC record for cluster.test (asked _dmarc.cluster.test)",
    );
    assert_stderr_has(
        &o,
        "  publish: _dmarc.cluster.test. IN TXT \"v=DMARC1; p=none; rua=mailto:news@cluster.test\"\n",
    );
    let written = std::fs::read_dir(dir.path().join("box")).unwrap().count();
    assert_eq!(written, 3);

    // A warning reads as one.
    let relay_elsewhere = relay_at("203.0.113.9");
    let (_dir, o) = dry_run_with(&relay_elsewhere, "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_stderr_has(
        &o,
        "\nwarning: dns: spf: cluster.test has one valid SPF record, but it does not cover the relay\n",
    );

    // All right: one line says so.
    let (_dir, o) = dry_run_with(&good(), "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_stderr_has(&o, "\ndns: spf, dkim, dmarc, alignment, mx pass\n");
}

#[test]
fn a_send_with_json_prints_the_dns_checks_on_stdout() {
    let dns = Dnsmasq::start(&records(&["--txt-record=_dmarc"], &[]));
    let dir = project(&config(&dns.address(), ""));
    let mut args = vec!["send", "issues/one", "--list", "lists/members.csv"];
    args.extend(["--dry-run", "--yes", "--outbox", "box", "--json"]);
    let o = run(dir.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dns = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find_map(|d| d.get("dns").cloned())
        .unwrap_or_else(|| panic!("no dns document:\n{}", stdout(&o)));
    let checks: Vec<(&str, &str)> = dns["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [
            ("spf", "pass"),
            ("dkim", "pass"),
            ("dmarc", "fail"),
            ("alignment", "pass"),
            ("mx", "pass")
        ]
    );
}

#[test]
fn require_authentication_refuses_before_anything_is_sent() {
    let dns = Dnsmasq::start(&records(&["--txt-record=_dmarc"], &[]));
    let dir = project(&config(
        &dns.address(),
        "[send]\nrequire_authentication = true\n",
    ));
    let refused = "error: the sender's DNS fails dmarc ([send] require_authentication = true): \
                   nothing was sent; `bulletin check --dns` shows the records to publish\n";
    let o = send_dry_run(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_stderr_has(&o, "error: dns: dmarc: fail: no DMARC record");
    assert!(stderr(&o).ends_with(refused), "{}", stderr(&o));
    assert!(!dir.path().join("box").exists());

    // A real send stops at the same place: before the relay is even reached (nothing listens
    // there) and before any journal records a member.
    let port = support::free_port();
    let o = run(
        dir.path(),
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--yes",
            "--smtp",
            &format!("smtp://127.0.0.1:{port}"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).ends_with(refused), "{}", stderr(&o));
    let journals = dir.path().join(".bulletin/journals");
    let recorded = std::fs::read_dir(&journals)
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect::<String>()
        })
        .unwrap_or_default();
    assert!(!recorded.contains("members.test"), "{recorded}");

    // With the record published, the same send goes ahead.
    let (_dir, o) = dry_run_with(&good(), "[send]\nrequire_authentication = true\n");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_reserved_example_domain_fails_without_asking_the_dns() {
    let dir = project(
        "[sender]\nemail = \"news@example.org\"\npostal_address = \"1 Test Road\"\n\
         unsubscribe_mailto = \"unsubscribe@example.org\"\n[dns]\ntimeout_secs = 1\n",
    );
    let o = run(dir.path(), &["check", "--dns"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "sender: fail: example.org is reserved for examples (RFC 2606): no mail from it reaches anyone\n  \
         fix: set [sender] email (and bounce_address) to addresses at your own domain\n"
    );
    assert_eq!(
        stderr(&o),
        "dns: 1 check, 1 failed, 0 unknown, 0 warnings (the DNS was not asked)\n"
    );
}

#[test]
fn check_without_an_issue_or_dns_is_a_usage_error() {
    let dir = project(&config("127.0.0.1:53", ""));
    let o = run(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn an_smtp_url_in_the_environment_leaves_the_issue_check_alone() {
    let dir = project(&config("127.0.0.1:53", ""));
    let o = Command::new(env!("CARGO_BIN_EXE_bulletin"))
        .args(["check", "issues/one"])
        .current_dir(dir.path())
        .env("BULLETIN_SMTP_URL", "smtp://me@relay.cluster.test:587")
        .output()
        .expect("the binary runs");
    assert!(
        stderr(&o).starts_with("issues/one: ") || stderr(&o).contains("\nissues/one: "),
        "{}",
        stderr(&o)
    );
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_nameserver_that_is_not_an_address_is_a_config_error() {
    let dir = project(&config("dns.cluster.test", ""));
    for args in [
        &["check", "--dns"][..],
        &[
            "send",
            "issues/one",
            "--list",
            "lists/members.csv",
            "--dry-run",
            "--yes",
        ][..],
    ] {
        let o = run(dir.path(), args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).ends_with(
                "bulletin.toml: [dns] nameserver \"dns.cluster.test\" is not an IP address or \
                 IP:PORT (e.g. 127.0.0.1:5353)\n"
            ),
            "{}",
            stderr(&o)
        );
    }
}
