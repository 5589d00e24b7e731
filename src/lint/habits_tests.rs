//! How lint judges the habits of real repositories (issue #15): words beside numbered series,
//! reverse zones, renames, aliases, server moves, serials raised elsewhere. Each case is a
//! labelled change with the level it must get, or none.

use super::conventions::{Conventions, SerialEvidence};
use super::*;
use crate::config::{NamingRule, SerialRule};

const WORDS: &str = "$ORIGIN lab.example.\n$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n\
    ns A 192.0.2.53\ngitlab A 192.0.2.10\ntalos A 192.0.2.3\nnode A 192.0.2.20\n\
    docs A 192.0.2.30\nwiki A 192.0.2.31\nbrownsville A 192.0.2.40\n@ A 192.0.2.80\n";

const REVERSE: &str = "$ORIGIN 2.0.192.in-addr.arpa.\n$TTL 300\n@ SOA ns.lab.example. h 1 2 3 4 5\n\
    @ NS ns.lab.example.\n3 PTR talos.lab.example.\n10 PTR gitlab.lab.example.\n20 PTR node.lab.example.\n";

fn bump(text: &str) -> String {
    text.replace("h 1 2 3 4 5", "h 2 2 3 4 5")
}

/// The (level, check) findings of `proposed` against `base`, with serials raised by hand.
fn judged(origin: &str, base: &str, proposed: &str) -> Vec<(Level, &'static str)> {
    judged_with(origin, base, proposed, SerialEvidence::default())
}

fn judged_with(
    origin: &str,
    base: &str,
    proposed: &str,
    serials: SerialEvidence,
) -> Vec<(Level, &'static str)> {
    let base = crate::zonefile::test_zone(origin, base).zone;
    let current = crate::zonefile::test_zone(origin, proposed);
    let conventions = Conventions::learn(
        &current.zone,
        Some(&base),
        (SerialRule::Learn, serials),
        NamingRule::Learn,
        1,
    );
    let settings = LintSettings {
        mass_change_share: 0.3,
        ..Default::default()
    };
    let neighbours = Neighbours::default();
    lint_zone_in(
        &current,
        "z.zone",
        Some(&base),
        &settings,
        (&conventions, &neighbours),
        1,
    )
    .into_iter()
    .map(|f| (f.level, f.check.id()))
    .collect()
}

#[test]
fn in_a_zone_of_words_only_a_slip_of_the_hand_fails() {
    let cases: [(&str, &str, Option<Level>); 6] = [
        (
            "a plural is a new word",
            "nodes A 192.0.2.21\n",
            Some(Level::Warning),
        ),
        (
            "a letter added",
            "taldos A 192.0.2.4\n",
            Some(Level::Warning),
        ),
        ("a swap", "gtilab A 192.0.2.11\n", Some(Level::Error)),
        (
            "a letter dropped inside",
            "browsville A 192.0.2.41\n",
            Some(Level::Error),
        ),
        (
            "a doubled letter",
            "gitllab A 192.0.2.12\n",
            Some(Level::Error),
        ),
        (
            "what the twin lacks",
            "gitlav AAAA 2001:db8::10\n",
            Some(Level::Error),
        ),
    ];
    for (case, extra, level) in cases {
        let found = judged("lab.example.", WORDS, &bump(&format!("{WORDS}{extra}")));
        let near: Vec<Level> = found
            .iter()
            .filter(|(_, c)| *c == "near-miss-name")
            .map(|(l, _)| *l)
            .collect();
        assert_eq!(near.first().copied(), level, "{case}: {found:?}");
    }
}

#[test]
fn reverse_zones_are_not_judged_by_spelling() {
    let proposed = bump(&format!(
        "{REVERSE}30 PTR docs.lab.example.\n203 PTR new.lab.example.\n"
    ));
    let found = judged("2.0.192.in-addr.arpa.", REVERSE, &proposed);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_address_that_moves_or_is_shared_is_not_a_reuse() {
    let cases: [(&str, String, Option<Level>); 4] = [
        (
            "a rename: the old owner goes",
            WORDS.replace("talos A 192.0.2.3", "kasper A 192.0.2.3"),
            None,
        ),
        (
            "a name on the apex's web server",
            format!("{WORDS}news A 192.0.2.80\n"),
            None,
        ),
        (
            "a new alias on an existing server",
            format!("{WORDS}pages A 192.0.2.30\n"),
            Some(Level::Warning),
        ),
        (
            "an existing host takes another's address",
            WORDS.replace("wiki A 192.0.2.31", "wiki A 192.0.2.30"),
            Some(Level::Error),
        ),
    ];
    for (case, proposed, level) in cases {
        let found = judged("lab.example.", WORDS, &bump(&proposed));
        let reuse = found
            .iter()
            .find(|(_, c)| *c == "address-reuse")
            .map(|(l, _)| *l);
        assert_eq!(reuse, level, "{case}: {found:?}");
    }
}

#[test]
fn a_server_replaced_fails_while_one_added_removed_or_renamed_is_said() {
    let base = format!("{WORDS}sub NS talos\nsub NS node\n");
    let cases: [(&str, String, Option<Level>); 5] = [
        (
            "added",
            format!("{base}sub NS docs\n"),
            Some(Level::Warning),
        ),
        (
            "removed",
            base.replace("sub NS node\n", ""),
            Some(Level::Warning),
        ),
        (
            "renamed: same address",
            base.replace("talos A 192.0.2.3", "taldos A 192.0.2.3")
                .replace("sub NS talos", "sub NS taldos"),
            Some(Level::Warning),
        ),
        (
            "replaced",
            base.replace("sub NS node", "sub NS wiki"),
            Some(Level::Error),
        ),
        (
            "a new delegation over nothing",
            format!("{base}other NS talos\n"),
            None,
        ),
    ];
    for (case, proposed, level) in cases {
        let found = judged("lab.example.", &base, &bump(&proposed));
        let change = found
            .iter()
            .find(|(_, c)| *c == "delegation-change")
            .map(|(l, _)| *l);
        assert_eq!(change, level, "{case}: {found:?}");
    }
    // A delegation over names that resolve today hides them.
    let found = judged(
        "lab.example.",
        &base,
        &bump(&format!("{base}wiki NS talos\n")),
    );
    assert!(
        found.contains(&(Level::Error, "delegation-change")),
        "{found:?}"
    );
}

#[test]
fn a_serial_left_alone_is_judged_by_the_history() {
    let proposed = format!("{WORDS}status A 192.0.2.90\n");
    let level = |raised, changes| {
        let evidence = SerialEvidence {
            changes,
            raised,
            pooled: false,
        };
        judged_with("lab.example.", WORDS, &proposed, evidence)
            .iter()
            .find(|(_, c)| *c == "serial-not-raised")
            .map(|(l, _)| *l)
    };
    assert_eq!(level(0, 0), Some(Level::Error), "no history: by hand");
    assert_eq!(level(20, 20), Some(Level::Error), "by hand");
    assert_eq!(level(15, 20), Some(Level::Warning), "usually");
    assert_eq!(level(2, 20), None, "managed elsewhere");
    // Lowered by hand with a content change: secondaries keep the old zone. An error wherever
    // the history raises serials in the file, even where a change is sometimes left to a
    // later bump.
    let base = bump(WORDS);
    let lowered = format!("{WORDS}status A 192.0.2.90\n");
    let evidence = SerialEvidence {
        changes: 20,
        raised: 15,
        pooled: false,
    };
    let found = judged_with("lab.example.", &base, &lowered, evidence);
    assert!(
        found.contains(&(Level::Error, "serial-not-raised")),
        "lowered where usually raised: {found:?}"
    );
}

#[test]
fn a_reverse_zone_name_written_without_its_dot_is_an_error() {
    let broken = REVERSE
        .replace("10 PTR gitlab.lab.example.", "10 PTR gitlab.lab.example")
        .replace("@ SOA ns.lab.example. h", "@ SOA ns.lab.example h");
    let loaded = crate::zonefile::test_zone("2.0.192.in-addr.arpa.", &broken);
    let found: Vec<(String, String)> =
        lint_zone(&loaded, "r.zone", None, &LintSettings::default(), 1)
            .into_iter()
            .filter(|f| f.check == "missing-dot")
            .map(|f| (f.rtype, f.message))
            .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found.iter().any(|(t, m)| t == "PTR"
            && m.contains("was `gitlab.lab.example.` written without its trailing dot")),
        "{found:?}"
    );
    assert!(found.iter().any(|(t, _)| t == "SOA"), "{found:?}");
    // Digits are address labels, in IPv4 and IPv6 reverse zones alike.
    let clean = crate::zonefile::test_zone("2.0.192.in-addr.arpa.", REVERSE);
    let found = lint_zone(&clean, "r.zone", None, &LintSettings::default(), 1);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_new_ptr_is_checked_against_the_forward_zone_beside_it() {
    let forward = crate::zonefile::test_zone("lab.example.", WORDS).zone;
    let base = crate::zonefile::test_zone("2.0.192.in-addr.arpa.", REVERSE).zone;
    let lint = |extra: &str| -> Vec<String> {
        let proposed = bump(&format!("{REVERSE}{extra}"));
        let current = crate::zonefile::test_zone("2.0.192.in-addr.arpa.", &proposed);
        let conventions = Conventions::learn(
            &current.zone,
            Some(&base),
            (SerialRule::Learn, SerialEvidence::default()),
            NamingRule::Learn,
            1,
        );
        let zones = [&forward];
        let neighbours = Neighbours {
            current: &zones,
            base: &zones,
        };
        lint_zone_in(
            &current,
            "r.zone",
            Some(&base),
            &LintSettings::default(),
            (&conventions, &neighbours),
            1,
        )
        .into_iter()
        .filter(|f| f.check == "ptr-forward")
        .map(|f| f.message)
        .collect()
    };
    assert!(lint("30 PTR docs.lab.example.\n").is_empty());
    let found = lint("31 PTR docs.lab.example.\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("that name has 192.0.2.30 in lab.example., not 192.0.2.31"),
        "{found:?}"
    );
    // A name of a zone not in the directory is not judged.
    assert!(lint("32 PTR mail.elsewhere.example.\n").is_empty());
}

#[test]
fn an_error_says_how_long_the_mistake_would_linger() {
    let base = WORDS.replace("$TTL 300", "$TTL 3600");
    let lint = |proposed: &str| -> Vec<String> {
        let base = crate::zonefile::test_zone("lab.example.", &base).zone;
        let current = crate::zonefile::test_zone("lab.example.", &bump(proposed));
        lint_zone(&current, "z.zone", Some(&base), &LintSettings::default(), 1)
            .into_iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| f.message)
            .collect()
    };
    // An existing host given another's address: its own TTL, an hour, and the advice.
    let found = lint(&base.replace("wiki A 192.0.2.31", "wiki A 192.0.2.30"));
    assert!(
        found.iter().any(|m| m.contains(
            "a mistake here lingers in resolvers' caches up to 60 min after the fix (its TTL 3600): lower the TTL"
        )),
        "{found:?}"
    );
    // A new name slipped from an existing one: the negative-caching TTL (the SOA's 5 s).
    let found = lint(&format!("{base}gtilab A 192.0.2.11\n"));
    assert!(
        found
            .iter()
            .any(|m| m.contains("up to 5 s after the fix (the negative-caching TTL 5)")),
        "{found:?}"
    );
}

#[test]
fn overlapping_generate_ranges_give_an_address_two_names() {
    let text = format!(
        "{REVERSE}$GENERATE 100-120 $ PTR host-$.lab.example.\n$GENERATE 118-130 $ PTR dhcp-$.lab.example.\n"
    );
    let loaded = crate::zonefile::test_zone("2.0.192.in-addr.arpa.", &text);
    let twice: Vec<String> = lint_zone(&loaded, "r.zone", None, &LintSettings::default(), 1)
        .into_iter()
        .filter(|f| f.check == "ptr-twice")
        .map(|f| f.name)
        .collect();
    assert_eq!(
        twice,
        [
            "118.2.0.192.in-addr.arpa.",
            "119.2.0.192.in-addr.arpa.",
            "120.2.0.192.in-addr.arpa."
        ],
        "{twice:?}"
    );
}

#[test]
fn nsec3_parameters_are_judged_by_rfc_9276() {
    let level = |param: &str| -> Option<Level> {
        let text = format!("{WORDS}@ NSEC3PARAM {param}\n");
        let loaded = crate::zonefile::test_zone("lab.example.", &text);
        lint_zone(&loaded, "z.zone", None, &LintSettings::default(), 1)
            .into_iter()
            .find(|f| f.check == "nsec3-parameters")
            .map(|f| f.level)
    };
    assert_eq!(level("1 0 0 -"), None);
    assert_eq!(level("1 0 10 AABBCCDD"), Some(Level::Warning));
    assert_eq!(level("1 0 0 AABB"), Some(Level::Warning));
    assert_eq!(level("1 0 200 -"), Some(Level::Error));
    assert_eq!(level("1 255 0 -"), Some(Level::Warning));
}
