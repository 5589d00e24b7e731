//! The record model that both sides of an audit are reduced to.
//!
//! Expected records (from zone files) and observed records (from the wire) are converted into the
//! same shape: an owner name in lower case, a record type, a TTL and the record data in DNSSEC
//! canonical wire form (RFC 4034 §6.2: uncompressed, embedded names lowered where the type says so).
//! Two records are the same record exactly when those bytes are equal, so RRsets compare as sets of
//! byte strings and nothing depends on how either side happens to print a value.

use std::collections::BTreeSet;

use hashbrown::HashTable;
use std::fmt;

use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{
    BinDecoder, BinEncodable, BinEncoder, NameEncoding, Restrict,
};

use crate::escape::{self, Specials};
use crate::hash::Fnv1a;

/// Record data in canonical wire form. Up to `INLINE` octets (an address, a short name or
/// text: most records of most zones) live inside the value, without an allocation of their
/// own: a zone of a million records is a million allocations fewer.
#[derive(Clone)]
pub struct Rdata(Octets);

/// Octets of record data held inline by [`Rdata`].
const INLINE: usize = 22;

#[derive(Clone)]
enum Octets {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl PartialEq for Rdata {
    fn eq(&self, other: &Rdata) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for Rdata {}

impl PartialOrd for Rdata {
    fn partial_cmp(&self, other: &Rdata) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rdata {
    fn cmp(&self, other: &Rdata) -> std::cmp::Ordering {
        self.bytes().cmp(other.bytes())
    }
}

impl std::hash::Hash for Rdata {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl Rdata {
    /// Canonical form of record data already decoded by hickory.
    pub(crate) fn from_hickory(rdata: &RData) -> Option<Rdata> {
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
            Some(Rdata::new(buf))
        })
    }

    /// Canonical form of uncompressed wire-format record data of type `rtype`.
    ///
    /// The bytes go through hickory's decoder and encoder, the same path that answers from the
    /// wire take, so both sides of a comparison are normalised by one piece of code.
    pub(crate) fn from_wire(rtype: RecordType, wire: &[u8]) -> Result<Rdata, String> {
        // The commonest data holds no name and has one form: taken as it is once its shape is
        // checked (a fifth of loading a large zone went through hickory and back).
        let plain = match rtype {
            RecordType::A => wire.len() == 4,
            RecordType::AAAA => wire.len() == 16,
            RecordType::TXT => character_strings(wire),
            _ => false,
        };
        if plain {
            return Ok(Rdata::new(wire));
        }
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
    pub(crate) fn nsec3_as_written(rtype: RecordType, wire: &[u8]) -> Option<Rdata> {
        let salt = usize::from(*wire.get(4)?);
        let well_formed = match rtype {
            RecordType::NSEC3 => {
                let hash = usize::from(*wire.get(5 + salt)?);
                wire.len() >= 6 + salt + hash && wire[0] != 1
            }
            RecordType::NSEC3PARAM => wire.len() == 5 + salt && wire[0] == 1,
            _ => false,
        };
        well_formed.then(|| Rdata::new(wire))
    }

    /// Record data from bytes already in canonical wire form (stored by this program).
    pub(crate) fn from_canonical(bytes: &[u8]) -> Rdata {
        Rdata::new(bytes)
    }

    fn new(bytes: &[u8]) -> Rdata {
        Rdata(match <[u8; INLINE]>::try_from(bytes) {
            _ if bytes.len() > INLINE => Octets::Heap(bytes.into()),
            Ok(full) => Octets::Inline(INLINE as u8, full),
            Err(_) => {
                let mut data = [0; INLINE];
                data[..bytes.len()].copy_from_slice(bytes);
                Octets::Inline(bytes.len() as u8, data)
            }
        })
    }

    /// The canonical wire bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Octets::Inline(len, data) => &data[..usize::from(*len)],
            Octets::Heap(bytes) => bytes,
        }
    }

    /// Decodes back into hickory's record data (for serving and for display).
    pub fn to_hickory(&self, rtype: RecordType) -> Option<RData> {
        let bytes = self.bytes();
        let len = u16::try_from(bytes.len()).ok()?;
        let mut decoder = BinDecoder::new(bytes);
        RData::read(&mut decoder, rtype, Restrict::new(len)).ok()
    }

    /// For RRSIG data: the type it covers (first field of the wire form).
    pub(crate) fn rrsig_covered(&self) -> Option<RecordType> {
        let bytes = self.bytes().get(..2)?;
        Some(RecordType::from(u16::from_be_bytes([bytes[0], bytes[1]])))
    }

    /// For RRSIG data: the signature expiration, seconds since 1970 (serial number arithmetic
    /// is left aside: fine until 2106).
    pub(crate) fn rrsig_expiration(&self) -> Option<u32> {
        let bytes = self.bytes().get(8..12)?;
        Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// Presentation format, safe to print: every byte outside printable ASCII is escaped.
    pub fn present(&self, rtype: RecordType) -> String {
        match rtype {
            _ if rtype == RecordType::TXT || u16::from(rtype) == 99 => {
                present_character_strings(self.bytes())
            }
            _ => match self.to_hickory(rtype) {
                Some(RData::Unknown { .. }) | None => present_unknown(self.bytes()),
                Some(rdata) => escape::terminal(&rdata.to_string()),
            },
        }
    }
}

impl fmt::Debug for Rdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rdata({})", present_unknown(self.bytes()))
    }
}

/// Whether `wire` is one or more character-strings (RFC 1035 3.3), nothing left over.
fn character_strings(mut wire: &[u8]) -> bool {
    if wire.is_empty() {
        return false;
    }
    while let Some((&len, rest)) = wire.split_first() {
        let Some(after) = rest.get(usize::from(len)..) else {
            return false;
        };
        wire = after;
    }
    true
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
        escape::push_escaped(&mut out, &rest[..len], &IN_QUOTES);
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
pub(crate) fn presence_only(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
    )
}

/// Lower-cased, fully qualified form of a name: the key names are compared by.
pub(crate) fn canonical_name(name: &Name) -> Name {
    let mut lower = name.to_lowercase();
    lower.set_fqdn(true);
    lower
}

/// Escaped in a character string in quotes.
const IN_QUOTES: Specials = Specials::of(b"\"\\");
/// Escaped in a label of a name.
const IN_NAMES: Specials = Specials::of(b".\\\"();$@ ");
/// Escaped in a host's label shown alone.
const IN_HOSTS: Specials = Specials::of(b".\\");

/// Presentation form of a name with every non-printable octet escaped as `\DDD`.
pub fn present_name(name: &Name) -> String {
    if name.is_root() {
        return ".".to_string();
    }
    let mut out = String::with_capacity(name.len() + 1);
    for label in name.iter() {
        escape::push_escaped(&mut out, label, &IN_NAMES);
        out.push('.');
    }
    out
}

/// The RRsets of one owner name, by type: a vector in type order. A name holds a handful of
/// types, where a `BTreeMap` would allocate a node of eleven for each name of the zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeMap(Vec<(RecordType, RrSet)>);

impl TypeMap {
    /// Where `rtype` is, or where it would go. A name holds a handful of types: they are
    /// looked for one by one by equality, where hickory's ordering of types goes through a
    /// `match` of every type on both sides (90 ms of `check --plan` on a million records).
    fn position(&self, rtype: &RecordType) -> Result<usize, usize> {
        match self.find(rtype) {
            Some(at) => Ok(at),
            None => {
                let code = u16::from(*rtype);
                Err(self.0.partition_point(|(have, _)| u16::from(*have) < code))
            }
        }
    }

    fn find(&self, rtype: &RecordType) -> Option<usize> {
        self.0.iter().position(|(have, _)| have == rtype)
    }

    /// The RRset of `rtype`.
    pub fn get(&self, rtype: &RecordType) -> Option<&RrSet> {
        self.find(rtype).map(|at| &self.0[at].1)
    }

    /// The RRset of `rtype`, to change.
    pub(crate) fn get_mut(&mut self, rtype: &RecordType) -> Option<&mut RrSet> {
        self.find(rtype).map(|at| &mut self.0[at].1)
    }

    /// Whether the name holds an RRset of `rtype`.
    pub(crate) fn contains_key(&self, rtype: &RecordType) -> bool {
        self.find(rtype).is_some()
    }

    /// Sets the RRset of `rtype`; returns the one it replaces.
    pub fn insert(&mut self, rtype: RecordType, set: RrSet) -> Option<RrSet> {
        match self.position(&rtype) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, set)),
            Err(at) => {
                self.0.insert(at, (rtype, set));
                None
            }
        }
    }

    /// The types held, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &RecordType> + Clone {
        self.0.iter().map(|(rtype, _)| rtype)
    }

    /// The RRsets, in type order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &RrSet> + Clone {
        self.0.iter().map(|(_, set)| set)
    }

    /// Type and RRset, in type order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&RecordType, &RrSet)> + Clone {
        self.0.iter().map(|(rtype, set)| (rtype, set))
    }

    /// Number of types.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the name holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives back the room a vector grows into: loading is done.
    fn shrink(&mut self) {
        self.0.shrink_to_fit();
        for (_, set) in &mut self.0 {
            set.rdatas.0.shrink_to_fit();
        }
    }
}

impl<'a> IntoIterator for &'a TypeMap {
    type Item = (&'a RecordType, &'a RrSet);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (RecordType, RrSet)>,
        fn(&'a (RecordType, RrSet)) -> (&'a RecordType, &'a RrSet),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(rtype, set)| (rtype, set))
    }
}

/// The data of an RRset, a set kept as a sorted vector without duplicates: compared, iterated
/// and printed in canonical order, one allocation per RRset (none for a set of one).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RdataSet(Vec<Rdata>);

impl RdataSet {
    /// Adds `rdata`; false when it was already there.
    pub fn insert(&mut self, rdata: Rdata) -> bool {
        match self.0.binary_search(&rdata) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, rdata);
                true
            }
        }
    }

    /// The data, in canonical order.
    pub fn iter(&self) -> std::slice::Iter<'_, Rdata> {
        self.0.iter()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const N: usize> From<[Rdata; N]> for RdataSet {
    fn from(rdatas: [Rdata; N]) -> RdataSet {
        rdatas.into_iter().collect()
    }
}

impl FromIterator<Rdata> for RdataSet {
    fn from_iter<I: IntoIterator<Item = Rdata>>(iter: I) -> RdataSet {
        let mut all: Vec<Rdata> = iter.into_iter().collect();
        all.sort_unstable();
        all.dedup();
        RdataSet(all)
    }
}

impl<'a> IntoIterator for &'a RdataSet {
    type Item = &'a Rdata;
    type IntoIter = std::slice::Iter<'a, Rdata>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for RdataSet {
    type Item = Rdata;
    type IntoIter = std::vec::IntoIter<Rdata>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A set of records of one name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrSet {
    /// TTL of the set (the lowest, should the records disagree).
    pub ttl: u32,
    /// Record data, compared as a set.
    pub rdatas: RdataSet,
}

impl RrSet {
    /// A set holding one record.
    pub fn single(ttl: u32, rdata: Rdata) -> RrSet {
        RrSet {
            ttl,
            rdatas: RdataSet(vec![rdata]),
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
    /// Owner names with their RRsets: a vector, where a map would spend twice the room on
    /// its nodes (a hundred megabytes for a million records). In canonical order (by key)
    /// unless `index` is kept.
    names: Vec<(Owner, TypeMap)>,
    /// Where each name is in `names`, by a hash of its key, kept only while names come out of
    /// canonical order (a zone file seldom lists them in it); [`Zone::shrink_to_fit`], which
    /// the loader calls, sorts the names and drops it. The hash with the place, no copy of
    /// the key: a place found by its hash is taken only if the key there is the one looked for.
    index: Option<HashTable<(u64, usize)>>,
}

impl Zone {
    /// An empty zone at `origin`.
    pub fn new(origin: &Name) -> Zone {
        Zone {
            origin: canonical_name(origin),
            apex: owner_key(origin).into_boxed_slice(),
            names: Vec::new(),
            index: None,
        }
    }

    /// Adds one record (the set keeps the lowest TTL, as RFC 2181 reads an answer whose
    /// records disagree); returns false when the same record was already there.
    pub fn insert(&mut self, owner: &Name, rtype: RecordType, ttl: u32, rdata: Rdata) -> bool {
        let record = (rtype, ttl, rdata);
        self.add(&owner_key(owner), |_| canonical_name(owner), record, false)
    }

    /// Adds one record read from a zone file, its owner known by its [`owner_key`] (the name
    /// is made only for a name the zone does not hold yet): the set keeps the TTL of its first
    /// record, as BIND loads it ("TTL set to prior TTL"). RRSIGs, one set here but one per
    /// covered type in BIND (each with its RRset's TTL), keep the lowest as on the wire.
    /// Returns false when the record was already there.
    pub(crate) fn insert_written(
        &mut self,
        key: &[u8],
        rtype: RecordType,
        ttl: u32,
        rdata: Rdata,
    ) -> bool {
        self.add(
            key,
            name_of_key,
            (rtype, ttl, rdata),
            rtype != RecordType::RRSIG,
        )
    }

    /// Whether the name of `key` is at or below the apex.
    pub(crate) fn is_within(&self, key: &[u8]) -> bool {
        key.starts_with(&self.apex)
    }

    fn add(
        &mut self,
        key: &[u8],
        name: impl FnOnce(&[u8]) -> Name,
        (rtype, ttl, rdata): (RecordType, u32, Rdata),
        first: bool,
    ) -> bool {
        let sets = self.sets_mut(key, name);
        match sets.get_mut(&rtype) {
            Some(set) if first => set.rdatas.insert(rdata),
            Some(set) => set.insert(ttl, rdata),
            None => {
                sets.insert(rtype, RrSet::single(ttl, rdata));
                true
            }
        }
    }

    /// The RRsets of the name of `key`, to change; `name` makes its name (canonical) from the
    /// key if it is new. A name after every other is appended and the names stay in order; the
    /// first one out of order starts the index.
    fn sets_mut(&mut self, key: &[u8], name: impl FnOnce(&[u8]) -> Name) -> &mut TypeMap {
        if self.index.is_none() {
            let last = self.names.last().map(|(owner, _)| &*owner.key);
            if last.is_none_or(|last| last < key) {
                return self.append(key, name);
            }
            if let Ok(at) = self.find(key) {
                return &mut self.names[at].1;
            }
            let mut index = HashTable::with_capacity(self.names.len() * 2);
            for (at, (owner, _)) in self.names.iter().enumerate() {
                let hash = Fnv1a::of(&owner.key);
                index.insert_unique(hash, (hash, at), |&(hash, _)| hash);
            }
            self.index = Some(index);
        }
        let hash = Fnv1a::of(key);
        let Zone { names, index, .. } = self;
        let known = index
            .as_ref()
            .and_then(|index| index.find(hash, |&(h, at)| h == hash && *names[at].0.key == *key));
        match known {
            Some(&(_, at)) => &mut self.names[at].1,
            None => {
                if let Some(index) = index.as_mut() {
                    index.insert_unique(hash, (hash, names.len()), |&(hash, _)| hash);
                }
                self.append(key, name)
            }
        }
    }

    fn append(&mut self, key: &[u8], name: impl FnOnce(&[u8]) -> Name) -> &mut TypeMap {
        let owner = Owner::with_key(key.into(), &self.apex, name(key));
        self.names.push((owner, TypeMap::default()));
        let last = self.names.len() - 1;
        &mut self.names[last].1
    }

    /// Where the name of `key` is in `names` (sorted).
    fn find(&self, key: &[u8]) -> Result<usize, usize> {
        let order = order_of(key, &self.apex);
        self.names
            .binary_search_by(|(have, _)| have.cmp_key(order, key))
    }

    /// Settles the zone once it is loaded: the names in canonical order, the index dropped,
    /// and every vector without the room it grew into.
    pub(crate) fn shrink_to_fit(&mut self) {
        if self.index.take().is_some() {
            self.names
                .sort_unstable_by(|(a, _), (b, _)| a.cmp_key(b.order, &b.key));
        }
        self.names.shrink_to_fit();
        self.names.iter_mut().for_each(|(_, sets)| sets.shrink());
    }

    /// Every name with its RRsets, in canonical order (sorted here while unsettled).
    fn entries(&self) -> impl Iterator<Item = (&Owner, &TypeMap)> {
        let order: Option<Vec<usize>> = self.index.as_ref().map(|_| {
            let mut order: Vec<usize> = (0..self.names.len()).collect();
            order.sort_unstable_by(|&a, &b| self.names[a].0.key.cmp(&self.names[b].0.key));
            order
        });
        let mut next = 0;
        std::iter::from_fn(move || {
            let at = match &order {
                Some(order) => *order.get(next)?,
                None => next,
            };
            next += 1;
            self.names.get(at).map(|(owner, sets)| (owner, sets))
        })
    }

    /// The name whose key is `key`, with its RRsets.
    fn entry(&self, key: &[u8]) -> Option<(&Owner, &TypeMap)> {
        let at = match &self.index {
            Some(index) => {
                let hash = Fnv1a::of(key);
                let same = |&(h, at): &(u64, usize)| h == hash && *self.names[at].0.key == *key;
                index.find(hash, same)?.1
            }
            None => self.find(key).ok()?,
        };
        let (owner, sets) = self.names.get(at)?;
        (*owner.key == *key).then_some((owner, sets))
    }

    /// The RRsets of `name` (compared case-insensitively).
    pub fn get(&self, name: &Name) -> Option<&TypeMap> {
        self.entry(owner_key(name).as_slice()).map(|(_, sets)| sets)
    }

    /// The RRset of `name` and `rtype`.
    pub fn rrset(&self, name: &Name, rtype: RecordType) -> Option<&RrSet> {
        self.get(name)?.get(&rtype)
    }

    /// Whether `name` owns any record.
    pub fn contains(&self, name: &Name) -> bool {
        self.get(name).is_some()
    }

    /// Every owner name (canonical) with its [`owner_key`], in canonical order: the order
    /// of the keys' bytes.
    pub(crate) fn keyed_names(&self) -> impl Iterator<Item = (&[u8], &Name)> {
        self.entries().map(|(owner, _)| (&*owner.key, &owner.name))
    }

    /// Every owner name with its [`owner_key`] and RRsets, in canonical order. A name at or
    /// below a cut follows the cut, and its key starts with the cut's.
    pub(crate) fn iter_keyed(&self) -> impl Iterator<Item = (&[u8], &Name, &TypeMap)> {
        self.entries()
            .map(|(owner, sets)| (&*owner.key, &owner.name, sets))
    }

    /// Every owner name (canonical) with its RRsets, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (&Name, &TypeMap)> {
        self.entries().map(|(owner, sets)| (&owner.name, sets))
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
    pub(crate) fn soa_minimum(&self) -> Option<u32> {
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
    pub(crate) fn record_count(&self) -> usize {
        self.entries()
            .flat_map(|(_, sets)| sets.values())
            .map(|set| set.rdatas.len())
            .sum()
    }

    /// The topmost delegation point at or above `name`, if `name` is at or below a zone cut.
    /// The keys of a name's ancestors are prefixes of its own key, so this is one key and a
    /// look-up per label below the apex: cheap to ask for every query.
    pub(crate) fn cut_above<'a>(&'a self, name: &Name) -> Option<&'a Name> {
        let key = owner_key(name);
        if key.len() <= self.apex.len() || !key.starts_with(&self.apex) {
            return None;
        }
        (self.apex.len()..key.len())
            .filter(|&end| key[end] == LABEL_END)
            .filter_map(|end| self.entry(&key[..=end]))
            .find(|(_, sets)| sets.contains_key(&RecordType::NS))
            .map(|(owner, _)| &owner.name)
    }
}

/// The records a server sent for a zone (a transfer), held compactly until they are lined up
/// with the expected zone: owner keys in one arena, data inline. A transfer of a million
/// records takes about 60 MB here, where hickory's records take 280 octets each before their
/// names and data.
#[derive(Default)]
pub struct Served {
    keys: Vec<u8>,
    records: Vec<ServedRecord>,
    /// Records that came with it but are not of the zone (outside its apex, or of another
    /// class than IN): never zone data, said as a finding about the server.
    pub foreign: ForeignRecords,
}

/// Records a server sent that are not of the zone asked for: how many, and the first few as
/// they came (`name CLASS TYPE`, escaped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForeignRecords {
    /// How many.
    pub count: usize,
    /// The first [`ForeignRecords::SHOWN`] of them.
    pub shown: Vec<String>,
}

impl ForeignRecords {
    /// How many are named; the rest are counted.
    pub const SHOWN: usize = 5;

    /// Counts one, naming it while fewer than [`ForeignRecords::SHOWN`] are.
    pub fn add(&mut self, describe: impl FnOnce() -> String) {
        self.count += 1;
        if self.shown.len() < Self::SHOWN {
            self.shown.push(describe());
        }
    }
}

struct ServedRecord {
    /// The owner's [`owner_key`]: `keys[start..end]`.
    start: u32,
    end: u32,
    rtype: RecordType,
    ttl: u32,
    rdata: Rdata,
}

impl Served {
    /// Adds one record.
    pub fn push(&mut self, owner: &Name, rtype: RecordType, ttl: u32, rdata: Rdata) {
        // Past 4 GB of owner names the offsets would wrap: saturate (the transfer's own record
        // limit stops long before).
        let start = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        push_owner_key(owner, &mut self.keys);
        let end = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.records.push(ServedRecord {
            start,
            end,
            rtype,
            ttl,
            rdata,
        });
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was sent.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The RRsets, in canonical order of owner names and then by type: (owner key, type, set),
    /// each set with the lowest TTL of its records. A server sends a zone in about this order,
    /// so the sort costs little.
    pub(crate) fn into_sets(mut self) -> ServedSets {
        let keys = &self.keys;
        let key = |r: &ServedRecord| &keys[r.start as usize..r.end as usize];
        // Unstable: records of one RRset may come in any order, their set is sorted anyway.
        // Types by their number, taken once: hickory's ordering matches every type twice.
        self.records.sort_unstable_by(|a, b| {
            key(a)
                .cmp(key(b))
                .then_with(|| u16::from(a.rtype).cmp(&u16::from(b.rtype)))
        });
        ServedSets {
            records: std::mem::take(&mut self.records).into_iter().peekable(),
            keys: self.keys,
        }
    }
}

/// The RRsets of [`Served`], in canonical order.
pub struct ServedSets {
    keys: Vec<u8>,
    records: std::iter::Peekable<std::vec::IntoIter<ServedRecord>>,
}

impl ServedSets {
    /// The next RRset if its owner key and type pass `take`.
    pub(crate) fn next_if(
        &mut self,
        take: impl FnOnce(&[u8], RecordType) -> bool,
    ) -> Option<(Vec<u8>, RecordType, RrSet)> {
        let next = self.records.peek()?;
        if !take(
            &self.keys[next.start as usize..next.end as usize],
            next.rtype,
        ) {
            return None;
        }
        self.next_set()
    }

    /// The next RRset: its owner key, type and set.
    pub(crate) fn next_set(&mut self) -> Option<(Vec<u8>, RecordType, RrSet)> {
        let first = self.records.next()?;
        let key = &self.keys[first.start as usize..first.end as usize];
        let mut set = RrSet::single(first.ttl, first.rdata);
        while let Some(next) = self.records.peek() {
            if next.rtype != first.rtype
                || &self.keys[next.start as usize..next.end as usize] != key
            {
                break;
            }
            if let Some(record) = self.records.next() {
                set.insert(record.ttl, record.rdata);
            }
        }
        Some((key.to_vec(), first.rtype, set))
    }
}

/// The name an `owner_key` was made from (canonical: lower case).
pub fn name_of_key(key: &[u8]) -> Name {
    // Most keys escape nothing: their labels are the runs between label ends.
    if !key.contains(&1) {
        let labels = key.split(|&octet| octet == LABEL_END);
        let labels: Vec<&[u8]> = labels.filter(|label| !label.is_empty()).collect();
        let mut name = Name::from_labels(labels.into_iter().rev()).unwrap_or_else(|_| Name::root());
        name.set_fqdn(true);
        return name;
    }
    let mut labels: Vec<Vec<u8>> = Vec::new();
    let mut label = Vec::new();
    let mut octets = key.iter();
    while let Some(&octet) = octets.next() {
        match octet {
            LABEL_END => labels.push(std::mem::take(&mut label)),
            1 => label.push(octets.next().map_or(0, |escaped| escaped - 1)),
            _ => label.push(octet),
        }
    }
    labels.reverse();
    let mut name = Name::from_labels(labels).unwrap_or_else(|_| Name::root());
    name.set_fqdn(true);
    name
}

/// Ends every label in an [`owner_key`].
const LABEL_END: u8 = 0;

/// A byte string whose plain byte order is the canonical order of names (RFC 4034 §6.1): the
/// labels from the top down, lowered, each ended by a zero octet; the octets 0 and 1 inside a
/// label are escaped as 1 1 and 1 2 so that a label end sorts before any octet. A parent's key
/// is a prefix of its children's. Comparing keys is a `memcmp`, where comparing hickory names
/// walks labels backwards and folds case octet by octet (a fifth of loading the root zone).
pub(crate) fn owner_key(name: &Name) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 2);
    push_owner_key(name, &mut key);
    key
}

/// Appends the [`owner_key`] of `name` to `key`.
fn push_owner_key(name: &Name, key: &mut Vec<u8>) {
    for label in name.iter().rev() {
        push_label_key(label, key);
    }
}

/// Appends one label to an [`owner_key`].
fn push_label_key(label: &[u8], key: &mut Vec<u8>) {
    for &octet in label {
        match octet {
            0 | 1 => key.extend_from_slice(&[1, octet + 1]),
            _ => key.push(octet.to_ascii_lowercase()),
        }
    }
    key.push(LABEL_END);
}

/// Writes to `key` the [`owner_key`] of the name whose uncompressed wire form is `wire`; None
/// when `wire` is not one (a label over 63 octets, a name over 255, a label running past the
/// end).
pub(crate) fn owner_key_of_wire(wire: &[u8], key: &mut Vec<u8>) -> Option<()> {
    // Where each label starts: a name of 255 octets holds at most 127 labels.
    let mut starts = [0u8; 128];
    let (mut count, mut at) = (0, 0);
    loop {
        let len = usize::from(*wire.get(at)?);
        if len == 0 {
            break;
        }
        if len > 63 || count == starts.len() || at + 1 + len >= wire.len().min(255) {
            return None;
        }
        starts[count] = u8::try_from(at).ok()?;
        (count, at) = (count + 1, at + 1 + len);
    }
    key.clear();
    for &start in starts[..count].iter().rev() {
        let start = usize::from(start);
        push_label_key(&wire[start + 1..=start + usize::from(wire[start])], key);
    }
    Some(())
}

/// An owner name in canonical form with its [`owner_key`], which orders the zone's names.
#[derive(Clone, Debug)]
struct Owner {
    key: Box<[u8]>,
    /// [`order_of`] the key: most comparisons end here, without reading the key.
    order: u64,
    name: Name,
}

impl Owner {
    /// The owner `name` (canonical), whose key is `key`.
    fn with_key(key: Box<[u8]>, apex: &[u8], name: Name) -> Owner {
        Owner {
            order: order_of(&key, apex),
            key,
            name,
        }
    }

    /// This owner's key beside `key`, whose [`order_of`] is `order`.
    fn cmp_key(&self, order: u64, key: &[u8]) -> std::cmp::Ordering {
        self.order.cmp(&order).then_with(|| (*self.key).cmp(key))
    }
}

/// Eight bytes that order owner keys as the keys themselves order where they differ: where a
/// key stands to the `apex` key (before the zone's names, among them, after them), then the
/// seven bytes after the apex's. Keys of equal order are compared whole.
fn order_of(key: &[u8], apex: &[u8]) -> u64 {
    let (place, rest) = match key.strip_prefix(apex) {
        Some(rest) => (1, rest),
        None if key < apex => (0, &[][..]),
        None => (2, &[][..]),
    };
    let mut bytes = [0u8; 8];
    bytes[0] = place;
    let seven = rest.len().min(7);
    bytes[1..=seven].copy_from_slice(&rest[..seven]);
    u64::from_be_bytes(bytes)
}

/// The host an owner name belongs to: `depth` labels right below the apex (`bh17` for
/// `panel.bh17.zone.` and `*.bh17.zone.` at depth 1); the apex itself is host `@`.
pub(crate) fn host_of(origin: &Name, name: &Name, depth: usize) -> String {
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
        escape::push_escaped(&mut out, label, &IN_HOSTS);
    }
    out
}

/// The target name a record points at (CNAME, MX, NS, SRV), if any.
pub(crate) fn target_of(rdata: &hickory_proto::rr::RData) -> Option<Name> {
    let name = match rdata {
        hickory_proto::rr::RData::CNAME(c) => c.0.clone(),
        hickory_proto::rr::RData::NS(n) => n.0.clone(),
        hickory_proto::rr::RData::MX(mx) => mx.exchange.clone(),
        hickory_proto::rr::RData::SRV(srv) => srv.target.clone(),
        hickory_proto::rr::RData::PTR(ptr) => ptr.0.clone(),
        _ => return None,
    };
    (!name.is_root()).then_some(name)
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

    #[test]
    fn served_records_come_out_as_rrsets_in_canonical_order() {
        let a = |last: u8| Rdata::from_wire(RecordType::A, &[192, 0, 2, last]).unwrap();
        let mut served = Served::default();
        // Out of order, mixed case, one set split around another, octets 0 and 1 in a label.
        served.push(&name("www.Example."), RecordType::A, 300, a(2));
        served.push(&name("example."), RecordType::A, 60, a(1));
        served.push(&name("WWW.example."), RecordType::A, 100, a(3));
        served.push(&name("www.example."), RecordType::A, 300, a(2));
        let raw = Name::from_labels(vec![&b"x\x00\x01"[..], b"example"]).unwrap();
        served.push(&raw, RecordType::TXT, 5, a(9));
        assert_eq!(served.len(), 5);
        let mut sets = served.into_sets();
        let mut out = Vec::new();
        while let Some((key, rtype, set)) = sets.next_set() {
            out.push((
                present_name(&name_of_key(&key)),
                rtype,
                set.ttl,
                set.rdatas.len(),
            ));
        }
        assert_eq!(
            out,
            vec![
                ("example.".to_string(), RecordType::A, 60, 1),
                ("www.example.".to_string(), RecordType::A, 100, 2),
                ("x\\000\\001.example.".to_string(), RecordType::TXT, 5, 1),
            ]
        );
        assert_eq!(name_of_key(&owner_key(&raw)), raw);
    }

    #[test]
    fn rdata_sets_are_sets() {
        let a = |last: u8| Rdata::from_wire(RecordType::A, &[192, 0, 2, last]).unwrap();
        let mut set: RdataSet = [a(3), a(1), a(3)].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert!(!set.insert(a(1)));
        assert!(set.insert(a(2)));
        assert_eq!(set, RdataSet::from([a(2), a(1), a(3)]));
        let long = Rdata::from_wire(RecordType::TXT, &[30; 31]).unwrap();
        assert_eq!(long.bytes(), &[30; 31][..], "held apart, read the same");
    }

    #[test]
    fn names_added_out_of_order_read_in_canonical_order_before_and_after_settling() {
        let a = Rdata::from_wire(RecordType::A, &[192, 0, 2, 1]).unwrap();
        let mut zone = Zone::new(&name("example."));
        for owner in [
            "example.",
            "h1.example.",
            "www.h1.example.",
            "h2.example.",
            "h10.example.",
        ] {
            zone.insert(&name(owner), RecordType::A, 300, a.clone());
        }
        // Out of order (h10 before h2), and one more record at a name set aside.
        zone.insert(&name("H10.example."), RecordType::TXT, 300, a.clone());
        let order = |zone: &Zone| -> Vec<String> {
            zone.iter().map(|(name, _)| present_name(name)).collect()
        };
        let canonical = [
            "example.",
            "h1.example.",
            "www.h1.example.",
            "h10.example.",
            "h2.example.",
        ];
        assert_eq!(order(&zone), canonical);
        assert_eq!(zone.len(), 5);
        assert_eq!(zone.record_count(), 6);
        assert_eq!(zone.get(&name("h10.example.")).map(TypeMap::len), Some(2));
        zone.shrink_to_fit();
        assert!(zone.index.is_none());
        assert_eq!(order(&zone), canonical);
        assert_eq!(zone.get(&name("h10.example.")).map(TypeMap::len), Some(2));
        assert!(zone.get(&name("h3.example.")).is_none());
    }

    #[test]
    fn owners_order_by_their_eight_bytes_as_by_their_keys() {
        let apex = owner_key(&name("zone.example."));
        let texts = [
            "example.",
            "a.example.",
            "zone.example.",
            "a.zone.example.",
            "ab.zone.example.",
            "abcdefg.zone.example.",
            "abcdefgh.zone.example.",
            "abcdefgi.zone.example.",
            "x.abcdefg.zone.example.",
            "_x.zone.example.",
            "zone2.example.",
            "zonf.example.",
            "zond.example.",
            "z.example.",
            ".",
        ];
        let owners: Vec<Owner> = texts
            .iter()
            .map(|text| {
                let key = owner_key(&name(text)).into_boxed_slice();
                Owner::with_key(key, &apex, canonical_name(&name(text)))
            })
            .collect();
        for a in &owners {
            for b in &owners {
                let want = a.key.cmp(&b.key);
                assert_eq!(a.cmp_key(b.order, &b.key), want, "{} {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn owner_keys_from_wire_are_the_keys_of_the_names() {
        let mut key = Vec::new();
        for text in ["example.", "WWW.Example.", "a.b.c.d.zone.", "."] {
            let name = name(text);
            let mut wire = Vec::new();
            for label in name.iter() {
                wire.push(label.len() as u8);
                wire.extend_from_slice(label);
            }
            wire.push(0);
            assert_eq!(owner_key_of_wire(&wire, &mut key), Some(()), "{text}");
            assert_eq!(key, owner_key(&name), "{text}");
            assert_eq!(name_of_key(&key), canonical_name(&name), "{text}");
        }
        let raw = Name::from_labels([&b"a\x00\x01B"[..], b"zone"]).unwrap();
        assert!(owner_key_of_wire(b"\x04a\x00\x01B\x04zone\x00", &mut key).is_some());
        assert_eq!(key, owner_key(&raw));
        assert_eq!(name_of_key(&key), canonical_name(&raw));
        // A label past the end, one over 63 octets, no root label, a name over 255 octets.
        let long: Vec<u8> = std::iter::repeat_n([63u8; 64], 4)
            .flatten()
            .chain([0])
            .collect();
        for bad in [&b"\x05abc"[..], &[64; 66], b"\x03abc", &long] {
            assert_eq!(owner_key_of_wire(bad, &mut key), None, "{bad:?}");
        }
    }
}
