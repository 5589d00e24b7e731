//! The record model that both sides of an audit are reduced to.
//!
//! Expected records (from zone files) and observed records (from the wire) are converted into the
//! same shape: an owner name in lower case, a record type, a TTL and the record data in DNSSEC
//! canonical wire form (RFC 4034 §6.2: uncompressed, embedded names lowered where the type says so).
//! Two records are the same record exactly when those bytes are equal, so RRsets compare as sets of
//! byte strings and nothing depends on how either side happens to print a value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{
    BinDecoder, BinEncodable, BinEncoder, NameEncoding, Restrict,
};

use crate::escape;

/// Record data in canonical wire form.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rdata(Box<[u8]>);

impl Rdata {
    /// Canonical form of record data already decoded by hickory.
    pub fn from_hickory(rdata: &RData) -> Option<Rdata> {
        thread_local! {
            // hickory's encoder reserves 512 octets up front: one buffer is reused.
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            let mut encoder = BinEncoder::new(buf);
            encoder.set_canonical_form(true);
            encoder.set_name_encoding(NameEncoding::Uncompressed);
            rdata.emit(&mut encoder).ok()?;
            Some(Rdata(buf.as_slice().into()))
        })
    }

    /// Canonical form of uncompressed wire-format record data of type `rtype`.
    ///
    /// The bytes go through hickory's decoder and encoder, the same path that answers from the
    /// wire take, so both sides of a comparison are normalised by one piece of code.
    pub fn from_wire(rtype: RecordType, wire: &[u8]) -> Result<Rdata, String> {
        let len = u16::try_from(wire.len()).map_err(|_| "record data over 65535 octets")?;
        let mut decoder = BinDecoder::new(wire);
        let rdata = RData::read(&mut decoder, rtype, Restrict::new(len))
            .map_err(|e| format!("{rtype} record data does not decode: {e}"))?;
        if !decoder.is_empty() {
            return Err(format!("{rtype} record data has trailing octets"));
        }
        Rdata::from_hickory(&rdata).ok_or_else(|| format!("{rtype} record data does not encode"))
    }

    /// NSEC3 and NSEC3PARAM data that hickory-proto does not decode but BIND loads, kept as
    /// written (neither holds a domain name, so the wire form is already canonical): NSEC3 of
    /// a hash algorithm other than SHA-1, and NSEC3PARAM of SHA-1 with flags beyond opt-out
    /// (`1 255 0 -`; BIND refuses an NSEC3PARAM of another algorithm, and so do we). None for
    /// anything else, or for data of the wrong length.
    pub fn nsec3_as_written(rtype: RecordType, wire: &[u8]) -> Option<Rdata> {
        let salt = usize::from(*wire.get(4)?);
        let well_formed = match rtype {
            RecordType::NSEC3 => {
                let hash = usize::from(*wire.get(5 + salt)?);
                wire.len() >= 6 + salt + hash && wire[0] != 1
            }
            RecordType::NSEC3PARAM => wire.len() == 5 + salt && wire[0] == 1,
            _ => false,
        };
        well_formed.then(|| Rdata(wire.into()))
    }

    /// The canonical wire bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Decodes back into hickory's record data (for serving and for display).
    pub fn to_hickory(&self, rtype: RecordType) -> Option<RData> {
        let len = u16::try_from(self.0.len()).ok()?;
        let mut decoder = BinDecoder::new(&self.0);
        RData::read(&mut decoder, rtype, Restrict::new(len)).ok()
    }

    /// For RRSIG data: the type it covers (first field of the wire form).
    pub fn rrsig_covered(&self) -> Option<RecordType> {
        let bytes = self.0.get(..2)?;
        Some(RecordType::from(u16::from_be_bytes([bytes[0], bytes[1]])))
    }

    /// For RRSIG data: the signature expiration, seconds since 1970 (serial number arithmetic
    /// is left aside: fine until 2106).
    pub fn rrsig_expiration(&self) -> Option<u32> {
        let bytes = self.0.get(8..12)?;
        Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// Presentation format, safe to print: every byte outside printable ASCII is escaped.
    pub fn present(&self, rtype: RecordType) -> String {
        match rtype {
            _ if rtype == RecordType::TXT || u16::from(rtype) == 99 => {
                present_character_strings(&self.0)
            }
            _ => match self.to_hickory(rtype) {
                Some(RData::Unknown { .. }) | None => present_unknown(&self.0),
                Some(rdata) => escape::terminal(&rdata.to_string()),
            },
        }
    }
}

impl fmt::Debug for Rdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rdata({})", present_unknown(&self.0))
    }
}

/// `"a" "b"` form of a sequence of character-strings, with RFC 1035 escapes.
fn present_character_strings(mut bytes: &[u8]) -> String {
    let mut out = String::new();
    while let Some((&len, rest)) = bytes.split_first() {
        let len = usize::from(len).min(rest.len());
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('"');
        escape::push_escaped(&mut out, &rest[..len], b"\"\\");
        out.push('"');
        bytes = &rest[len..];
    }
    out
}

/// RFC 3597 `\# len hex` form.
fn present_unknown(bytes: &[u8]) -> String {
    let mut out = format!("\\# {}", bytes.len());
    if !bytes.is_empty() {
        out.push(' ');
        for b in bytes {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// Types whose data changes with every re-signing: only their presence is compared (for RRSIG,
/// which types are covered).
pub fn presence_only(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
    )
}

/// Lower-cased, fully qualified form of a name: the key names are compared by.
pub fn canonical_name(name: &Name) -> Name {
    let mut lower = name.to_lowercase();
    lower.set_fqdn(true);
    lower
}

/// Presentation form of a name with every non-printable octet escaped as `\DDD`.
pub fn present_name(name: &Name) -> String {
    if name.is_root() {
        return ".".to_string();
    }
    let mut out = String::new();
    for label in name.iter() {
        escape::push_escaped(&mut out, label, b".\\\"();$@ ");
        out.push('.');
    }
    out
}

/// The RRsets of one owner name, by type.
pub type TypeMap = BTreeMap<RecordType, RrSet>;

/// A set of records of one name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrSet {
    /// TTL of the set (the lowest, should the records disagree).
    pub ttl: u32,
    /// Record data, compared as a set.
    pub rdatas: BTreeSet<Rdata>,
}

impl RrSet {
    /// A set holding one record.
    pub fn single(ttl: u32, rdata: Rdata) -> RrSet {
        RrSet {
            ttl,
            rdatas: BTreeSet::from([rdata]),
        }
    }

    /// The values as shown to people: presentation format, except for the types re-signing
    /// changes, shown by what they cover (RRSIG) or that they exist (NSEC, NSEC3).
    pub fn shown(&self, rtype: RecordType) -> Vec<String> {
        match rtype {
            RecordType::RRSIG => {
                let covered: BTreeSet<String> = self
                    .rdatas
                    .iter()
                    .filter_map(Rdata::rrsig_covered)
                    .map(|t| format!("signature over {t}"))
                    .collect();
                covered.into_iter().collect()
            }
            RecordType::NSEC | RecordType::NSEC3 => vec![format!("{rtype} record")],
            _ => self.rdatas.iter().map(|r| r.present(rtype)).collect(),
        }
    }

    /// Adds a record; the set keeps the lowest TTL it has seen.
    pub fn insert(&mut self, ttl: u32, rdata: Rdata) -> bool {
        self.ttl = self.ttl.min(ttl);
        self.rdatas.insert(rdata)
    }
}

/// The expected content of one zone, as loaded from its zone file.
#[derive(Clone, Debug)]
pub struct Zone {
    /// The apex, canonical.
    pub origin: Name,
    /// The [`owner_key`] of the apex.
    apex: Box<[u8]>,
    /// Every owner name with its RRsets, in canonical order of names.
    names: BTreeMap<Owner, TypeMap>,
}

impl Zone {
    /// An empty zone at `origin`.
    pub fn new(origin: &Name) -> Zone {
        Zone {
            origin: canonical_name(origin),
            apex: owner_key(origin).into_boxed_slice(),
            names: BTreeMap::new(),
        }
    }

    /// Adds one record (the set keeps the lowest TTL, as RFC 2181 reads an answer whose
    /// records disagree); returns false when the same record was already there.
    pub fn insert(&mut self, owner: &Name, rtype: RecordType, ttl: u32, rdata: Rdata) -> bool {
        self.add(owner, rtype, ttl, rdata, false)
    }

    /// Adds one record read from a zone file: the set keeps the TTL of its first record, as BIND
    /// loads it ("TTL set to prior TTL"). RRSIGs, one set here but one per covered type in BIND
    /// (each with its RRset's TTL), keep the lowest as on the wire. Returns false when the
    /// record was already there.
    pub fn insert_written(
        &mut self,
        owner: &Name,
        rtype: RecordType,
        ttl: u32,
        rdata: Rdata,
    ) -> bool {
        self.add(owner, rtype, ttl, rdata, rtype != RecordType::RRSIG)
    }

    fn add(
        &mut self,
        owner: &Name,
        rtype: RecordType,
        ttl: u32,
        rdata: Rdata,
        first: bool,
    ) -> bool {
        let sets = self.names.entry(Owner::new(owner)).or_default();
        match sets.get_mut(&rtype) {
            Some(set) if first => set.rdatas.insert(rdata),
            Some(set) => set.insert(ttl, rdata),
            None => {
                sets.insert(rtype, RrSet::single(ttl, rdata));
                true
            }
        }
    }

    /// The RRsets of `name` (compared case-insensitively).
    pub fn get(&self, name: &Name) -> Option<&TypeMap> {
        self.names.get(owner_key(name).as_slice())
    }

    /// The RRset of `name` and `rtype`.
    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&RrSet> {
        self.get(name)?.get(&rtype)
    }

    /// Whether `name` owns any record.
    pub fn contains(&self, name: &Name) -> bool {
        self.get(name).is_some()
    }

    /// Every owner name (canonical) with its RRsets, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &TypeMap)> {
        self.names.iter().map(|(owner, sets)| (&owner.name, sets))
    }

    /// Number of owner names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the zone holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The SOA serial of the zone, if it has an SOA record.
    pub fn serial(&self) -> Option<u32> {
        self.soa().map(|soa| soa.serial)
    }

    /// The SOA MINIMUM, the zone's negative-caching TTL (RFC 2308), if it has an SOA record.
    pub fn soa_minimum(&self) -> Option<u32> {
        self.soa().map(|soa| soa.minimum)
    }

    fn soa(&self) -> Option<hickory_proto::rr::rdata::SOA> {
        let rdata = self
            .rrset(&self.origin, RecordType::SOA)?
            .rdatas
            .iter()
            .next()?;
        match rdata.to_hickory(RecordType::SOA)? {
            RData::SOA(soa) => Some(soa),
            _ => None,
        }
    }

    /// Number of records in the zone.
    pub fn record_count(&self) -> usize {
        self.names
            .values()
            .flat_map(|sets| sets.values())
            .map(|set| set.rdatas.len())
            .sum()
    }

    /// The topmost delegation point at or above `name`, if `name` is at or below a zone cut.
    /// The keys of a name's ancestors are prefixes of its own key, so this is one key and a
    /// look-up per label below the apex: cheap to ask for every query.
    pub fn cut_above<'a>(&'a self, name: &Name) -> Option<&'a Name> {
        let key = owner_key(name);
        if key.len() <= self.apex.len() || !key.starts_with(&self.apex) {
            return None;
        }
        (self.apex.len()..key.len())
            .filter(|&end| key[end] == LABEL_END)
            .filter_map(|end| self.names.get_key_value(&key[..=end]))
            .find(|(_, sets)| sets.contains_key(&RecordType::NS))
            .map(|(owner, _)| &owner.name)
    }
}

/// Ends every label in an [`owner_key`].
const LABEL_END: u8 = 0;

/// A byte string whose plain byte order is the canonical order of names (RFC 4034 §6.1): the
/// labels from the top down, lowered, each ended by a zero octet; the octets 0 and 1 inside a
/// label are escaped as 1 1 and 1 2 so that a label end sorts before any octet. A parent's key
/// is a prefix of its children's. Comparing keys is a `memcmp`, where comparing hickory names
/// walks labels backwards and folds case octet by octet (a fifth of loading the root zone).
fn owner_key(name: &Name) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 2);
    let labels: Vec<&[u8]> = name.iter().collect();
    for label in labels.iter().rev() {
        for &octet in *label {
            match octet {
                0 | 1 => key.extend_from_slice(&[1, octet + 1]),
                _ => key.push(octet.to_ascii_lowercase()),
            }
        }
        key.push(LABEL_END);
    }
    key
}

/// An owner name in canonical form, ordered, compared and hashed by its [`owner_key`].
#[derive(Clone, Debug)]
struct Owner {
    key: Box<[u8]>,
    name: Name,
}

impl Owner {
    fn new(name: &Name) -> Owner {
        Owner {
            key: owner_key(name).into_boxed_slice(),
            name: canonical_name(name),
        }
    }
}

impl PartialEq for Owner {
    fn eq(&self, other: &Owner) -> bool {
        self.key == other.key
    }
}

impl Eq for Owner {}

impl PartialOrd for Owner {
    fn partial_cmp(&self, other: &Owner) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Owner {
    fn cmp(&self, other: &Owner) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl std::borrow::Borrow<[u8]> for Owner {
    fn borrow(&self) -> &[u8] {
        &self.key
    }
}

/// The host an owner name belongs to: `depth` labels right below the apex (`bh17` for
/// `panel.bh17.zone.` and `*.bh17.zone.` at depth 1); the apex itself is host `@`.
pub fn host_of(origin: &Name, name: &Name, depth: usize) -> String {
    // `num_labels` leaves out a leading `*` (it is the RRSIG label count), so count labels here.
    let extra = name.iter().count().saturating_sub(origin.iter().count());
    if extra == 0 || !origin.zone_of(name) {
        return "@".to_string();
    }
    let keep = extra.min(depth.max(1));
    let labels: Vec<&[u8]> = name.iter().collect();
    let start = extra - keep;
    let mut out = String::new();
    for label in &labels[start..extra] {
        if !out.is_empty() {
            out.push('.');
        }
        escape::push_escaped(&mut out, label, b".\\");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn hosts_group_by_the_label_below_the_apex() {
        let origin = name("bots.example.net.");
        assert_eq!(host_of(&origin, &name("bh17.bots.example.net."), 1), "bh17");
        assert_eq!(
            host_of(&origin, &name("panel.bh17.bots.example.net."), 1),
            "bh17"
        );
        assert_eq!(
            host_of(&origin, &name("*.bh17.bots.example.net."), 1),
            "bh17"
        );
        assert_eq!(host_of(&origin, &name("bots.example.net."), 1), "@");
        assert_eq!(host_of(&origin, &name("a.b.bots.example.net."), 2), "a.b");
    }

    #[test]
    fn rrsets_compare_as_sets_and_names_case_insensitively() {
        let a1 = Rdata::from_wire(RecordType::A, &[192, 0, 2, 1]).unwrap();
        let a2 = Rdata::from_wire(RecordType::A, &[192, 0, 2, 2]).unwrap();
        let mut left = RrSet::single(300, a1.clone());
        left.insert(300, a2.clone());
        let mut right = RrSet::single(300, a2);
        right.insert(300, a1);
        assert_eq!(left, right);
        assert_eq!(canonical_name(&name("BH17.Bots.")), name("bh17.bots."));
    }

    #[test]
    fn embedded_names_are_lowered_in_canonical_form() {
        let upper = Rdata::from_hickory(&RData::CNAME(hickory_proto::rr::rdata::CNAME(name(
            "Target.Example.",
        ))))
        .unwrap();
        let lower = Rdata::from_hickory(&RData::CNAME(hickory_proto::rr::rdata::CNAME(name(
            "target.example.",
        ))))
        .unwrap();
        assert_eq!(upper, lower);
    }

    #[test]
    fn txt_presentation_escapes_control_bytes() {
        let rdata = Rdata::from_wire(RecordType::TXT, b"\x05a\x1b[2J\x03b\"c").unwrap();
        assert_eq!(rdata.present(RecordType::TXT), r#""a\027[2J" "b\"c""#);
    }

    #[test]
    fn owner_keys_sort_in_canonical_order() {
        // RFC 4034 §6.1's example, and labels with the octets 0 and 1 (escaped in keys) and 0xC8.
        let texts = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "*.z.example.",
            "a.b.example.",
            "ab.example.",
            "a.ab.example.",
            "b.a.z.example.",
            "c.a.z.example.",
        ];
        let mut names: Vec<Name> = texts.iter().map(|s| name(s)).collect();
        let raw: [&[u8]; 8] = [
            b"\x00",
            b"\x01",
            b"\x00\x00",
            b"\x01\x02",
            b"\x02",
            b"\xc8",
            b"a\x00",
            b"a\x00b",
        ];
        for label in raw {
            names.push(Name::from_labels(vec![label, b"z", b"example"]).unwrap());
        }
        let mut by_key = names.clone();
        by_key.sort_by_key(owner_key);
        let mut by_name = names;
        by_name.sort_by_key(canonical_name);
        let key_order: Vec<String> = by_key
            .iter()
            .map(|n| present_name(&canonical_name(n)))
            .collect();
        let name_order: Vec<String> = by_name
            .iter()
            .map(|n| present_name(&canonical_name(n)))
            .collect();
        assert_eq!(key_order, name_order);
        assert_eq!(
            owner_key(&name("Z.A.Example.")),
            owner_key(&name("z.a.example."))
        );
    }

    #[test]
    fn cuts_are_found_from_any_name_below_them() {
        let a = Rdata::from_wire(RecordType::A, &[192, 0, 2, 1]).unwrap();
        let ns = Rdata::from_hickory(&RData::NS(hickory_proto::rr::rdata::NS(name(
            "ns.sub.example.",
        ))))
        .unwrap();
        let mut zone = Zone::new(&name("example."));
        zone.insert(&name("example."), RecordType::NS, 300, ns.clone());
        zone.insert(&name("Sub.example."), RecordType::NS, 300, ns.clone());
        zone.insert(&name("deeper.sub.example."), RecordType::NS, 300, ns);
        zone.insert(&name("ns.sub.example."), RecordType::A, 300, a);
        let cut = zone.cut_above(&name("ns.deeper.SUB.example."));
        assert_eq!(cut, Some(&name("sub.example.")));
        assert_eq!(
            zone.cut_above(&name("sub.example.")),
            Some(&name("sub.example."))
        );
        assert_eq!(zone.cut_above(&name("www.example.")), None);
        assert_eq!(zone.cut_above(&name("example.")), None);
        assert_eq!(zone.cut_above(&name("other.")), None);
        assert!(zone.contains(&name("NS.sub.example.")));
    }

    #[test]
    fn names_with_raw_octets_print_escaped() {
        let raw = Name::from_labels(vec![&b"a\xf2"[..], b"example"]).unwrap();
        assert_eq!(present_name(&raw), "a\\242.example.");
    }
}
