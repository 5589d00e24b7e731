//! The resolver view against real servers: NSD on 127.0.0.1 serves the incident, a real
//! Unbound in front of it (a stub zone, nothing leaves loopback) caches the wrong answer, NSD
//! is fixed, and `check` tells the authoritative servers clean and Unbound stale until the TTL
//! runs out. Also: Unbound down (a failure, exit 3, never drift), a negative answer cached.

use std::time::{Duration, Instant};

use crate::common::*;

/// The expected zone with short TTLs: bh17's A lives 8 s in caches, negative answers 8 s.
fn zone(serial: u32, extra: &str) -> String {
    format!(
        "$ORIGIN bots.example.net.\n$TTL 8\n@ 3600 IN SOA ns1 hostmaster.example.net. ( {serial} 3600 900 1209600 8 )\n\
         @ 3600 IN NS ns1\nns1 IN A 192.0.2.53\nbh16 IN A 203.0.113.16\n{extra}"
    )
}

const TTL: u64 = 8;

fn answers_of(json: &serde_json::Value) -> Vec<serde_json::Value> {
    json["zones"][0]["resolvers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn answer<'a>(answers: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    answers
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no answer about {name}: {answers:#?}"))
}

/// What Unbound serves of bh17 A and bh19 A, by state.
fn states(json: &serde_json::Value) -> [String; 2] {
    let answers = answers_of(json);
    ["bh17.bots.example.net.", "bh19.bots.example.net."].map(|name| {
        answer(&answers, name)["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn unbound_keeps_the_wrong_answer_until_its_ttl_runs_out() {
    let expected = zone(2, "bh17 IN A 203.0.113.17\nbh19 IN A 203.0.113.19\n");
    // The incident: bh17 has bh18's address, bh19 is not served yet.
    let incident = zone(1, "bh17 IN A 203.0.113.18\n");
    let Some(mut nsd) = Daemon::start(Software::Nsd, ORIGIN, &incident, &Setup::default()) else {
        return;
    };
    let Some(unbound) = Unbound::start(ORIGIN, nsd.addr) else {
        return;
    };
    let dir = expected_dir(&expected, FAST);
    let state = tempfile::tempdir().unwrap();
    let store = state.path().join("history.sqlite");
    let resolver = unbound.addr.to_string();
    let args = ["--state", store.to_str().unwrap(), "--resolver", &resolver];
    let servers = [("ns1", nsd.addr)];

    // 1. Drift on NSD; asking Unbound about it caches the wrong A and the NXDOMAIN.
    //    With no history yet, every expected address is asked, and said; Unbound serving what
    //    NSD serves is serving the drift, not a stale cache.
    let (code, json) = check_json_with(dir.path(), &servers, &args).await;
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(states(&json), ["stale", "negative"], "{json:#}");
    let scope = json["zones"][0]["resolver_scope"]
        .as_str()
        .unwrap_or_default();
    assert!(scope.contains("no history to narrow down"), "{json:#}");
    assert!(
        findings(&json).iter().any(|f| f["why"]
            .as_str()
            .unwrap()
            .contains("serves the drift too: bh17.bots.example.net. A 203.0.113.18")),
        "{json:#}"
    );

    // 2. NSD is fixed: the authoritative servers are clean, Unbound still serves the old A
    //    and the NXDOMAIN, each for no longer than its TTL.
    nsd.reload(ORIGIN, &expected, 2);
    let fixed_at = Instant::now();
    let metrics = state.path().join("metrics.prom");
    let mut with_metrics = args.to_vec();
    with_metrics.extend(["--metrics-file", metrics.to_str().unwrap()]);
    let (code, json) = check_json_with(dir.path(), &servers, &with_metrics).await;
    assert_eq!(code, 0, "stale caches are warnings: {json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    let answers = answers_of(&json);
    let bh17 = answer(&answers, "bh17.bots.example.net.");
    assert_eq!(bh17["state"], "stale", "{json:#}");
    assert_eq!(
        bh17["values"],
        serde_json::json!(["203.0.113.18"]),
        "{json:#}"
    );
    let left = bh17["ttl_left"].as_u64().unwrap();
    assert!(left <= TTL, "{left} s left of a {TTL} s TTL: {json:#}");
    let bh19 = answer(&answers, "bh19.bots.example.net.");
    assert_eq!(bh19["state"], "negative", "{json:#}");
    assert_eq!(bh19["nxdomain"], true, "{json:#}");
    assert!(bh19["ttl_left"].as_u64().unwrap() <= TTL, "{json:#}");
    let stale: Vec<_> = findings(&json)
        .into_iter()
        .filter(|f| f["kind"] == "resolver_stale")
        .collect();
    assert_eq!(stale.len(), 2, "{json:#}");
    assert!(
        stale
            .iter()
            .any(|f| f["why"].as_str().unwrap().contains(&format!(
                "{resolver} still serves bh17.bots.example.net. A 203.0.113.18, for up to"
            ))),
        "{stale:#?}"
    );

    // On-call's laptop: no history at all (--no-record). Every expected address is asked, so
    // the stale A is found, never a silent CLEAN.
    let (code, json) = check_json_with(
        dir.path(),
        &servers,
        &["--no-record", "--resolver", &resolver],
    )
    .await;
    assert_eq!(code, 0, "{json:#}");
    let answers = answers_of(&json);
    assert_eq!(
        answer(&answers, "bh17.bots.example.net.")["state"],
        "stale",
        "{json:#}"
    );
    assert_eq!(answers.len(), 4, "bh16, bh17, bh19 and ns1 A: {json:#}");
    let scope = json["zones"][0]["resolver_scope"]
        .as_str()
        .unwrap_or_default();
    assert!(
        scope.contains("asked about 4 of 4 expected address RRsets"),
        "{json:#}"
    );

    let metrics = std::fs::read_to_string(&metrics).unwrap();
    assert!(
        metrics.contains(&format!(
            "dns_audit_resolver_stale_answers{{zone=\"bots.example.net.\",resolver=\"{resolver}\"}} 2"
        )),
        "{metrics}"
    );

    // `recent` closes the story: the fix, until when caches may hold the old answer, and what
    // Unbound serves now.
    let out = audit("recent")
        .expected(dir.path())
        .nameserver("ns1", nsd.addr)
        .state(&store)
        .arg("--resolver")
        .arg(resolver.clone())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("LIVE CHANGES BACK TO expected-records"),
        "{text}"
    );
    assert!(
        text.contains("resolvers may serve the old answer until ")
            && text.contains(&format!("(TTL {TTL}); now: {resolver} still old (")),
        "{text}"
    );
    assert!(
        text.contains(&format!("now: {resolver} still negative (")),
        "{text}"
    );

    // 3. After the TTL, Unbound serves the fix.
    let wait = Duration::from_secs(TTL + 1).saturating_sub(fixed_at.elapsed());
    tokio::time::sleep(wait).await;
    let (code, json) = check_json_with(dir.path(), &servers, &args).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(states(&json), ["expected", "expected"], "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");

    // 4. Unbound down: what it serves is unknown, a failure (exit 3), never drift.
    drop(unbound);
    let (code, json) = check_json_with(dir.path(), &servers, &args).await;
    assert_eq!(code, 3, "{json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    assert!(
        findings(&json)
            .iter()
            .any(|f| f["kind"] == "resolver_unreachable" && f["severity"] == "failure"),
        "{json:#}"
    );
}
