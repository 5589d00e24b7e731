//! What the world sees: recursive resolvers asked, through hickory-resolver, about the names
//! that matter after an incident (drifting now, or fixed on the authoritative servers within
//! their TTL), with no cache of ours: every answer is the resolver's current view, with the TTL
//! it has left. A resolver that does not answer is a failure, never drift.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use hickory_proto::rr::{Name, RecordType};
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::TokioResolver;
use serde::Serialize;

use crate::config::{QuerySettings, ResolverSpec};
use crate::model::{present_name, Rdata, RrSet};

/// Questions in flight at once, per resolver: a public resolver is not a load test.
const IN_FLIGHT: usize = 8;

/// One question: a name and type, with what expected-records says of it.
#[derive(Clone, Debug)]
pub struct Question {
    /// The zone it belongs to.
    pub zone: String,
    /// The host label, for the report.
    pub host: String,
    /// Owner name.
    pub name: Name,
    /// Type.
    pub rtype: RecordType,
    /// Expected values (presentation format), empty when the RRset should not exist.
    pub expected: Vec<String>,
    /// How long resolvers may keep an answer for it: the expected RRset's TTL, or the zone's
    /// negative-caching TTL for one that should not exist.
    pub ttl: u32,
}

/// What a resolver serves for a question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Seen {
    /// What expected-records says.
    Expected,
    /// Other values than expected, cached for `ttl_left` more seconds at most.
    Stale {
        /// The values served.
        values: Vec<String>,
        /// Seconds the resolver may keep serving them.
        ttl_left: u32,
    },
    /// No such RRset (NXDOMAIN or NODATA) where one is expected, cached for `ttl_left`.
    Negative {
        /// Seconds the resolver may keep the negative answer (unknown: 0).
        ttl_left: u32,
        /// The name does not exist at all.
        nxdomain: bool,
    },
    /// The resolver did not answer usably.
    Failed {
        /// Why.
        why: String,
    },
}

/// One resolver's answer to one question.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// The resolver asked.
    pub resolver: String,
    /// The zone.
    pub zone: String,
    /// The host label.
    pub host: String,
    /// Owner name, fully qualified.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// Expected values.
    pub expected: Vec<String>,
    /// How long resolvers may keep an answer for it (the expected TTL, or the negative one).
    pub ttl: u32,
    /// What it serves.
    #[serde(flatten)]
    pub seen: Seen,
}

/// The addresses of a host name, through the host's own resolver configuration (and its
/// hosts file: `localhost`), as hickory-resolver reads it: the one path every name takes that
/// the audit does not ask authoritatively (nameservers without glue, `--nameserver` names).
pub async fn addresses_of(
    host: &str,
    query: QuerySettings,
) -> Result<Vec<std::net::IpAddr>, String> {
    let mut builder = TokioResolver::builder(TokioRuntimeProvider::default())
        .map_err(|e| format!("the system resolver configuration cannot be read: {e}"))?;
    let options = builder.options_mut();
    options.timeout = query.timeout;
    options.attempts = usize::try_from(query.retries).unwrap_or(0) + 1;
    options.use_hosts_file = ResolveHosts::Always;
    let resolver = builder.build().map_err(|e| e.to_string())?;
    let fqdn = format!("{}.", host.trim_end_matches('.'));
    let found = resolver
        .lookup_ip(fqdn.as_str())
        .await
        .map_err(|e| crate::escape::terminal(&e.to_string()))?;
    Ok(found.iter().collect())
}

/// Asks every resolver every question, bounded in flight per resolver. A resolver that cannot
/// be set up answers every question with a failure.
pub async fn ask(
    resolvers: &[ResolverSpec],
    questions: &[Question],
    query: QuerySettings,
) -> Vec<Answer> {
    let mut answers = Vec::new();
    for spec in resolvers {
        let label = spec.to_string();
        tracing::info!("asking resolver {label} about {} RRsets", questions.len());
        let resolver = match build(spec, query) {
            Ok(resolver) => Arc::new(resolver),
            Err(why) => {
                answers.extend(
                    questions
                        .iter()
                        .map(|q| answer(&label, q, Seen::Failed { why: why.clone() })),
                );
                continue;
            }
        };
        let seen: Vec<Answer> = stream::iter(questions)
            .map(|question| {
                let resolver = Arc::clone(&resolver);
                let label = label.clone();
                async move {
                    let seen = ask_one(&resolver, question).await;
                    answer(&label, question, seen)
                }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        answers.extend(seen);
    }
    answers
}

fn answer(resolver: &str, question: &Question, seen: Seen) -> Answer {
    Answer {
        resolver: resolver.to_string(),
        zone: question.zone.clone(),
        host: question.host.clone(),
        name: present_name(&question.name),
        rtype: question.rtype.to_string(),
        expected: question.expected.clone(),
        ttl: question.ttl,
        seen,
    }
}

/// The server at `addr` for hickory-resolver, over UDP and TCP on its port.
pub(crate) fn name_server(addr: std::net::SocketAddr) -> NameServerConfig {
    let connection = |mut c: ConnectionConfig| {
        c.port = addr.port();
        c
    };
    NameServerConfig::new(
        addr.ip(),
        true,
        vec![
            connection(ConnectionConfig::udp()),
            connection(ConnectionConfig::tcp()),
        ],
    )
}

/// A resolver for `spec` that asks with RD=1, keeps nothing, and times out like every other
/// query of the audit.
fn build(spec: &ResolverSpec, query: QuerySettings) -> Result<TokioResolver, String> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = match spec {
        ResolverSpec::System => TokioResolver::builder(provider)
            .map_err(|e| format!("the system resolver configuration cannot be read: {e}"))?,
        ResolverSpec::Address(addr) => TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(vec![name_server(*addr)]),
            provider,
        ),
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.cache_size = 0;
    options.recursion_desired = true;
    options.timeout = query.timeout;
    options.attempts = usize::try_from(query.retries).unwrap_or(0) + 1;
    options.use_hosts_file = ResolveHosts::Never;
    options.ndots = 0;
    options.preserve_intermediates = true;
    builder.build().map_err(|e| e.to_string())
}

/// What the resolver serves for one question, against what is expected.
async fn ask_one(resolver: &TokioResolver, question: &Question) -> Seen {
    tracing::debug!("resolver: {} {}", question.name, question.rtype);
    match resolver.lookup(question.name.clone(), question.rtype).await {
        Ok(lookup) => {
            let mut set = RrSet {
                ttl: u32::MAX,
                rdatas: Default::default(),
            };
            for record in lookup.answers() {
                // Name comparison is case-insensitive.
                if record.record_type() != question.rtype || record.name != question.name {
                    continue;
                }
                if let Some(rdata) = Rdata::from_hickory(&record.data) {
                    set.insert(record.ttl, rdata);
                }
            }
            let values = set.shown(question.rtype);
            if values.is_empty() && question.expected.is_empty() {
                return Seen::Expected;
            }
            if values.is_empty() {
                return Seen::Negative {
                    ttl_left: 0,
                    nxdomain: false,
                };
            }
            if same_set(&values, &question.expected) {
                Seen::Expected
            } else {
                Seen::Stale {
                    values,
                    ttl_left: set.ttl,
                }
            }
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(no_records))) => {
            if question.expected.is_empty() {
                return Seen::Expected;
            }
            Seen::Negative {
                ttl_left: no_records.negative_ttl.unwrap_or(0),
                nxdomain: no_records.response_code == hickory_proto::op::ResponseCode::NXDomain,
            }
        }
        Err(e) => Seen::Failed {
            why: crate::escape::terminal(&e.to_string()),
        },
    }
}

/// Whether two lists of presented values hold the same values (RRsets compare as sets, names
/// case-insensitively).
pub(crate) fn same_set(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_are_written_as_dig_and_kdig_users_write_them() {
        assert_eq!("system".parse::<ResolverSpec>(), Ok(ResolverSpec::System));
        let spec: ResolverSpec = "127.0.0.1@5353".parse().unwrap_or(ResolverSpec::System);
        assert_eq!(spec.to_string(), "127.0.0.1:5353");
        let spec: ResolverSpec = "9.9.9.9".parse().unwrap_or(ResolverSpec::System);
        assert_eq!(spec.to_string(), "9.9.9.9");
        let err = "1.1.1.1:99999".parse::<ResolverSpec>().unwrap_err();
        assert!(
            err.contains("bad resolver") && err.contains("system"),
            "{err}"
        );
    }

    #[test]
    fn rrsets_compare_as_sets_of_values() {
        let a = vec!["203.0.113.17".to_string(), "203.0.113.18".to_string()];
        let b = vec!["203.0.113.18".to_string(), "203.0.113.17".to_string()];
        assert!(same_set(&a, &b));
        assert!(!same_set(&a, &b[..1]));
        assert!(same_set(
            &["Bh17.Example.".into()],
            &["bh17.example.".into()]
        ));
    }
}
