//! Serials: which is the newest a server serves, and what a server behind it or beside it (the
//! same serial, other data) means.

use crate::config::ZoneSettings;
use crate::escape;
use crate::model::{present_name, Zone};
use crate::observe::{SerialsSeen, ServerView};
use crate::report::{age, Finding, Kind, Severity};
use crate::transport::Failure;

use super::{server_finding, shown_server, Scope};

/// Whether serial `a` is older than `b` in serial number arithmetic (RFC 1982).
pub(super) fn serial_older(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

/// The newest serial the servers serve, who serves it and since when it is served anywhere.
pub(super) struct Newest {
    pub(super) serial: u32,
    pub(super) leaders: Vec<String>,
    pub(super) since: i64,
}

impl Newest {
    /// `earlier` tells since when a server has served its serial; a serial no earlier run saw
    /// on a server is new now.
    pub(super) fn of(views: &[ServerView], earlier: &SerialsSeen, now: i64) -> Option<Newest> {
        let serials = views
            .iter()
            .filter_map(|v| Some((v, *v.serial.as_ref().ok()?)));
        let newest = serials.clone().map(|(_, serial)| serial).reduce(|a, b| {
            if serial_older(a, b) {
                b
            } else {
                a
            }
        })?;
        let leaders: Vec<&ServerView> = serials
            .filter(|(_, serial)| *serial == newest)
            .map(|(view, _)| view)
            .collect();
        let since = leaders
            .iter()
            .map(|view| {
                // By address; an older store's rows are keyed by name until this run moves them.
                let key = view.server.addr.to_string();
                earlier
                    .get(&key)
                    .or_else(|| earlier.get(&view.server.label))
            })
            .map(|known| match known {
                Some(seen) if seen.serial == newest => seen.since,
                _ => now,
            })
            .min()
            .unwrap_or(now);
        Some(Newest {
            serial: newest,
            leaders: leaders
                .iter()
                .map(|view| escape::terminal(&view.server.label))
                .collect(),
            since,
        })
    }

    /// Whether a server behind this serial is still propagating: the serial has been served
    /// for less than the zone's `serial_grace`.
    pub(super) fn within_grace(&self, settings: &ZoneSettings, now: i64) -> bool {
        now - self.since < i64::try_from(settings.serial_grace).unwrap_or(i64::MAX)
    }
}

/// The finding about a server's SOA serial, if any: unreachable, behind the newest, or not
/// the expected one.
pub(super) fn serial_finding(
    scope: &Scope<'_, '_>,
    view: &ServerView,
    label: &str,
    behind: Option<&Newest>,
) -> Option<Finding> {
    let zone = scope.zone;
    let expected_serial = zone.serial();
    match (&view.serial, behind) {
        (Err(failure), _) => {
            let kind = if matches!(failure, Failure::NotAuthoritative | Failure::NotServed(_)) {
                Kind::NotAuthoritative
            } else {
                Kind::Unreachable
            };
            Some(server_finding(
                zone,
                kind,
                label,
                format!(
                    "{} could not be asked for the SOA of {}: {failure}; nothing it serves is known",
                    shown_server(label, view.server.addr),
                    present_name(&zone.origin)
                ),
            ))
        }
        (Ok(serial), Some(newest)) => Some(lagging(
            zone,
            scope.settings,
            label,
            *serial,
            newest,
            scope.now_s(),
        )),
        (Ok(serial), None) if Some(*serial) != expected_serial => {
            let why = match expected_serial {
                Some(expected) if *serial < expected => format!(
                    "serves serial {serial}, expected {expected}: the new zone has not reached it yet"
                ),
                Some(expected) => format!(
                    "serves serial {serial}, newer than the expected {expected}: a change not in expected-records?"
                ),
                None => format!("serves serial {serial}; expected-records has no SOA"),
            };
            let mut finding = server_finding(zone, Kind::SerialDiffers, label, why);
            finding.severity = Severity::Warning;
            finding.rtype = "SOA".into();
            finding.expected = expected_serial.iter().map(u32::to_string).collect();
            finding.seen = vec![serial.to_string()];
            Some(finding)
        }
        (Ok(_), None) => None,
    }
}

/// A server behind the newest serial: propagating within `serial_grace`, drift after it.
pub(super) fn lagging(
    zone: &Zone,
    settings: &ZoneSettings,
    label: &str,
    serial: u32,
    newest: &Newest,
    now: i64,
) -> Finding {
    let served_for = now - newest.since;
    let grace = i64::try_from(settings.serial_grace).unwrap_or(i64::MAX);
    let leaders = newest.leaders.join(", ");
    let one = newest.leaders.len() == 1;
    let (serve, have) = if one {
        ("serves", "has")
    } else {
        ("serve", "have")
    };
    let (severity, why) = if newest.within_grace(settings, now) {
        (
            Severity::Warning,
            format!(
                "serves serial {serial}, {leaders} {serve} {} (first seen {} ago): propagating, within serial_grace of {}",
                newest.serial,
                age(served_for),
                age(grace)
            ),
        )
    } else {
        (
            Severity::Drift,
            format!(
                "still serves serial {serial} while {leaders} {have} served {} for {} (serial_grace {}): this server is not getting the new zone",
                newest.serial,
                age(served_for),
                age(grace)
            ),
        )
    };
    let mut finding = server_finding(zone, Kind::SerialDiffers, label, why);
    finding.severity = severity;
    finding.rtype = "SOA".into();
    finding.expected = vec![newest.serial.to_string()];
    finding.seen = vec![serial.to_string()];
    finding.since = crate::report::timestamp(newest.since);
    finding
}

/// Servers that serve the same SOA serial but not the same data: a hand edit on one of them
/// without a serial bump (it will never reach the others by transfer). One finding naming them.
pub(super) fn same_serial_other_data(
    zone: &Zone,
    views: &[ServerView],
    disagreements: usize,
) -> Option<Finding> {
    let serials: Vec<(&str, u32)> = views
        .iter()
        .filter_map(|v| Some((v.server.label.as_str(), *v.serial.as_ref().ok()?)))
        .collect();
    let (_, first) = *serials.first()?;
    if disagreements == 0 || serials.len() < 2 || serials.iter().any(|(_, s)| *s != first) {
        return None;
    }
    let names: Vec<&str> = serials.iter().map(|(name, _)| *name).collect();
    let why = format!(
        "{} all serve serial {first} but different data ({} {}): an edit on one server without a serial bump, which transfers will never carry to the others",
        names.join(", "),
        crate::report::plural(disagreements, "RRset"),
        if disagreements == 1 { "differs" } else { "differ" }
    );
    let mut finding = server_finding(zone, Kind::SameSerialOtherData, &names.join(", "), why);
    finding.servers = names.iter().map(|n| escape::terminal(n)).collect();
    finding.severity = Severity::Warning;
    finding.rtype = "SOA".into();
    Some(finding)
}
