//! Alerts on change of state: a zone going from clean to drift, its findings changing, its
//! recovery. What was last delivered to each target is kept in the history store, so a run that
//! finds the same state sends nothing, and a failed delivery is tried again on the next run.
//!
//! Building messages is pure (`event_for`, [`message`]); `deliver` is the HTTP edge (ureq).

use std::time::Duration;

use serde::Serialize;

use crate::report::{Finding, Report, Severity, ZoneReport};

pub use crate::config::NotifyFormat;

/// A zone's condition after a run, for alerting: stored, and sent, as `clean`, `drift` or
/// `incomplete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Nothing that matters found.
    Clean,
    /// Drift found.
    Drift,
    /// Failures only: not everything could be seen.
    Incomplete,
}

impl Condition {
    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Clean => "clean",
            Condition::Drift => "drift",
            Condition::Incomplete => "incomplete",
        }
    }
}

/// What an alert says happened: sent as `drift` (was clean), `changed` (other findings),
/// `incomplete` or `recovered`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Happened {
    /// Drift where there was none.
    Drift,
    /// Other findings than last time.
    Changed,
    /// Not everything could be seen.
    Incomplete,
    /// Clean again.
    Recovered,
}

/// The state of a zone after a run, for alerting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneState {
    /// Zone apex.
    pub zone: String,
    /// Its condition.
    pub state: Condition,
    /// A hash of the findings that matter (drift and failures); equal states, equal hashes.
    pub fingerprint: String,
}

/// One alert to send.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// Schema tag.
    pub schema: &'static str,
    /// Zone apex.
    pub zone: String,
    /// What happened.
    pub event: Happened,
    /// State before, as stored (None: first run).
    pub previous: Option<String>,
    /// State now.
    pub state: Condition,
    /// The findings that matter, as one line each.
    pub findings: Vec<String>,
    /// When the run started.
    pub at: String,
}

/// The state of every zone of a report.
pub(crate) fn zone_states(report: &Report) -> Vec<ZoneState> {
    report.zones.iter().map(zone_state).collect()
}

fn important(zone: &ZoneReport) -> Vec<&Finding> {
    let mut findings: Vec<&Finding> = zone
        .hosts
        .iter()
        .flat_map(|h| &h.findings)
        .chain(&zone.server_findings)
        .filter(|f| f.severity != Severity::Warning)
        .collect();
    findings.sort();
    findings
}

fn zone_state(zone: &ZoneReport) -> ZoneState {
    let findings = important(zone);
    let state = if findings.iter().any(|f| f.severity == Severity::Drift) {
        Condition::Drift
    } else if findings.is_empty() {
        Condition::Clean
    } else {
        Condition::Incomplete
    };
    let mut hash = crate::hash::Fnv1a::default();
    for line in findings.iter().map(|f| finding_line(f)) {
        hash.feed(line.as_bytes());
        hash.feed(&[0]);
    }
    let hash = hash.finish();
    ZoneState {
        zone: zone.zone.clone(),
        state,
        fingerprint: format!("{hash:016x}"),
    }
}

fn finding_line(f: &Finding) -> String {
    let mut values = Vec::new();
    if !f.unexpected.is_empty() {
        values.push(format!("{} not expected", f.unexpected.join(", ")));
    }
    if !f.missing.is_empty() {
        values.push(format!("{} missing", f.missing.join(", ")));
    }
    if values.is_empty() {
        values.push(f.why.clone());
    }
    format!(
        "{} {} {}: {} (on {})",
        f.name,
        f.rtype,
        f.kind.label(),
        values.join("; "),
        f.servers.join(", ")
    )
}

/// The alert a zone's new state calls for, given what was last delivered, as stored (state,
/// fingerprint; None: nothing yet). A first run that is clean says nothing.
pub(crate) fn event_for(
    report: &Report,
    now: &ZoneState,
    last: Option<(&str, &str)>,
) -> Option<Event> {
    let was_clean = last.is_none_or(|(state, _)| state == Condition::Clean.as_str());
    let event = match (now.state, last) {
        (_, Some((state, fingerprint)))
            if state == now.state.as_str() && fingerprint == now.fingerprint =>
        {
            return None
        }
        (Condition::Clean, None) => return None,
        (Condition::Clean, Some(_)) => Happened::Recovered,
        (Condition::Drift, _) if was_clean => Happened::Drift,
        (Condition::Incomplete, _) => Happened::Incomplete,
        _ => Happened::Changed,
    };
    let zone = report.zones.iter().find(|z| z.zone == now.zone)?;
    Some(Event {
        schema: "dns-audit.alert/1",
        zone: now.zone.clone(),
        event,
        previous: last.map(|(state, _)| state.to_string()),
        state: now.state,
        findings: important(zone).into_iter().map(finding_line).collect(),
        at: report.started_at.clone(),
    })
}

/// The HTTP body for `format`.
pub fn message(event: &Event, format: NotifyFormat) -> String {
    let headline = match event.event {
        Happened::Recovered => format!(
            "dns-audit: {} recovered: live DNS matches expected-records",
            event.zone
        ),
        Happened::Drift => format!("dns-audit: DRIFT in {}", event.zone),
        Happened::Incomplete => format!("dns-audit: {} could not be fully audited", event.zone),
        Happened::Changed => format!("dns-audit: findings changed in {}", event.zone),
    };
    let mut text = headline;
    for line in event.findings.iter().take(20) {
        text.push_str("\n• ");
        text.push_str(line);
    }
    if event.findings.len() > 20 {
        text.push_str(&format!("\n… {} more", event.findings.len() - 20));
    }
    let body = match format {
        // Slack reads <…> as links and mentions (<!channel>): escape as its docs say.
        NotifyFormat::Slack => serde_json::json!({
            "text": text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        }),
        // Discord: no mention in DNS data may ping anyone.
        NotifyFormat::Discord => serde_json::json!({
            "content": text.chars().take(1990).collect::<String>(),
            "allowed_mentions": { "parse": [] }
        }),
        NotifyFormat::Json => serde_json::to_value(event).unwrap_or_default(),
    };
    body.to_string()
}

/// POSTs `body` to `url` within `timeout`, and once more after a failure. The error says why,
/// without the URL's path (webhook URLs carry secrets).
pub(crate) fn deliver(url: &str, body: &str, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(true)
        .build()
        .into();
    let mut last = String::new();
    for attempt in 0..2 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200));
        }
        match agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body)
        {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("{}: {last}", redact(url)))
}

/// Sends the alerts a run calls for to every target and remembers what was delivered. Returns
/// one line per failed delivery (tried again on the next run); nothing here changes the audit's
/// exit code. A target is a URL, or `env:VAR` for a URL kept in the environment.
pub(crate) fn send_alerts(
    report: &Report,
    history: &mut crate::history::History,
    targets: &[String],
    format: NotifyFormat,
    timeout: Duration,
) -> Vec<String> {
    let mut failures = Vec::new();
    let at = jiff::Timestamp::now().as_second();
    for target in targets {
        let url = match target.strip_prefix("env:") {
            Some(var) => match std::env::var(var) {
                Ok(url) => url,
                Err(_) => {
                    failures.push(format!("alert target env:{var} is not set"));
                    continue;
                }
            },
            None => target.clone(),
        };
        for state in zone_states(report) {
            let last = match history.last_alert(&state.zone, target) {
                Ok(last) => last,
                Err(e) => {
                    failures.push(e.to_string());
                    continue;
                }
            };
            let last_ref = last.as_ref().map(|(s, f)| (s.as_str(), f.as_str()));
            if let Some(event) = event_for(report, &state, last_ref) {
                if let Err(e) = deliver(&url, &message(&event, format), timeout) {
                    failures.push(format!(
                        "alert for {} not delivered: {e}; tried again next run",
                        state.zone
                    ));
                    continue;
                }
            } else if last.is_some() {
                continue;
            }
            if let Err(e) = history.set_alert(
                &state.zone,
                target,
                state.state.as_str(),
                &state.fingerprint,
                at,
            ) {
                failures.push(e.to_string());
            }
        }
    }
    failures
}

/// `https://hooks.example.com/…`: scheme and host only.
pub(crate) fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split('/').next().unwrap_or_default();
    let shown = if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}/…")
    };
    crate::escape::terminal(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(state: Condition, fingerprint: &str) -> ZoneState {
        ZoneState {
            zone: "z.".into(),
            state,
            fingerprint: fingerprint.into(),
        }
    }

    fn report() -> Report {
        let zone = ZoneReport {
            zone: "z.".into(),
            expected_serial: None,
            names_checked: 0,
            hosts_checked: 0,
            hosts_unknown: 0,
            servers: Vec::new(),
            hosts: Vec::new(),
            server_findings: Vec::new(),
            zone_file: None,
            resolvers: Vec::new(),
            resolver_scope: None,
        };
        Report::new("2026-11-24T00:00:00Z".into(), 1, vec![zone])
    }

    #[test]
    fn each_change_of_state_is_one_event() {
        use Condition::{Clean, Drift, Incomplete};
        let r = report();
        let event = |now, last| event_for(&r, &state(now, "b"), last).map(|e| e.event);
        let cases = [
            ("a first clean run", Clean, None, None),
            (
                "clean to drift",
                Drift,
                Some(("clean", "a")),
                Some(Happened::Drift),
            ),
            ("the same drift", Drift, Some(("drift", "b")), None),
            (
                "other drift",
                Drift,
                Some(("drift", "c")),
                Some(Happened::Changed),
            ),
            (
                "drift to clean",
                Clean,
                Some(("drift", "c")),
                Some(Happened::Recovered),
            ),
            ("a first run with drift", Drift, None, Some(Happened::Drift)),
            (
                "clean to blind",
                Incomplete,
                Some(("clean", "a")),
                Some(Happened::Incomplete),
            ),
        ];
        for (case, now, last, expected) in cases {
            assert_eq!(event(now, last), expected, "{case}");
        }
    }

    #[test]
    fn chat_messages_cannot_mention_or_link() {
        let event = Event {
            schema: "dns-audit.alert/1",
            zone: "z.".into(),
            event: Happened::Drift,
            previous: Some("clean".into()),
            state: Condition::Drift,
            findings: vec!["x TXT \"<!channel> @everyone\" not expected".into()],
            at: String::new(),
        };
        let slack = message(&event, NotifyFormat::Slack);
        assert!(
            slack.contains("&lt;!channel&gt;") && !slack.contains("<!channel>"),
            "{slack}"
        );
        let discord: serde_json::Value =
            serde_json::from_str(&message(&event, NotifyFormat::Discord)).unwrap();
        assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));
    }

    #[test]
    fn urls_are_redacted_in_errors() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
    }
}
