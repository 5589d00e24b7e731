//! The measured quality of `lint`: a mutation corpus of single typos of every class applied to
//! names and values of generated fleets (and the example fleet), and legitimate changes that
//! must not be flagged. Asserts recall >= 95% on the typos and <= 2% flagged among the
//! legitimate changes, and prints both figures (README, "lint quality").

use std::path::Path;

use dns_audit::lint::{lint_zone, Level, LintSettings};
use dns_audit::zonefile::{load_zone_bytes, LoadedZone, ZoneLimits};
use hickory_proto::rr::Name;

/// A small deterministic generator (xorshift64*), so the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A fleet: hosts `{prefix}{number}` with addresses that end with their number.
#[derive(Clone)]
struct Fleet {
    origin: String,
    prefix: String,
    width: usize,
    hosts: Vec<u64>,
    v4: String,
    v6: String,
    panels: bool,
    serial: u32,
    ttl: u32,
}

impl Fleet {
    fn host(&self, n: u64) -> String {
        format!("{}{:0width$}", self.prefix, n, width = self.width)
    }

    fn text(&self) -> String {
        let mut t = format!(
            "$ORIGIN {o}\n$TTL 3600\n@ IN SOA ns1 hostmaster ( {s} 3600 900 1209600 300 )\n@ IN NS ns1\n@ IN NS ns2\n\
             ns1 IN A 192.0.2.53\nns2 IN A 192.0.2.54\n@ IN MX 10 mx1\nmx1 IN A 192.0.2.25\n\
             mail._domainkey IN TXT ( \"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOC\" )\n",
            o = self.origin,
            s = self.serial
        );
        for &n in &self.hosts {
            t.push_str(&self.records(n, &self.host(n), &self.v4_of(n), &self.v6_of(n)));
        }
        t
    }

    fn v4_of(&self, n: u64) -> String {
        format!("{}.{n}", self.v4)
    }

    fn v6_of(&self, n: u64) -> String {
        format!("{}::{n}", self.v6)
    }

    fn records(&self, n: u64, host: &str, v4: &str, v6: &str) -> String {
        let mut t = format!(
            "{host} {ttl} IN A {v4}\n{host} {ttl} IN AAAA {v6}\n",
            ttl = self.ttl
        );
        if self.panels && n.is_multiple_of(3) {
            t.push_str(&format!(
                "panel.{host} {ttl} IN CNAME {host}\n",
                ttl = self.ttl
            ));
        }
        t
    }

    fn next(&self) -> u64 {
        self.hosts.iter().max().copied().unwrap_or(0) + 1
    }

    fn bumped(&self) -> Fleet {
        Fleet {
            serial: self.serial + 1,
            ..self.clone()
        }
    }
}

fn fleets() -> Vec<Fleet> {
    let mut rng = Rng(0x5eed_d15a_0d17);
    let prefixes = ["bh", "bot", "node", "web", "srv", "edge"];
    let v4s = ["203.0.113", "198.51.100", "192.0.2"];
    let mut out = Vec::new();
    for i in 0..24 {
        let count = 12 + rng.below(40) as u64;
        let width = if i % 3 == 0 { 3 } else { 2 };
        out.push(Fleet {
            origin: format!("fleet{i}.example.net."),
            prefix: prefixes[i % prefixes.len()].to_string(),
            width,
            hosts: (1..=count).collect(),
            v4: v4s[i % v4s.len()].to_string(),
            v6: format!("2001:db8:{:x}", 0x100 + i),
            panels: i % 2 == 0,
            serial: 2026112400,
            ttl: 300,
        });
    }
    out
}

fn load(origin: &str, text: &str) -> Result<LoadedZone, ()> {
    let origin = Name::from_ascii(origin).unwrap();
    load_zone_bytes(
        Path::new("fleet.zone"),
        text.as_bytes(),
        &origin,
        ZoneLimits::default(),
    )
    .map_err(|_| ())
}

/// Whether lint flags `proposed` against `base` (a parse error counts: it stops the change).
fn flagged(origin: &str, base: &str, proposed: &str) -> bool {
    let base = load(origin, base).expect("base fleet loads").zone;
    let Ok(current) = load(origin, proposed) else {
        return true;
    };
    let settings = LintSettings {
        mass_change_share: 0.3,
        ..LintSettings::default()
    };
    lint_zone(&current, "fleet.zone", Some(&base), &settings, 1)
        .iter()
        .any(|f| matches!(f.level, Level::Error | Level::Warning))
}

/// The slips of dnstwist's classes, applied to `s` at position `at`.
fn slips(s: &str, rng: &mut Rng) -> Vec<(&'static str, String)> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let i = rng.below(c.len().max(1));
    let at = |v: Vec<char>| v.into_iter().collect::<String>();
    if c.len() >= 2 {
        let j = i.min(c.len() - 2);
        let mut v = c.clone();
        v.swap(j, j + 1);
        if v != c {
            out.push(("transposition", at(v)));
        }
    }
    let mut v = c.clone();
    v.remove(i);
    out.push(("omission", at(v)));
    let mut v = c.clone();
    v.insert(i, c[i]);
    out.push(("repetition", at(v)));
    let mut v = c.clone();
    let extra = if c[i].is_ascii_digit() { '7' } else { 'x' };
    v.insert(i, extra);
    out.push(("insertion", at(v)));
    let mut v = c.clone();
    v[i] = if c[i].is_ascii_digit() {
        char::from(b'0' + ((c[i] as u8 - b'0' + 1 + rng.below(8) as u8) % 10))
    } else if c[i] == 'q' {
        'w'
    } else {
        'q'
    };
    out.push(("replacement", at(v)));
    let neighbours = [
        ('b', 'v'),
        ('h', 'j'),
        ('o', 'p'),
        ('t', 'r'),
        ('e', 'w'),
        ('s', 'a'),
        ('n', 'm'),
        ('d', 'f'),
        ('w', 'e'),
        ('g', 'h'),
        ('r', 't'),
    ];
    if let Some(k) = c
        .iter()
        .position(|ch| neighbours.iter().any(|(a, _)| a == ch))
    {
        let mut v = c.clone();
        v[k] = neighbours
            .iter()
            .find(|(a, _)| *a == c[k])
            .map(|(_, b)| *b)
            .unwrap_or('x');
        out.push(("keyboard neighbour", at(v)));
    }
    out.into_iter()
        .filter(|(_, t)| t != s && !t.is_empty())
        .collect()
}

#[test]
fn lint_catches_typos_and_leaves_legitimate_changes_alone() {
    let mut rng = Rng(0x7070_1717_1818);
    let mut typos = (0usize, 0usize);
    let mut legit = (0usize, 0usize);
    let mut missed = Vec::new();
    let mut noisy = Vec::new();
    for fleet in fleets() {
        let base = fleet.text();
        let origin = fleet.origin.clone();
        let next = fleet.next();
        let bumped = fleet.bumped();
        let intended_host = fleet.host(next);
        let (v4, v6) = (fleet.v4_of(next), fleet.v6_of(next));
        let setup = |host: &str, v4: &str, v6: &str| {
            format!("{}{}", bumped.text(), fleet.records(next, host, v4, v6))
        };

        let mut check = |class: String, proposed: String, typo: bool| {
            let hit = flagged(&origin, &base, &proposed);
            if typo {
                typos.1 += 1;
                typos.0 += usize::from(hit);
                if !hit {
                    missed.push(format!("{origin} {class}"));
                }
            } else {
                legit.1 += 1;
                legit.0 += usize::from(hit);
                if hit {
                    noisy.push(format!("{origin} {class}"));
                }
            }
        };

        // Typos in the name of the host being set up.
        for (class, name) in slips(&intended_host, &mut rng) {
            check(
                format!("name {class} {intended_host} -> {name}"),
                setup(&name, &v4, &v6),
                true,
            );
        }
        // A dot or hyphen slip between prefix and number.
        let digits = &intended_host[fleet.prefix.len()..];
        check(
            format!("name dot slip {intended_host}"),
            setup(&format!("{}.{digits}", fleet.prefix), &v4, &v6),
            true,
        );
        check(
            format!("name hyphen slip {intended_host}"),
            setup(&format!("{}-{digits}", fleet.prefix), &v4, &v6),
            true,
        );
        // Typos in the addresses of the host being set up.
        let last = next.to_string();
        for (class, typed) in slips(&last, &mut rng) {
            let value = format!("{}.{typed}", fleet.v4);
            check(
                format!("IPv4 last octet {class} {v4} -> {value}"),
                setup(&intended_host, &value, &v6),
                true,
            );
            let value6 = format!("{}::{typed}", fleet.v6);
            check(
                format!("IPv6 last group {class} {v6} -> {value6}"),
                setup(&intended_host, &v4, &value6),
                true,
            );
        }
        let octets: Vec<&str> = fleet.v4.split('.').collect();
        let third = octets[2];
        for (class, typed) in slips(third, &mut rng) {
            let value = format!("{}.{}.{typed}.{next}", octets[0], octets[1]);
            check(
                format!("IPv4 wrong octet {class} {v4} -> {value}"),
                setup(&intended_host, &value, &v6),
                true,
            );
        }
        // The incident: setting up the next host also puts its address on an existing one.
        let victim = fleet.host(fleet.hosts[rng.below(fleet.hosts.len())]);
        check(
            format!("record slipped onto {victim}"),
            format!(
                "{}{victim} {} IN A {v4}\n",
                setup(&intended_host, &v4, &v6),
                fleet.ttl
            ),
            true,
        );
        // A CNAME target without its trailing dot.
        check(
            "missing trailing dot".into(),
            format!(
                "{}www{next} IN CNAME {intended_host}.{}\n",
                setup(&intended_host, &v4, &v6),
                origin.trim_end_matches('.')
            ),
            true,
        );

        // Legitimate: the next host of the series, with its next free addresses.
        check("next host".into(), setup(&intended_host, &v4, &v6), false);
        // Legitimate: two new hosts at once.
        let two = format!(
            "{}{}",
            setup(&intended_host, &v4, &v6),
            fleet.records(
                next + 1,
                &fleet.host(next + 1),
                &fleet.v4_of(next + 1),
                &fleet.v6_of(next + 1)
            )
        );
        check("two next hosts".into(), two, false);
        // Legitimate: renumbering the whole subnet.
        let renumbered = Fleet {
            v4: "198.18.7".into(),
            ..bumped.clone()
        };
        check("subnet renumbering".into(), renumbered.text(), false);
        // Legitimate: a TTL policy change across all hosts.
        let ttl = Fleet {
            ttl: 900,
            ..bumped.clone()
        };
        check("TTL policy".into(), ttl.text(), false);
        // Legitimate: a new DKIM key.
        check(
            "new DKIM key".into(),
            format!("{}s2026._domainkey IN TXT ( \"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCXYZ\" )\n", bumped.text()),
            false,
        );
        // Legitimate: a new host outside the series, at a free address of the subnet.
        check(
            "new unnumbered host".into(),
            format!(
                "{}status {} IN A {}.200\n",
                bumped.text(),
                fleet.ttl,
                fleet.v4
            ),
            false,
        );
        // Legitimate: decommissioning one host.
        let gone = fleet.hosts[rng.below(fleet.hosts.len())];
        let fewer = Fleet {
            hosts: fleet.hosts.iter().copied().filter(|n| *n != gone).collect(),
            ..bumped.clone()
        };
        check("decommission a host".into(), fewer.text(), false);
    }
    // The example fleet of the repository, set up with bh21 in the same ways.
    let example = include_str!("../../expected-records/bots.example.net.zone");
    let origin = "bots.example.net.";
    let bumped = example.replace("2026112401", "2026112402");
    let setup =
        |host: &str, v4: &str, v6: &str| format!("{bumped}{host} IN A {v4}\n{host} IN AAAA {v6}\n");
    let mut run = |class: String, proposed: String, typo: bool| {
        let hit = flagged(origin, example, &proposed);
        let (counts, list) = if typo {
            (&mut typos, &mut missed)
        } else {
            (&mut legit, &mut noisy)
        };
        counts.1 += 1;
        counts.0 += usize::from(hit);
        if hit != typo {
            list.push(format!("example {class}"));
        }
    };
    for (class, name) in slips("bh21", &mut rng) {
        run(
            format!("name {class} bh21 -> {name}"),
            setup(&name, "203.0.113.21", "2001:db8:100::21"),
            true,
        );
    }
    for (class, typed) in slips("21", &mut rng) {
        run(
            format!("IPv4 {class} -> {typed}"),
            setup("bh21", &format!("203.0.113.{typed}"), "2001:db8:100::21"),
            true,
        );
    }
    run(
        "the incident".into(),
        format!(
            "{}bh17 IN A 203.0.113.21\n",
            setup("bh21", "203.0.113.21", "2001:db8:100::21")
        ),
        true,
    );
    run(
        "next host".into(),
        setup("bh21", "203.0.113.21", "2001:db8:100::21"),
        false,
    );

    let recall = typos.0 as f64 / typos.1 as f64;
    let noise = legit.0 as f64 / legit.1 as f64;
    println!(
        "lint quality: recall {:.1}% ({} of {} typos flagged); flagged {:.1}% of legitimate changes ({} of {})",
        recall * 100.0, typos.0, typos.1, noise * 100.0, legit.0, legit.1
    );
    assert!(typos.1 >= 300, "the corpus is too small: {}", typos.1);
    assert!(recall >= 0.95, "recall {recall:.3}; missed: {missed:#?}");
    assert!(noise <= 0.02, "noise {noise:.3}; flagged: {noisy:#?}");
}

/// Fleets that name hosts by words, not numbers (as most real repositories do): a slip of the
/// hand on an existing name is an error, a new word near one is at most a warning, and renames,
/// aliases, decommissions and new words fail nothing.
#[test]
fn fleets_of_words_are_judged_by_slips_of_the_hand() {
    const WORDS: [&str; 14] = [
        "gitlab",
        "grafana",
        "status",
        "docs",
        "wiki",
        "backup",
        "monitor",
        "builder",
        "registry",
        "storage",
        "jenkins",
        "prometheus",
        "keycloak",
        "nextcloud",
    ];
    const NEW: [&str; 4] = ["vaultwarden", "matrix", "zulip", "outline"];
    let origin = "lab.example.net.";
    let mut rng = Rng(0x0bad_5eed_0042);
    let text = |serial: u32, hosts: &[(String, String)], extra: &str| {
        let mut t = format!(
            "$ORIGIN {origin}\n$TTL 3600\n@ SOA ns1 hostmaster ( {serial} 3600 900 1209600 300 )\n\
             @ NS ns1\nns1 A 192.0.2.53\n@ A 192.0.2.80\n"
        );
        for (host, address) in hosts {
            t.push_str(&format!("{host} A {address}\n"));
        }
        t.push_str(extra);
        t
    };
    let hosts: Vec<(String, String)> = WORDS
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), format!("198.51.100.{}", 10 + i * 7)))
        .collect();
    let base = text(2026113001, &hosts, "");
    let errors_and_warnings = |proposed: &str| -> (usize, usize) {
        let base = load(origin, &base).expect("base loads").zone;
        let Ok(current) = load(origin, proposed) else {
            return (1, 0);
        };
        let found = lint_zone(
            &current,
            "lab.zone",
            Some(&base),
            &LintSettings::default(),
            1,
        );
        let count = |level| found.iter().filter(|f| f.level == level).count();
        (count(Level::Error), count(Level::Warning))
    };
    let mut missed = Vec::new();
    let mut noisy = Vec::new();
    let (mut typos, mut legit) = (0usize, 0usize);
    // Slips of the hand on an existing host's name, given the AAAA it lacks: errors.
    for (host, _) in &hosts {
        let c: Vec<char> = host.chars().collect();
        let i = 1 + rng.below(c.len() - 2);
        let mut swapped = c.clone();
        swapped.swap(i, i + 1);
        let mut doubled = c.clone();
        doubled.insert(i, c[i]);
        let mut dropped = c.clone();
        dropped.remove(i);
        for (class, typed) in [
            ("transposition", swapped),
            ("repetition", doubled),
            ("omission inside", dropped),
        ] {
            let typed: String = typed.into_iter().collect();
            if typed == *host {
                continue;
            }
            typos += 1;
            let extra = format!("{typed} AAAA 2001:db8:100::{}\n", typos);
            let (errors, _) = errors_and_warnings(&text(2026113002, &hosts, &extra));
            if errors == 0 {
                missed.push(format!("{class} {host} -> {typed}"));
            }
        }
    }
    // The incident, in words: an existing host given the new host's address.
    for new in NEW {
        typos += 1;
        let extra = format!("{new} A 198.51.100.200\nwiki A 198.51.100.200\n");
        if errors_and_warnings(&text(2026113002, &hosts, &extra)).0 == 0 {
            missed.push(format!("incident with {new}"));
        }
    }
    // Legitimate: new words, a rename, an alias on an existing server, a decommission.
    let mut legitimate = Vec::new();
    for (i, new) in NEW.iter().enumerate() {
        legitimate.push((
            format!("new word {new}"),
            text(
                2026113002,
                &hosts,
                &format!("{new} A 198.51.100.{}\n", 200 + i),
            ),
        ));
    }
    for (i, (host, address)) in hosts.iter().enumerate() {
        let mut renamed = hosts.clone();
        renamed[i] = (format!("{host}-old"), address.clone());
        legitimate.push((format!("rename {host}"), text(2026113002, &renamed, "")));
        let fewer: Vec<(String, String)> =
            hosts.iter().filter(|(h, _)| h != host).cloned().collect();
        legitimate.push((format!("decommission {host}"), text(2026113002, &fewer, "")));
    }
    legitimate.push((
        "alias on the docs server".into(),
        text(2026113002, &hosts, "handbook A 198.51.100.31\n"),
    ));
    for (class, proposed) in legitimate {
        legit += 1;
        if errors_and_warnings(&proposed).0 > 0 {
            noisy.push(class);
        }
    }
    println!(
        "lint quality, fleets of words: {} of {typos} slips failed; {} of {legit} legitimate changes failed",
        typos - missed.len(),
        noisy.len()
    );
    assert!(typos >= 40, "the corpus is too small: {typos}");
    assert!(missed.is_empty(), "slips that pass: {missed:#?}");
    assert!(noisy.is_empty(), "legitimate changes that fail: {noisy:#?}");
}
