//! Observing a zone on its servers: which servers to ask, what to ask them, and what each said.
//!
//! The result of observing one server is a [`ServerView`]: per (name, type), the RRset it
//! serves, that it serves none, or that it could not be asked. The comparison reads only views,
//! so a zone transfer can fill a view instead of per-name queries without touching it.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use hickory_proto::op::Message;
use hickory_proto::rr::{Name, RData, RecordType};

use std::collections::HashMap;

use crate::config::{AxfrMode, QuerySettings, TsigKey, ZoneSettings};
use crate::model::{canonical_name, name_of_key, present_name, Rdata, RrSet, Served, Zone};
use crate::transport::{Failure, Keep, Server, WireStats};

/// Types asked at every expected name besides its expected ones, so a stray record is found.
pub const PROBE_TYPES: [RecordType; 8] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::TXT,
    RecordType::NS,
    RecordType::SRV,
    RecordType::CAA,
];

pub use crate::config::Nameserver;

/// What one server said about one (name, type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Observed {
    /// The server serves this RRset.
    Present(RrSet),
    /// The server answered authoritatively that there is no such RRset (NODATA or NXDOMAIN).
    #[default]
    Absent,
    /// The server could not be asked; nothing is known.
    Failed(Failure),
    /// Not asked: only a zone transfer shows this RRset (occluded data below a zone cut).
    Unasked,
}

/// A server's answers to the probes of a plan, in the plan's order. Most probes of a large
/// zone are the common types nobody expects at a name, and come back absent: only the other
/// answers take room (a million-record zone's answers take half the memory a vector of all
/// of them did).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    len: usize,
    /// What a probe not in `others` saw.
    rest: Observed,
    /// The other answers, by probe index, in order.
    others: Vec<(u32, Observed)>,
}

impl Answers {
    /// `len` answers, all `observed` (a transfer that failed: every probe unknown).
    pub fn all(observed: Observed, len: usize) -> Answers {
        Answers {
            len,
            rest: observed,
            others: Vec::new(),
        }
    }

    /// Adds the answer to the next probe.
    pub fn push(&mut self, observed: Observed) {
        if observed != self.rest {
            // A plan of more than four billion probes is refused long before (max_zone_records).
            let index = u32::try_from(self.len).unwrap_or(u32::MAX);
            self.others.push((index, observed));
        }
        self.len += 1;
    }

    /// The answer to probe `index`.
    pub fn get(&self, index: usize) -> Option<&Observed> {
        if index >= self.len {
            return None;
        }
        let index = u32::try_from(index).ok()?;
        Some(
            self.others
                .binary_search_by_key(&index, |(at, _)| *at)
                .map_or(&self.rest, |at| &self.others[at].1),
        )
    }

    /// `len` answers: `others` (by probe index, in order), absent for the rest.
    pub(crate) fn from_sparse(len: usize, others: Vec<(u32, Observed)>) -> Answers {
        Answers {
            len,
            rest: Observed::Absent,
            others,
        }
    }

    /// Every answer, in the plan's order.
    pub fn iter(&self) -> impl Iterator<Item = &Observed> {
        let mut others = self.others.iter().peekable();
        (0..self.len).map(move |index| match others.peek() {
            Some((at, observed)) if *at as usize == index => {
                others.next();
                observed
            }
            _ => &self.rest,
        })
    }

    /// Number of answers (the probes of the plan; none when the server was not asked).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no answer at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl FromIterator<Observed> for Answers {
    fn from_iter<I: IntoIterator<Item = Observed>>(iter: I) -> Answers {
        let mut answers = Answers::default();
        iter.into_iter().for_each(|observed| answers.push(observed));
        answers
    }
}

impl<'a> IntoIterator for &'a Answers {
    type Item = &'a Observed;
    type IntoIter = Box<dyn Iterator<Item = &'a Observed> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// What earlier runs saw of each server's SOA serial, by server address (an older store's
/// rows by label).
pub type SerialsSeen = HashMap<String, SerialSeen>;

/// The SOA serial a server served at the last recorded run, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialSeen {
    /// The serial.
    pub serial: u32,
    /// Since when it has been served, seconds since 1970.
    pub since: i64,
}

/// How a server's view of a zone was obtained (in JSON: `axfr` or `queries`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Method {
    /// A zone transfer: every name and type the server holds is known.
    #[serde(rename = "axfr")]
    Transfer,
    /// One query per probe.
    #[serde(rename = "queries")]
    Queries,
}

/// An RRset a transfer showed that the plan does not cover: an unexpected name or type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    /// Owner name (canonical).
    pub name: Name,
    /// Type.
    pub rtype: RecordType,
    /// What is served.
    pub set: RrSet,
}

/// Everything one server said about one zone.
#[derive(Debug)]
pub struct ServerView {
    /// The server.
    pub server: Nameserver,
    /// The SOA serial it serves, or why it could not be asked at all.
    pub serial: Result<u32, Failure>,
    /// The SOA RRset it serves (compared apart from the rest: serials move).
    pub soa: Observed,
    /// Its answers, one per probe of the plan, in the plan's order (empty when unreachable).
    pub answers: Answers,
    /// RRsets outside the plan (only a transfer finds them).
    pub extras: Vec<Extra>,
    /// Records its transfer carried that are not of the zone (outside it, another class):
    /// a finding about the server, never compared as zone data.
    pub foreign: crate::model::ForeignRecords,
    /// The instances that answered for the address (RFC 5001 NSID), where the server says.
    pub instances: Vec<String>,
    /// Transfer or queries.
    pub method: Method,
    /// Why a transfer was not used, when one was tried.
    pub transfer_failure: Option<Failure>,
    /// Wire counters.
    pub stats: WireStats,
}

/// One question to ask every server, with what the answer should be.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'z> {
    /// Owner name (canonical).
    pub name: &'z Name,
    /// Type asked.
    pub rtype: RecordType,
    /// The expected RRset, None where none is expected.
    pub expected: Option<&'z RrSet>,
    /// The name is a delegation point: NS comes as a referral.
    pub at_cut: bool,
    /// How the RRset is seen when the zone is read by queries.
    pub ask: Ask,
}

/// How a probe's RRset is seen when a zone is read by queries. Each distinct question is
/// sent once, however many probes read its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// Its own question, name and type (at a cut, NS is read from the referral).
    Direct,
    /// Glue: read from the additional section of the referral for the NS of the delegation
    /// that names it (`glue_cuts`). No reference here: a plan holds millions of probes.
    Glue,
    /// RRSIGs: gathered from the answers to the other questions at the name, asked with the DO
    /// bit, as every server serves them. Asked for type RRSIG, Knot gives one signature where
    /// the name holds several.
    Signatures,
    /// NSEC3 records and their RRSIGs: their owners are hashes, which servers answer with a
    /// denial, so they are seen only in the proofs of negative answers. Not seen is not known.
    Proofs,
    /// Only a zone transfer shows this RRset (occluded data, NSEC at a signed cut).
    TransferOnly,
}

/// The NS targets of each delegation, with the delegation whose referral carries their glue.
pub(crate) fn glue_cuts(zone: &Zone) -> HashMap<Name, &Name> {
    let mut glue_cut: HashMap<Name, &Name> = HashMap::new();
    for (name, sets) in zone.iter() {
        // Most names hold no NS: asked first, before comparing names.
        let Some(ns) = sets.get(&RecordType::NS) else {
            continue;
        };
        if *name == zone.origin {
            continue;
        }
        for rdata in &ns.rdatas {
            if let Some(RData::NS(target)) = rdata.to_hickory(RecordType::NS) {
                glue_cut.entry(canonical_name(&target.0)).or_insert(name);
            }
        }
    }
    glue_cut
}

/// The questions to ask for a zone, in canonical order of names. Built once; the answers of
/// every server line up with it, so nothing is looked up by name afterwards.
pub fn plan<'z>(zone: &'z Zone, settings: &ZoneSettings) -> Vec<Probe<'z>> {
    let glue_cut = glue_cuts(zone);
    let mut out = Vec::with_capacity(zone.len() * 2);
    // The topmost cut the walk is below: names below a cut follow it in canonical order, and
    // their keys start with its key.
    let mut cut: Option<(&[u8], &'z Name)> = None;
    let mut types: Vec<RecordType> = Vec::new();
    let mut probe_types = PROBE_TYPES;
    probe_types.sort_unstable_by_key(|t| u16::from(*t));
    for (key, name, sets) in zone.iter_keyed() {
        if cut.is_some_and(|(above, _)| !key.starts_with(above)) {
            cut = None;
        }
        if cut.is_none() && sets.contains_key(&RecordType::NS) && *name != zone.origin {
            cut = Some((key, name));
        }
        if settings.ignores_name(&zone.origin, name) {
            continue;
        }
        let cut = cut.map(|(_, cut)| cut);
        let at_cut = cut.is_some_and(|cut| std::ptr::eq(cut, name));
        let below_cut = cut.is_some() && !at_cut;
        // An NSEC3 owner is a hash, not a name anyone asks for: no probe of common types. Nor
        // at an alias: its server answers every type with the CNAME (RFC 1034 3.6.2; no
        // server loads other data beside one), so each would only come back empty.
        let hashed = sets.contains_key(&RecordType::NSEC3);
        let alias = sets.contains_key(&RecordType::CNAME);
        let asked_too: &[RecordType] = if cut.is_none() && !hashed && !alias {
            &probe_types
        } else if at_cut {
            // At a cut the parent is authoritative only for DS (NS comes as a referral); below
            // it lives only glue and occluded data. The rest shows in a transfer.
            &[RecordType::NS, RecordType::DS]
        } else {
            &[]
        };
        merge_types(sets.keys().copied(), asked_too, &mut types);
        types.retain(|t| {
            !settings.ignore_types.contains(t) && !matches!(t, RecordType::SOA | RecordType::OPT)
        });
        let glue = below_cut && glue_cut.contains_key(name);
        out.extend(types.iter().map(|&rtype| Probe {
            name,
            rtype,
            expected: sets.get(&rtype),
            at_cut,
            ask: how_asked(rtype, (cut.is_some(), at_cut, glue), hashed),
        }));
    }
    // Grown by doubling, the vector may hold room for nearly twice the probes: a plan of
    // millions keeps only what it holds.
    out.shrink_to_fit();
    out
}

/// The types of `held` and `more`, both in type order, into `out`: in type order, each once.
fn merge_types(
    held: impl Iterator<Item = RecordType>,
    more: &[RecordType],
    out: &mut Vec<RecordType>,
) {
    out.clear();
    let mut more = more.iter().copied().peekable();
    for rtype in held {
        let code = u16::from(rtype);
        while let Some(before) = more.next_if(|t| u16::from(*t) < code) {
            out.push(before);
        }
        more.next_if_eq(&rtype);
        out.push(rtype);
    }
    out.extend(more);
}

/// How a server is asked about `rtype` at a name: `cut` (at or below a delegation), `at_cut`,
/// `glue` (an address of a name a delegation's NS names), `hashed` (an NSEC3 owner).
fn how_asked(rtype: RecordType, (cut, at_cut, glue): (bool, bool, bool), hashed: bool) -> Ask {
    let address = matches!(rtype, RecordType::A | RecordType::AAAA);
    let by_referral_or_authority = at_cut && matches!(rtype, RecordType::NS | RecordType::DS);
    match rtype {
        _ if glue && address => Ask::Glue,
        _ if cut && !by_referral_or_authority => Ask::TransferOnly,
        RecordType::NSEC3 => Ask::Proofs,
        RecordType::RRSIG if hashed => Ask::Proofs,
        RecordType::RRSIG => Ask::Signatures,
        _ => Ask::Direct,
    }
}

/// One question sent to a server, with what the probes that read its answer need of it.
#[derive(Clone, Debug)]
pub struct Question<'z> {
    /// Name asked.
    pub name: &'z Name,
    /// Type asked.
    pub rtype: RecordType,
    /// What the answer is read for (and whether the DO bit is set).
    pub keep: Keep,
}

/// The questions of a zone and, per probe, the one whose answer it reads.
pub type Asking<'z> = (Vec<Question<'z>>, Vec<Option<usize>>);

/// The distinct questions a zone is read with by queries, the apex SOA first, and for each
/// probe the question whose answer it reads (None for probes read from other answers or only
/// by transfer). In a signed zone every question but a referral's is asked with the DO bit,
/// so the signatures of each RRset come with it.
pub fn questions<'z>(zone: &'z Zone, plan: &[Probe<'z>]) -> Asking<'z> {
    let origin = &zone.origin;
    let glue_cut = glue_cuts(zone);
    let signed = signed(plan);
    let mut questions = vec![Question {
        name: origin,
        rtype: RecordType::SOA,
        keep: soa_keep(signed),
    }];
    questions.reserve(plan.len());
    // The plan holds each (name, type) once, so only a referral, asked for the NS at a cut and
    // read for its glue too, can be reached twice: those alone are looked up, by the cut (the
    // zone's own `Name`, known by where it lives: cheaper to hash than the name).
    let mut referrals: HashMap<usize, usize> = HashMap::new();
    let asked = plan
        .iter()
        .map(|probe| {
            let (name, rtype, referral) = match probe.ask {
                Ask::Direct => (
                    probe.name,
                    probe.rtype,
                    probe.at_cut && probe.rtype == RecordType::NS,
                ),
                Ask::Glue => (*glue_cut.get(probe.name)?, RecordType::NS, true),
                Ask::Signatures | Ask::Proofs | Ask::TransferOnly => return None,
            };
            let mut ask = || {
                questions.push(Question {
                    name,
                    rtype,
                    keep: Keep {
                        also: Vec::new(),
                        dnssec: crate::transport::wants_dnssec(rtype) || (signed && !referral),
                    },
                });
                questions.len() - 1
            };
            let at = if referral {
                *referrals
                    .entry(std::ptr::from_ref(name) as usize)
                    .or_insert_with(ask)
            } else {
                ask()
            };
            if !std::ptr::eq(probe.name, name) || probe.rtype != rtype {
                questions[at]
                    .keep
                    .also
                    .push((probe.name.clone(), probe.rtype));
            }
            Some(at)
        })
        .collect();
    (questions, asked)
}

/// Whether the plan reads signatures: then every question but a referral sets the DO bit.
fn signed(plan: &[Probe<'_>]) -> bool {
    plan.iter().any(|p| p.rtype == RecordType::RRSIG)
}

/// What is read of the apex SOA answer.
fn soa_keep(signed: bool) -> Keep {
    Keep {
        also: Vec::new(),
        dnssec: signed,
    }
}
/// The servers to audit for a zone: `overrides` (from the command line) first, then the config,
/// then the zone's NS records with in-zone glue, then NS names through the system resolver.
pub async fn nameservers(
    zone: &Zone,
    settings: &ZoneSettings,
    overrides: &[Nameserver],
) -> Result<Vec<Nameserver>, String> {
    if !overrides.is_empty() {
        return Ok(overrides.to_vec());
    }
    if !settings.nameservers.is_empty() {
        return Ok(settings.nameservers.clone());
    }
    let ns_set = zone
        .rrset(&zone.origin, RecordType::NS)
        .ok_or("the zone has no NS records and no nameservers are configured")?;
    let mut out = Vec::new();
    for rdata in &ns_set.rdatas {
        let Some(RData::NS(target)) = rdata.to_hickory(RecordType::NS) else {
            continue;
        };
        let target = canonical_name(&target.0);
        let label = relative_label(&zone.origin, &target);
        let glue: Vec<SocketAddr> = [RecordType::A, RecordType::AAAA]
            .into_iter()
            .filter_map(|t| Some((t, zone.rrset(&target, t)?)))
            .flat_map(|(t, set)| set.rdatas.iter().filter_map(move |r| r.to_hickory(t)))
            .filter_map(|rdata| match rdata {
                RData::A(a) => Some(SocketAddr::new(a.0.into(), 53)),
                RData::AAAA(aaaa) => Some(SocketAddr::new(aaaa.0.into(), 53)),
                _ => None,
            })
            .collect();
        let addrs = if glue.is_empty() {
            let host = target.to_ascii();
            crate::resolvers::addresses_of(&host, QuerySettings::default())
                .await
                .map_err(|e| format!("cannot resolve nameserver {}: {e}", present_name(&target)))?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 53))
                .collect()
        } else {
            glue
        };
        out.extend(addrs.into_iter().map(|addr| Nameserver {
            label: label.clone(),
            addr,
        }));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

impl std::str::FromStr for Nameserver {
    type Err = String;

    fn from_str(text: &str) -> Result<Nameserver, String> {
        let (label, addr) = match text.split_once('=') {
            Some((label, addr)) if !label.is_empty() => (Some(label), addr),
            _ => (None, text),
        };
        let addr = crate::config::parse_server(addr).map_err(|why| {
            format!("bad nameserver {text:?}: {why} (expected [NAME=]IP[:PORT] or IP@PORT)")
        })?;
        Ok(Nameserver {
            label: label.map_or_else(|| addr.to_string(), str::to_string),
            addr,
        })
    }
}

/// `ns1` for `ns1.<origin>`, the full name otherwise.
fn relative_label(origin: &Name, name: &Name) -> String {
    let full = present_name(name);
    let suffix = present_name(origin);
    if !origin.is_root() && origin.zone_of(name) && name != origin {
        let cut = full.len() - suffix.len();
        // One separator: a label's own escaped dot (`a\.`) stays.
        return full[..cut]
            .strip_suffix('.')
            .unwrap_or(&full[..cut])
            .to_string();
    }
    full.strip_suffix('.').unwrap_or(&full).to_string()
}

/// A zone transfer under way, started by [`Transfers::start`].
type Pending = tokio::task::JoinHandle<Result<Served, Failure>>;

/// Zone transfers started before the zone files are loaded, where the servers to ask are known
/// without them (`--nameserver`, the config's `nameservers`): the server sends and this side
/// receives while the loader reads the files on the other core. The audit takes each when it
/// comes to its server, after the SOA as always: a server that gives no SOA has its transfer
/// stopped there; one nobody takes (a zone that did not load) is stopped when this is dropped.
#[derive(Default)]
pub struct Transfers(std::sync::Mutex<HashMap<(Name, SocketAddr), Pending>>);

impl Transfers {
    /// Starts transferring `origin` from `addr`, on the current runtime.
    pub fn start(
        &self,
        origin: Name,
        addr: SocketAddr,
        settings: QuerySettings,
        tsig: Option<TsigKey>,
    ) {
        let key = (origin.clone(), addr);
        let task = tokio::spawn(async move {
            let server = Server::new(addr, settings);
            let timeout = settings.transfer_timeout;
            server.transfer(&origin, timeout, tsig.as_ref()).await
        });
        if let Ok(mut pending) = self.0.lock() {
            pending.insert(key, task);
        }
    }

    /// Whether none was started.
    pub fn is_empty(&self) -> bool {
        self.0.lock().map_or(true, |pending| pending.is_empty())
    }

    /// The transfer of `origin` from `addr`, if one was started.
    fn take(&self, origin: &Name, addr: SocketAddr) -> Option<Pending> {
        let mut pending = self.0.lock().ok()?;
        pending.remove(&(origin.clone(), addr))
    }
}

impl Drop for Transfers {
    fn drop(&mut self) {
        if let Ok(pending) = self.0.get_mut() {
            for (_, task) in pending.drain() {
                task.abort();
            }
        }
    }
}

/// Asks one server everything in `plan`, by transfer or with the questions worked out for the
/// zone (`questions`). The SOA comes first: a server that cannot give it is
/// reported unreachable and not asked the rest (which would only wait out more timeouts).
pub(crate) async fn observe_server<'z>(
    server: Nameserver,
    zone: &'z Zone,
    (plan, asking): (&[Probe<'z>], &std::sync::OnceLock<Asking<'z>>),
    settings: QuerySettings,
    (axfr, tsig): (AxfrMode, Option<&TsigKey>),
    started: Option<Pending>,
) -> ServerView {
    let wire = Server::new(server.addr, settings);
    crate::progress::server_asked();
    tracing::info!(
        "asking {} ({}) about {}: SOA, then {}",
        server.label,
        server.addr,
        present_name(&zone.origin),
        if axfr == AxfrMode::Never {
            "queries"
        } else {
            "a zone transfer (queries if refused)"
        }
    );
    let mut view = ServerView::unread(server);
    let soa_answer = wire
        .query_for(&zone.origin, RecordType::SOA, &soa_keep(signed(plan)))
        .await;
    (view.serial, view.soa) = read_soa(&soa_answer, &zone.origin);
    if view.serial.is_ok() && axfr != AxfrMode::Never {
        let transfer = match started {
            Some(pending) => wire.started_transfer(pending).await,
            None => {
                let timeout = settings.transfer_timeout;
                wire.transfer(&zone.origin, timeout, tsig).await
            }
        };
        read_transfer(&mut view, transfer, zone, plan, axfr);
    } else if let Some(pending) = started {
        // The server did not give the SOA: it is not asked the rest.
        pending.abort();
    }
    if view.serial.is_ok() && view.method == Method::Queries {
        // Worked out by the first server read by queries, for all: a zone every server
        // transfers never needs them.
        let (questions, asked) = asking.get_or_init(|| questions(zone, plan));
        view.answers = ask_all(
            &wire,
            (plan, questions, asked),
            soa_answer,
            settings.concurrency,
        )
        .await;
    }
    view.stats = wire.stats();
    view.instances = wire.instances();
    log_read(&view);
    view
}

impl ServerView {
    /// A server not read yet: no SOA, nothing known.
    fn unread(server: Nameserver) -> ServerView {
        ServerView {
            server,
            serial: Err(Failure::Timeout),
            soa: Observed::Failed(Failure::Timeout),
            answers: Answers::default(),
            extras: Vec::new(),
            foreign: crate::model::ForeignRecords::default(),
            instances: Vec::new(),
            method: Method::Queries,
            transfer_failure: None,
            stats: WireStats::default(),
        }
    }
}

/// `-v`: how a server was read, and what it cost.
fn log_read(view: &ServerView) {
    tracing::info!(
        "{} ({}): {} by {}, {} queries, {} retries, {} over TCP{}",
        view.server.label,
        view.server.addr,
        match &view.serial {
            Ok(serial) => format!("serial {serial}"),
            Err(failure) => format!("no SOA ({failure})"),
        },
        match view.method {
            Method::Transfer => "transfer",
            Method::Queries => "queries",
        },
        view.stats.queries,
        view.stats.retries,
        view.stats.tcp_fallbacks,
        view.transfer_failure
            .as_ref()
            .map(|f| format!("; transfer refused or failed: {f}"))
            .unwrap_or_default()
    );
    if !view.instances.is_empty() {
        tracing::info!(
            "{} ({}): answered by instance {} (NSID)",
            view.server.label,
            view.server.addr,
            view.instances.join(", ")
        );
    }
}

/// Takes a transfer's records into `view`; a failed one leaves the view to queries, except
/// under `axfr = "always"`, where nothing is known.
fn read_transfer<'z>(
    view: &mut ServerView,
    transfer: Result<Served, Failure>,
    zone: &'z Zone,
    plan: &[Probe<'z>],
    axfr: AxfrMode,
) {
    match transfer {
        Ok(mut records) => {
            view.foreign = std::mem::take(&mut records.foreign);
            (view.answers, view.extras) = from_transfer(zone, plan, records);
            view.method = Method::Transfer;
        }
        Err(failure) if axfr == AxfrMode::Always => {
            view.method = Method::Transfer;
            view.answers = Answers::all(Observed::Failed(failure.clone()), plan.len());
            view.transfer_failure = Some(failure);
        }
        Err(failure) => view.transfer_failure = Some(failure),
    }
}

/// The serial and SOA RRset an answer to the apex SOA gives, or why there are none.
fn read_soa(answer: &Result<Message, Failure>, origin: &Name) -> (Result<u32, Failure>, Observed) {
    match answer {
        Ok(answer) if !answer.metadata.authoritative => (
            Err(Failure::NotAuthoritative),
            Observed::Failed(Failure::NotAuthoritative),
        ),
        Ok(answer) => match soa_serial(answer, origin) {
            Some(serial) => (
                Ok(serial),
                rrset_from(answer.answers.iter(), origin, RecordType::SOA),
            ),
            // Authoritative, yet no SOA at the apex: an NXDOMAIN or NODATA for the zone
            // itself. The server does not serve it; nothing it says of the zone is read.
            None => {
                let what = match answer.metadata.response_code {
                    hickory_proto::op::ResponseCode::NXDomain => "NXDOMAIN for the zone's apex",
                    _ => "no SOA for the zone's apex",
                };
                let failure = Failure::NotServed(what.into());
                (Err(failure.clone()), Observed::Failed(failure))
            }
        },
        Err(failure) => (Err(failure.clone()), Observed::Failed(failure.clone())),
    }
}

/// Asks every question (the first, the apex SOA, already asked), at most `concurrency` in
/// flight, and reads each reply as it comes: what a probe saw is kept, the message is not
/// (two million messages took 2.8 GB).
async fn ask_all(
    wire: &Arc<Server>,
    (plan, questions, asked): (&[Probe<'_>], &[Question<'_>], &[Option<usize>]),
    soa_answer: Result<Message, Failure>,
    concurrency: usize,
) -> Answers {
    let mut reader = Reader::new(plan, questions, asked);
    reader.take(0, &soa_answer);
    let asking = questions
        .iter()
        .enumerate()
        .skip(1)
        .map(|(index, question)| {
            let wire = Arc::clone(wire);
            async move {
                let reply = wire
                    .query_for(question.name, question.rtype, &question.keep)
                    .await;
                (index, reply)
            }
        });
    let mut replies = stream::iter(asking).buffer_unordered(concurrency.max(1));
    while let Some((index, reply)) = replies.next().await {
        reader.take(index, &reply);
    }
    reader.finish()
}

/// What each probe of the plan saw, from the replies to the questions (one per question, in
/// order). Signatures are gathered per name from the answers to its questions, NSEC3 records
/// from the denial proofs of every reply.
#[cfg(test)]
fn read_replies(
    plan: &[Probe<'_>],
    questions: &[Question<'_>],
    asked: &[Option<usize>],
    replies: &[Result<Message, Failure>],
) -> Answers {
    let mut reader = Reader::new(plan, questions, asked);
    for (index, reply) in replies.iter().enumerate() {
        reader.take(index, reply);
    }
    reader.finish()
}

/// Reads replies in any order into what each probe saw: a probe that reads a question's
/// answer is settled when it comes; signatures (gathered per name from the answers to its
/// questions) and NSEC3 records (from the denial proofs of every reply) once all are in.
struct Reader<'p, 'z> {
    plan: &'p [Probe<'z>],
    questions: &'p [Question<'z>],
    asked: &'p [Option<usize>],
    /// The probes reading each question: `probes[starts[q]..starts[q + 1]]`.
    starts: Vec<usize>,
    probes: Vec<usize>,
    signed: bool,
    /// What the probes saw, where not absent, by probe.
    seen: Vec<(u32, Observed)>,
    /// In a signed zone, the signatures each answer carried at its question's name.
    signatures: HashMap<usize, Observed>,
    proofs: HashMap<(Name, RecordType), RrSet>,
}

impl<'p, 'z> Reader<'p, 'z> {
    fn new(
        plan: &'p [Probe<'z>],
        questions: &'p [Question<'z>],
        asked: &'p [Option<usize>],
    ) -> Self {
        let mut counts = vec![0usize; questions.len() + 1];
        for &at in asked.iter().flatten() {
            counts[at + 1] += 1;
        }
        let mut starts = counts;
        for q in 1..starts.len() {
            starts[q] += starts[q - 1];
        }
        let mut fill = starts.clone();
        let mut probes = vec![0; starts[questions.len()]];
        for (probe, &at) in asked.iter().enumerate() {
            if let Some(at) = at {
                probes[fill[at]] = probe;
                fill[at] += 1;
            }
        }
        Reader {
            plan,
            questions,
            asked,
            starts,
            probes,
            signed: signed(plan),
            seen: Vec::new(),
            signatures: HashMap::new(),
            proofs: HashMap::new(),
        }
    }

    /// Reads the reply to question `index`.
    fn take(&mut self, index: usize, reply: &Result<Message, Failure>) {
        for slot in self.starts[index]..self.starts[index + 1] {
            let at = self.probes[slot];
            let probe = &self.plan[at];
            let observed = match (probe.ask, reply) {
                (_, Err(failure)) => Observed::Failed(failure.clone()),
                (Ask::Glue, Ok(answer)) => {
                    rrset_from(answer.additionals.iter(), probe.name, probe.rtype)
                }
                (_, Ok(answer)) => read_answer(answer, probe.name, probe.rtype, probe.at_cut),
            };
            self.keep(at, observed);
        }
        if !self.signed {
            return;
        }
        let name = self.questions[index].name;
        let signatures = match reply {
            Ok(answer) if answer.metadata.authoritative => {
                rrset_from(answer.answers.iter(), name, RecordType::RRSIG)
            }
            Ok(_) => Observed::Failed(Failure::NotAuthoritative),
            Err(failure) => Observed::Failed(failure.clone()),
        };
        if signatures != Observed::Absent {
            self.signatures.insert(index, signatures);
        }
        if let Ok(answer) = reply {
            add_denial_proofs(&mut self.proofs, answer);
        }
    }

    fn keep(&mut self, probe: usize, observed: Observed) {
        if observed != Observed::Absent {
            self.seen
                .push((u32::try_from(probe).unwrap_or(u32::MAX), observed));
        }
    }

    /// What every probe saw, once every reply is in.
    fn finish(mut self) -> Answers {
        // By name, not by where it lives: the apex SOA's question names the zone's origin.
        let mut by_name: HashMap<&Name, Vec<usize>> = HashMap::new();
        if self.signed {
            for (index, question) in self.questions.iter().enumerate() {
                by_name.entry(question.name).or_default().push(index);
            }
        }
        let plan = self.plan;
        for (at, probe) in plan.iter().enumerate() {
            if self.asked.get(at).copied().flatten().is_some() {
                continue;
            }
            let observed = match probe.ask {
                Ask::Signatures => {
                    let here = by_name.get(probe.name).map(Vec::as_slice).unwrap_or(&[]);
                    signatures(here.iter().map(|q| self.signatures.get(q)))
                }
                Ask::Proofs => self
                    .proofs
                    .get(&(probe.name.clone(), probe.rtype))
                    .cloned()
                    .map_or(Observed::Unasked, Observed::Present),
                Ask::TransferOnly => Observed::Unasked,
                Ask::Direct | Ask::Glue => continue,
            };
            self.keep(at, observed);
        }
        self.seen.sort_unstable_by_key(|(at, _)| *at);
        Answers::from_sparse(plan.len(), self.seen)
    }
}

/// The RRSIGs at a name, from what the answers to the questions asked there carried (with the
/// DO bit): the signatures of every RRset it serves. A question that failed, or an answer
/// without authority, leaves them unknown.
fn signatures<'o>(answers: impl Iterator<Item = Option<&'o Observed>>) -> Observed {
    let mut set: Option<RrSet> = None;
    for observed in answers {
        match observed {
            Some(Observed::Present(found)) => match &mut set {
                Some(set) => {
                    for rdata in &found.rdatas {
                        set.insert(found.ttl, rdata.clone());
                    }
                }
                None => set = Some(found.clone()),
            },
            Some(Observed::Absent) | None => {}
            Some(other) => return other.clone(),
        }
    }
    set.map_or(Observed::Absent, Observed::Present)
}

/// Adds to `found` the NSEC3 records and the RRSIGs over them, by owner, from the authority
/// section of an authoritative reply: the only place servers show them.
fn add_denial_proofs(found: &mut HashMap<(Name, RecordType), RrSet>, answer: &Message) {
    if !answer.metadata.authoritative {
        return;
    }
    for record in &answer.authorities {
        let rtype = record.record_type();
        let Some(rdata) = Rdata::from_hickory(&record.data) else {
            continue;
        };
        let proof = rtype == RecordType::NSEC3
            || (rtype == RecordType::RRSIG && rdata.rrsig_covered() == Some(RecordType::NSEC3));
        if !proof {
            continue;
        }
        match found.entry((canonical_name(&record.name), rtype)) {
            std::collections::hash_map::Entry::Occupied(mut set) => {
                set.get_mut().insert(record.ttl, rdata);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(RrSet::single(record.ttl, rdata));
            }
        }
    }
}

/// Lines a transfer up with the plan; what the plan does not cover becomes an [`Extra`]. Both
/// are in canonical order (the plan by construction, the transfer once sorted), so this is one
/// walk of the two side by side, with no map of either.
fn from_transfer(zone: &Zone, plan: &[Probe<'_>], served: Served) -> (Answers, Vec<Extra>) {
    let mut sets = served.into_sets();
    let mut names = zone.keyed_names();
    let mut here: Option<(&[u8], &Name)> = None;
    let mut answers = Answers::default();
    let mut extras = Vec::new();
    let apex = zone.keyed_names().next().map(|(key, _)| key.to_vec());
    let mut extra = |(key, rtype, set): (Vec<u8>, RecordType, RrSet)| {
        // The SOA is read apart (serials move).
        if rtype != RecordType::SOA || Some(&key) != apex.as_ref() {
            extras.push(Extra {
                name: name_of_key(&key),
                rtype,
                set,
            });
        }
    };
    for probe in plan {
        // The plan's names are the zone's own, in its order: the key is found by walking on.
        while !here.is_some_and(|(_, name)| std::ptr::eq(name, probe.name)) {
            here = names.next();
            if here.is_none() {
                // Not a name of this zone (never so for a plan made by [`plan`]).
                names = zone.keyed_names();
                here = names.find(|(_, name)| *name == probe.name);
                break;
            }
        }
        let Some((key, _)) = here else {
            answers.push(Observed::Absent);
            continue;
        };
        let wanted = (key, probe.rtype);
        while let Some(set) = sets.next_if(|next, rtype| (next, rtype) < wanted) {
            extra(set);
        }
        let observed = sets.next_if(|next, rtype| (next, rtype) == wanted);
        answers.push(observed.map_or(Observed::Absent, |(_, _, set)| Observed::Present(set)));
    }
    while let Some(set) = sets.next_set() {
        extra(set);
    }
    (answers, extras)
}

/// What one raw answer says about `name`/`rtype`, as the query path reads it: a message that
/// does not parse, is not a response to this question, carries an error rcode, or is not
/// authoritative (unless it is a referral at a cut, `at_cut`) is a failure, never data.
pub fn observe_bytes(bytes: &[u8], name: &Name, rtype: RecordType, at_cut: bool) -> Observed {
    let message = match crate::transport::decode_for(bytes, &Keep::rrset(name, rtype)) {
        Ok(message) => message,
        Err(e) => return Observed::Failed(Failure::Malformed(e.to_string())),
    };
    if message.metadata.truncation {
        return Observed::Failed(Failure::Truncated);
    }
    match crate::transport::check(message, name, rtype) {
        Ok(answer) => read_answer(&answer, name, rtype, at_cut),
        Err(failure) => Observed::Failed(failure),
    }
}

/// The RRset a checked answer gives: from the answer section when authoritative, from the
/// authority section for the NS of a referral at a cut; anything else is a lame answer.
fn read_answer(message: &Message, name: &Name, rtype: RecordType, at_cut: bool) -> Observed {
    if !message.metadata.authoritative {
        if at_cut && rtype == RecordType::NS {
            return rrset_from(message.authorities.iter(), name, rtype);
        }
        return Observed::Failed(Failure::NotAuthoritative);
    }
    rrset_from(message.answers.iter(), name, rtype)
}

/// The RRset of `name`/`rtype` among `records` (other names and types, such as a CNAME chain's
/// target, are not this RRset).
fn rrset_from<'a>(
    records: impl Iterator<Item = &'a hickory_proto::rr::Record>,
    name: &Name,
    rtype: RecordType,
) -> Observed {
    let mut set: Option<RrSet> = None;
    for record in records {
        if record.record_type() != rtype || record.name != *name {
            continue;
        }
        if record.dns_class != hickory_proto::rr::DNSClass::IN {
            // An answer of another class to an IN question is no IN data: unknown, not drift.
            return Observed::Failed(Failure::Malformed(format!(
                "{rtype} records of class {} in the answer to an IN question",
                record.dns_class
            )));
        }
        let Some(rdata) = Rdata::from_hickory(&record.data) else {
            return Observed::Failed(Failure::Malformed(format!("{rtype} data does not encode")));
        };
        match &mut set {
            Some(set) => {
                set.insert(record.ttl, rdata);
            }
            None => set = Some(RrSet::single(record.ttl, rdata)),
        }
    }
    set.map_or(Observed::Absent, Observed::Present)
}

fn soa_serial(message: &Message, origin: &Name) -> Option<u32> {
    message
        .answers
        .iter()
        .find_map(|record| match &record.data {
            RData::SOA(soa) if record.name == *origin => Some(soa.serial),
            _ => None,
        })
}

/// Observes the zone on every server at once.
pub(crate) async fn observe_zone(
    zone: &Zone,
    plan: &[Probe<'_>],
    servers: Vec<Nameserver>,
    (query, settings): (QuerySettings, &ZoneSettings),
    transfers: &Transfers,
) -> Vec<ServerView> {
    // The questions are the same for every server: worked out once, when first needed.
    let asking = std::sync::OnceLock::new();
    let views = servers.into_iter().map(|server| {
        let started = transfers.take(&zone.origin, server.addr);
        observe_server(
            server,
            zone,
            (plan, &asking),
            query,
            (settings.axfr, settings.tsig.as_ref()),
            started,
        )
    });
    futures_util::future::join_all(views).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn records_of_another_class_are_never_in_data() {
        use hickory_proto::rr::{rdata::A, DNSClass, RData, Record};
        let name = Name::from_str("bh17.bots.example.net.").unwrap();
        let mut record = Record::from_rdata(name.clone(), 300, RData::A(A::new(6, 6, 6, 6)));
        assert!(matches!(
            rrset_from([&record].into_iter(), &name, RecordType::A),
            Observed::Present(_)
        ));
        record.dns_class = DNSClass::CH;
        let observed = rrset_from([&record].into_iter(), &name, RecordType::A);
        assert!(
            matches!(&observed, Observed::Failed(Failure::Malformed(why)) if why.contains("class CH")),
            "{observed:?}"
        );
    }

    #[test]
    fn types_merge_in_type_order_each_once() {
        use RecordType::*;
        let mut probe_types = PROBE_TYPES;
        probe_types.sort_unstable_by_key(|t| u16::from(*t));
        let mut out = Vec::new();
        merge_types([NS, TXT, AAAA, RRSIG].into_iter(), &probe_types, &mut out);
        assert_eq!(out, [A, NS, CNAME, MX, TXT, AAAA, SRV, RRSIG, CAA]);
        merge_types([A, DNSKEY].into_iter(), &[], &mut out);
        assert_eq!(out, [A, DNSKEY]);
        merge_types(std::iter::empty(), &[NS, DS], &mut out);
        assert_eq!(out, [NS, DS]);
    }

    #[test]
    fn answers_keep_only_what_is_not_absent_and_read_back_in_order() {
        let set = RrSet::single(
            60,
            Rdata::from_wire(RecordType::A, &[192, 0, 2, 1]).unwrap(),
        );
        let seen = vec![
            Observed::Absent,
            Observed::Present(set.clone()),
            Observed::Absent,
            Observed::Failed(Failure::Timeout),
            Observed::Absent,
        ];
        let answers: Answers = seen.iter().cloned().collect();
        assert_eq!(answers.others.len(), 2, "absent answers take no room");
        assert_eq!(answers.len(), 5);
        assert_eq!(answers.iter().cloned().collect::<Vec<_>>(), seen);
        assert_eq!(answers.get(1), Some(&Observed::Present(set)));
        assert_eq!(answers.get(4), Some(&Observed::Absent));
        assert_eq!(answers.get(5), None);
        let failed = Answers::all(Observed::Failed(Failure::Timeout), 3);
        assert_eq!(failed.iter().count(), 3);
        assert!(failed
            .iter()
            .all(|o| *o == Observed::Failed(Failure::Timeout)));
    }

    #[test]
    fn plan_probes_common_types_and_reads_glue_from_referrals() {
        let text = "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nbh1 A 192.0.2.2\n\
                    sub NS ns.sub\nns.sub A 192.0.2.3\n";
        let origin = Name::from_str("z.net.").unwrap();
        let zone = crate::zonefile::test_zone("z.net.", text).zone;
        let settings = crate::config::Config::default().zone(&origin).clone();
        let plan = plan(&zone, &settings);
        let bh1 = Name::from_str("bh1.z.net.").unwrap();
        let at_bh1: Vec<_> = plan
            .iter()
            .filter(|p| *p.name == bh1)
            .map(|p| p.rtype)
            .collect();
        assert_eq!(at_bh1.len(), PROBE_TYPES.len());
        let sub = Name::from_str("sub.z.net.").unwrap();
        let at_sub: Vec<_> = plan
            .iter()
            .filter(|p| *p.name == sub)
            .map(|p| p.rtype)
            .collect();
        assert_eq!(at_sub, vec![RecordType::NS, RecordType::DS]);
        let glue: Vec<_> = plan
            .iter()
            .filter(|p| p.name.to_ascii() == "ns.sub.z.net.")
            .collect();
        assert_eq!(glue.len(), 1, "only the expected A, read from the referral");
        assert_eq!(glue[0].ask, Ask::Glue);
        assert_eq!(glue_cuts(&zone).get(glue[0].name), Some(&&sub));
        assert!(plan.iter().filter(|p| p.at_cut).all(|p| *p.name == sub));

        // The referral for sub's NS is asked once, for the NS and the glue alike.
        let (questions, asked) = questions(&zone, &plan);
        let referral: Vec<usize> = plan
            .iter()
            .zip(&asked)
            .filter(|(p, _)| matches!(p.ask, Ask::Glue) || (p.at_cut && p.rtype == RecordType::NS))
            .map(|(_, at)| at.unwrap())
            .collect();
        assert_eq!(referral.len(), 2);
        assert_eq!(referral[0], referral[1]);
        // The NS of the question itself, and the glue besides.
        assert_eq!(questions[referral[0]].keep.also.len(), 1);
        assert_eq!(
            questions.len(),
            plan.len(),
            "SOA added, one referral shared"
        );
        assert!(
            questions
                .iter()
                .all(|q| q.keep.dnssec == (q.rtype == RecordType::DS)),
            "an unsigned zone asks with DO only for DNSSEC types"
        );
    }

    #[test]
    fn signatures_are_gathered_from_the_answers_they_come_with() {
        use hickory_proto::op::{MessageType, Query};
        use hickory_proto::rr::Record;
        let text = "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n\
                    ns1 RRSIG A 13 3 300 20361101000000 20261101000000 1 z.net. AAAA\n\
                    ns1 RRSIG NSEC 13 3 300 20361101000000 20261101000000 1 z.net. AAAA\n\
                    ns1 NSEC z.net. A RRSIG NSEC\n";
        let origin = Name::from_str("z.net.").unwrap();
        let zone = crate::zonefile::test_zone("z.net.", text).zone;
        let settings = crate::config::Config::default().zone(&origin).clone();
        let plan = plan(&zone, &settings);
        let (questions, asked) = questions(&zone, &plan);
        assert!(
            questions.iter().all(|q| q.keep.dnssec),
            "a signed zone asks with DO"
        );
        assert!(plan
            .iter()
            .zip(&asked)
            .all(|(p, at)| (p.rtype == RecordType::RRSIG) == at.is_none()));
        let ns1 = Name::from_str("ns1.z.net.").unwrap();
        // Each answer carries the signature over its own RRset, as servers send them.
        let reply = |question: &Question<'_>| -> Result<Message, Failure> {
            let mut m = Message::query();
            m.metadata.message_type = MessageType::Response;
            m.metadata.authoritative = true;
            m.queries
                .push(Query::query(question.name.clone(), question.rtype));
            for (name, rtype, sets) in zone
                .iter()
                .flat_map(|(n, sets)| sets.iter().map(move |(t, s)| (n, *t, s)))
            {
                let covers = |r: &Rdata| r.rrsig_covered() == Some(question.rtype);
                for rdata in &sets.rdatas {
                    let wanted = (rtype == question.rtype
                        || (rtype == RecordType::RRSIG && covers(rdata)))
                        && name == question.name;
                    if wanted {
                        m.answers.push(Record::from_rdata(
                            name.clone(),
                            300,
                            rdata.to_hickory(rtype).unwrap(),
                        ));
                    }
                }
            }
            Ok(m)
        };
        let mut replies: Vec<_> = questions.iter().map(reply).collect();
        let signatures_at_ns1 = |replies: &[Result<Message, Failure>]| {
            let seen = read_replies(&plan, &questions, &asked, replies);
            let found = plan
                .iter()
                .zip(seen.iter())
                .find(|(p, _)| *p.name == ns1 && p.rtype == RecordType::RRSIG)
                .map(|(_, seen)| seen.clone())
                .unwrap();
            found
        };
        assert_eq!(
            signatures_at_ns1(&replies),
            Observed::Present(zone.rrset(&ns1, RecordType::RRSIG).unwrap().clone())
        );
        // One question at the name failed: its signatures are unknown, not missing.
        let at = questions
            .iter()
            .position(|q| *q.name == ns1 && q.rtype == RecordType::NSEC)
            .unwrap();
        replies[at] = Err(Failure::Timeout);
        assert_eq!(
            signatures_at_ns1(&replies),
            Observed::Failed(Failure::Timeout)
        );
    }

    #[test]
    fn nameservers_come_from_ns_records_and_in_zone_glue() {
        let text = "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\n\
                    ns1 AAAA 2001:db8::1\nns2 A 192.0.2.2\n";
        let origin = Name::from_str("z.net.").unwrap();
        let zone = crate::zonefile::test_zone("z.net.", text).zone;
        let settings = crate::config::Config::default().zone(&origin).clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let found = runtime
            .block_on(nameservers(&zone, &settings, &[]))
            .unwrap();
        let shown: Vec<String> = found
            .iter()
            .map(|n| format!("{}={}", n.label, n.addr))
            .collect();
        assert_eq!(
            shown,
            vec![
                "ns1=192.0.2.1:53",
                "ns1=[2001:db8::1]:53",
                "ns2=192.0.2.2:53"
            ]
        );
        let named: Nameserver = "ns9=127.0.0.1:5300".parse().unwrap();
        let found = runtime
            .block_on(nameservers(&zone, &settings, std::slice::from_ref(&named)))
            .unwrap();
        assert_eq!(found, vec![named]);
    }

    #[test]
    fn only_authoritative_answers_to_our_question_become_data() {
        use hickory_proto::op::{MessageType, Query};
        use hickory_proto::rr::{rdata::A, Record};
        let name = Name::from_str("bh17.z.net.").unwrap();
        let answer = |edit: &dyn Fn(&mut Message)| {
            let mut m = Message::query();
            m.metadata.message_type = MessageType::Response;
            m.metadata.authoritative = true;
            m.queries.push(Query::query(name.clone(), RecordType::A));
            m.answers.push(Record::from_rdata(
                name.clone(),
                300,
                RData::A(A::new(203, 0, 113, 17)),
            ));
            edit(&mut m);
            m.to_vec().unwrap()
        };
        assert!(matches!(
            observe_bytes(&answer(&|_| {}), &name, RecordType::A, false),
            Observed::Present(_)
        ));
        let lame = observe_bytes(
            &answer(&|m| m.metadata.authoritative = false),
            &name,
            RecordType::A,
            false,
        );
        assert_eq!(lame, Observed::Failed(Failure::NotAuthoritative));
        let query = observe_bytes(
            &answer(&|m| m.metadata.message_type = MessageType::Query),
            &name,
            RecordType::A,
            false,
        );
        assert!(matches!(query, Observed::Failed(Failure::Malformed(_))));
        let slipped = observe_bytes(
            &answer(&|m| {
                m.metadata.truncation = true;
                m.answers.clear()
            }),
            &name,
            RecordType::A,
            false,
        );
        assert_eq!(slipped, Observed::Failed(Failure::Truncated));
        let other = observe_bytes(
            &answer(&|m| {
                m.queries[0] = Query::query(Name::from_str("x.z.net.").unwrap(), RecordType::A)
            }),
            &name,
            RecordType::A,
            false,
        );
        assert!(matches!(other, Observed::Failed(_)));
        assert!(matches!(
            observe_bytes(b"\x00\x01garbage", &name, RecordType::A, false),
            Observed::Failed(_)
        ));
    }

    #[test]
    fn labels_are_relative_inside_the_zone() {
        let origin = Name::from_str("z.net.").unwrap();
        assert_eq!(
            relative_label(&origin, &Name::from_str("ns1.z.net.").unwrap()),
            "ns1"
        );
        assert_eq!(
            relative_label(&origin, &Name::from_str("ns.other.").unwrap()),
            "ns.other"
        );
    }
}
