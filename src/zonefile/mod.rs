//! Loading expected records from RFC 1035 zone files.
//!
//! Files are read as BIND reads them. `bind` rewrites what NLnet Labs' `domain` scanner
//! (`zonefile` feature) does not read (TTL units, `@` in data, `$GENERATE`, types it lacks, SVCB
//! through `svcb`); the scanner then reads the file (TXT in parentheses, trailing garbage,
//! line:column), and its records are converted into the comparison model of [`crate::model`]
//! on a second thread. Every error of a file is reported, not only the first, each with
//! file:line:column in the file as written.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::base::name::ToName;
use domain::base::rdata::ComposeRecordData;
use domain::base::Name as DomainName;
use domain::zonefile::inplace::{Entry, ScannedRecord, Zonefile};
use hickory_proto::rr::{Name, RecordType};

use crate::model::{self, canonical_name, name_of_key, present_name, Rdata, Zone};

mod bind;
mod svcb;

/// Bounds on what a zone file may hold before it is refused.
#[derive(Clone, Copy, Debug)]
pub struct ZoneLimits {
    /// Largest zone file (and each include) accepted, in bytes.
    pub max_bytes: u64,
    /// Most records accepted in one zone.
    pub max_records: usize,
    /// Most `$INCLUDE`s read for one zone, each time one is read (a file included from ten
    /// places counts ten): a fan-out of includes makes no records, so `max_records` never
    /// stops it, and nine files of ten includes each would be read for hours.
    pub max_includes: usize,
    /// Most bytes of included files read for one zone, counted each time one is read.
    pub max_include_bytes: u64,
    /// Keep the place of every RRset and record (lint points at them; check does not need them).
    pub record_lines: bool,
}

impl Default for ZoneLimits {
    fn default() -> Self {
        ZoneLimits {
            max_bytes: 256 * 1024 * 1024,
            max_records: 2_000_000,
            max_includes: 1_000,
            max_include_bytes: 512 * 1024 * 1024,
            record_lines: false,
        }
    }
}

/// One problem in a zone file, at a place a person can go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneError {
    /// The file, as given (relative to where the user pointed us).
    pub file: PathBuf,
    /// 1-based line, 0 when the problem is not tied to a line.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = crate::escape::terminal(&self.file.display().to_string());
        let message = crate::escape::terminal(&self.message);
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}: {message}"),
            (line, 0) => write!(f, "{file}:{line}: {message}"),
            (line, column) => write!(f, "{file}:{line}:{column}: {message}"),
        }
    }
}

/// Where a record was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file the record came from.
    pub file: PathBuf,
    /// Its 1-based line.
    pub line: usize,
}

/// A loaded zone with the place each RRset was first written.
#[derive(Clone, Debug)]
pub struct LoadedZone {
    /// The records.
    pub zone: Zone,
    /// First line of each (name, type), kept when `ZoneLimits::record_lines` is set.
    pub locations: BTreeMap<(Name, RecordType), Location>,
    /// Records written twice: the second place.
    pub duplicates: Vec<(Name, RecordType, Location)>,
    /// The line of each record (first place written).
    pub record_lines: HashMap<(Name, RecordType, Rdata), usize>,
    /// Records BIND ignores with a warning (data outside the zone), each at its place: not
    /// loaded, said by `check` and `lint` as warnings.
    pub ignored: Vec<ZoneError>,
}

/// Test helper: the zone `origin` from zone file text; panics on a bad zone.
#[cfg(test)]
pub(crate) fn test_zone(origin: &str, text: &str) -> LoadedZone {
    let origin = Name::from_ascii(origin).expect("origin");
    load_zone_bytes(
        Path::new("test.zone"),
        text.as_bytes(),
        &origin,
        ZoneLimits {
            record_lines: true,
            ..ZoneLimits::default()
        },
    )
    .expect("test zone loads")
}

/// The file name of a zone in expected-records: `<zone>.zone` (`root.zone` for the root).
pub(crate) fn file_name_for_zone(origin: &Name) -> String {
    if origin.is_root() {
        "root.zone".to_string()
    } else {
        format!("{}zone", present_name(origin))
    }
}

/// Zone name for a file named `<zone>.zone` (`root.zone` is the root zone).
pub(crate) fn zone_name_for_file(path: &Path) -> Option<Name> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".zone")?;
    if stem == "root" {
        return Some(Name::root());
    }
    let mut name = Name::from_ascii(stem).ok()?;
    name.set_fqdn(true);
    Some(canonical_name(&name))
}

/// Why a `*.zone` file is not read as a zone: its name (the zone's, less `.zone`) is no zone
/// name this tool can read (a space, a non-ASCII letter). None for a file that names a zone,
/// or is no zone file. Said, never skipped silently.
pub(crate) fn unreadable_zone_file_name(path: &Path) -> Option<String> {
    let file = path.file_name()?;
    let shown = crate::escape::terminal(&file.to_string_lossy());
    if !shown.ends_with(".zone") || zone_name_for_file(path).is_some() {
        return None;
    }
    Some(format!(
        "{shown}: not read: its name is no zone name (a zone file is named <zone>.zone, the zone in \
         ASCII, an IDN as its xn-- form; root.zone for the root)"
    ))
}

/// Where a zone file's `$INCLUDE` paths lead (BIND reads them from its working directory, which
/// on the production server is not where expected-records is checked out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Includes {
    /// Relative paths resolve here, and every included file must lie inside it once symlinks
    /// are resolved.
    pub root: PathBuf,
    /// The directory on the server that `root` stands for: an absolute path under it is read
    /// from the same place under `root`. Other absolute paths are refused.
    pub server_root: Option<PathBuf>,
}

impl Includes {
    /// Includes resolved in, and confined to, `dir`.
    pub fn within(dir: &Path) -> Includes {
        Includes {
            root: dir.to_path_buf(),
            server_root: None,
        }
    }

    /// The file an `$INCLUDE` path names.
    fn resolve(&self, written: &Path) -> Result<PathBuf, String> {
        if !written.is_absolute() {
            return Ok(self.root.join(written));
        }
        match &self.server_root {
            Some(server) => match written.strip_prefix(server) {
                Ok(rest) => Ok(self.root.join(rest)),
                Err(_) => Err(format!(
                    "refused: the absolute path {} is not under include_server_root {}",
                    written.display(),
                    server.display()
                )),
            },
            None => Err(format!(
                "refused: an absolute $INCLUDE path ({}) names a file on the server; set include_server_root to the server directory it lies under, and include_root to where that directory is kept here",
                written.display()
            )),
        }
    }
}

/// Loads the zone `origin` from `path`, which must lie inside `root` once symlinks are resolved;
/// `includes` says where its `$INCLUDE` paths lead.
pub(crate) fn load_zone(
    root: &Path,
    includes: &Includes,
    path: &Path,
    origin: &Name,
    limits: ZoneLimits,
) -> Result<LoadedZone, Vec<ZoneError>> {
    let display = path
        .strip_prefix(root)
        .map(|p| root.join(p))
        .unwrap_or_else(|_| path.into());
    let (built, mut errors) = load(includes, origin, limits, |loader| {
        loader.load_main_file(root, path, &display, origin)
    })?;
    if errors.is_empty() && !built.zone.contains(&built.zone.origin) {
        // Every record outside the zone: the file of another zone, most likely.
        let error = match built.ignored.first() {
            Some(first) => ZoneError {
                message: format!(
                    "no records at the apex {}: the {} records outside it are ignored, the first here (the zone file of another zone?)",
                    present_name(origin),
                    built.ignored.len()
                ),
                ..first.clone()
            },
            None => ZoneError {
                file: display,
                line: 0,
                column: 0,
                message: format!("no records at the apex {}", present_name(origin)),
            },
        };
        errors.push(error);
    }
    built.finish(errors)
}

/// Loads a zone from bytes already in memory (a file read from git, a test). `$INCLUDE` is refused.
pub fn load_zone_bytes(
    display: &Path,
    bytes: &[u8],
    origin: &Name,
    limits: ZoneLimits,
) -> Result<LoadedZone, Vec<ZoneError>> {
    let (built, errors) = load(&Includes::within(Path::new("")), origin, limits, |loader| {
        loader.parse(bytes, display, origin, None)
    })?;
    built.finish(errors)
}

/// Runs `read` (the scanner) on this thread while another converts what it scans into the
/// model: the two halves of loading take about the same time, so a large zone loads in a bit
/// over half the time. Returns the zone built and every error, in the order of the files.
fn load(
    includes: &Includes,
    origin: &Name,
    limits: ZoneLimits,
    read: impl FnOnce(&mut Loader),
) -> Result<(Builder, Vec<ZoneError>), Vec<ZoneError>> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    let (give_back, returned) = std::sync::mpsc::channel::<Batch>();
    let builder = Builder::new(origin, limits);
    let (mut errors, built) = std::thread::scope(|scope| {
        let converter = std::thread::Builder::new()
            .name("zone-convert".into())
            .spawn_scoped(scope, move || convert(builder, receiver, give_back));
        let converter = match converter {
            Ok(converter) => converter,
            Err(e) => return (Vec::new(), Err(format!("cannot start a thread: {e}"))),
        };
        let mut loader = Loader {
            includes,
            limits,
            ttl: TtlState::default(),
            errors: Vec::new(),
            entries: 0,
            includes_read: 0,
            include_bytes: 0,
            stopped: false,
            batch: Batch::default(),
            sender,
            returned,
        };
        read(&mut loader);
        loader.flush();
        // Hanging up ends the converter's loop.
        let Loader { errors, sender, .. } = loader;
        drop(sender);
        let built = converter
            .join()
            .map_err(|_| "the zone converter crashed; please report it".to_string());
        (errors, built)
    });
    let mut built = match built {
        Ok(built) => built,
        Err(message) => {
            return Err(vec![ZoneError {
                file: includes.root.clone(),
                line: 0,
                column: 0,
                message,
            }])
        }
    };
    // Both halves number what they report by entry, so errors come out in file order.
    errors.append(&mut built.errors);
    errors.sort_by_key(|(entry, _)| *entry);
    Ok((built, errors.into_iter().map(|(_, e)| e).collect()))
}

/// The converting half: adds the records of each batch to the zone, then gives the batch back
/// to be filled again, until the scanner hangs up.
fn convert(
    mut builder: Builder,
    batches: std::sync::mpsc::Receiver<Batch>,
    give_back: std::sync::mpsc::Sender<Batch>,
) -> Builder {
    // The owner key of the record being added, its room kept from one record to the next.
    let mut key = Vec::new();
    for mut batch in batches {
        for record in &batch.records {
            builder.add(&batch, record, &mut key);
        }
        batch.clear();
        // The scanner may be done and gone: the batch is dropped then.
        let _ = give_back.send(batch);
    }
    builder
}

/// Records sent to the converter at a time.
const BATCH: usize = 512;
/// Batches the scanner may run ahead of the converter (bounds the memory in between).
const BATCHES_IN_FLIGHT: usize = 16;

const MAX_INCLUDE_DEPTH: usize = 8;

/// Entries given to the scanner at a time once a file has an error.
const ERROR_WINDOW: usize = 256;

/// Records as the scanner read them, sent to the converter together and sent back empty to be
/// filled again. Their owners and data share one buffer and their files one list: a record
/// costs no allocation of its own, and no count that both threads change.
#[derive(Default)]
struct Batch {
    /// Owner names and record data in uncompressed wire form, one after another.
    wire: Vec<u8>,
    /// The files the records come from, each once for a run of records.
    files: Vec<Arc<Path>>,
    records: Vec<Scanned>,
}

/// A record as the scanner read it; its owner and data are in its batch's `wire`.
struct Scanned {
    owner: Range<usize>,
    /// None when the data does not fit in a record.
    rdata: Option<Range<usize>>,
    rtype: RecordType,
    ttl: u32,
    /// Its place in the batch's `files`.
    file: usize,
    line: usize,
    /// Place in the order of entries, for the order of errors.
    entry: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.wire.clear();
        self.files.clear();
        self.records.clear();
    }

    /// The owner of `record`, in wire form.
    fn owner(&self, record: &Scanned) -> &[u8] {
        &self.wire[record.owner.clone()]
    }

    /// The data of `record` in wire form; None when it does not fit in a record.
    fn rdata(&self, record: &Scanned) -> Option<&[u8]> {
        record.rdata.clone().map(|range| &self.wire[range])
    }

    fn file(&self, record: &Scanned) -> &Path {
        &self.files[record.file]
    }
}

/// The scanning half: reads files (and their includes) and sends what it scans to the
/// converter in batches.
struct Loader<'a> {
    includes: &'a Includes,
    limits: ZoneLimits,
    /// The default TTL where the scan is (carried into included files).
    ttl: TtlState,
    errors: Vec<(usize, ZoneError)>,
    entries: usize,
    /// `$INCLUDE`s read so far, and their bytes (bounded by `max_includes`,
    /// `max_include_bytes`).
    includes_read: usize,
    include_bytes: u64,
    /// A bound on the whole load was crossed: nothing more is read.
    stopped: bool,
    batch: Batch,
    sender: std::sync::mpsc::SyncSender<Batch>,
    /// Batches the converter is done with.
    returned: std::sync::mpsc::Receiver<Batch>,
}

/// A scanned record's data (None when too long) in the model, or why it does not read.
fn rdata_of(rtype: RecordType, wire: Option<&[u8]>) -> Result<Rdata, String> {
    let Some(wire) = wire else {
        return Err("record data too long".into());
    };
    match Rdata::from_wire(rtype, wire) {
        Ok(rdata) => Ok(rdata),
        Err(_) if has_empty_label(rtype, wire) => Err(format!("{rtype} data: {EMPTY_LABEL}")),
        Err(message) => Rdata::nsec3_as_written(rtype, wire).ok_or(message),
    }
}

/// The file as the scanner can take it. It takes only UTF-8, but zone files are bytes: a raw
/// octet such as 0xF2 in a label is legal DNS data, and `\DDD` means the same octet
/// everywhere in zone file syntax. It also writes one byte past a token that ends the file
/// (domain 0.12.3, found by fuzzing): a file gets a final line feed if it lacks one.
fn scannable(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if bytes.is_ascii() && bytes.ends_with(b"\n") {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut copy = escape_high_octets(bytes);
    if !copy.ends_with(b"\n") {
        copy.push(b'\n');
    }
    std::borrow::Cow::Owned(copy)
}

/// `bytes` with the lines of `unread` blanked (spaces, the line ends kept, so every offset
/// stays), when every one of them is a mistake that ends with its line: a quoted string left
/// open, as BIND reads it. None when one is not (a '(' never closed swallows what follows:
/// scanning on would report the rest of the file as mistakes of its own).
fn blank_unread_lines(
    bytes: &[u8],
    lines: &Lines,
    unread: &[(usize, usize, String)],
) -> Option<Vec<u8>> {
    let line_local = |message: &str| message.starts_with(UNTERMINATED_ON_ITS_LINE);
    if !unread.iter().all(|(_, _, message)| line_local(message)) {
        return None;
    }
    let mut copy = bytes.to_vec();
    for (line, _, _) in unread {
        let start = lines.starts[line - 1];
        let end = lines.starts.get(*line).copied().unwrap_or(copy.len());
        for byte in &mut copy[start..end] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    // The line may have held a ')' of an entry begun above: then what is left is unbalanced
    // and the scanner would read on (or crash), so nothing more is scanned.
    check_balance(&copy, lines).is_empty().then_some(copy)
}

/// The start of the error for a quoted string its line ends.
const UNTERMINATED_ON_ITS_LINE: &str =
    "unterminated quoted string: expected '\"' before the end of the line";

/// What the scanner would read wrongly or crash on, found before it runs, in line order: a
/// '(' still open at the end of the file (domain 0.12.3 panics), nested parentheses (it
/// accepts them), a bad `$ORIGIN`, and what the BIND pass could not read.
fn unread_syntax(
    bytes: &[u8],
    lines: &Lines,
    bind: &bind::Prepared,
) -> Vec<(usize, usize, String)> {
    let mut unread = check_balance(bytes, lines);
    unread.extend(bad_origins(bytes, lines));
    for (line, column, _) in &mut unread {
        *column = bind.column(*line, *column);
    }
    unread.extend(bind.errors.iter().cloned());
    unread.sort_by_key(|(line, column, _)| (*line, *column));
    unread
}

/// One file being scanned: its text, and what is worked out of it before the scanner runs.
struct FileScan<'a> {
    bytes: &'a [u8],
    lines: &'a Lines,
    bind: &'a bind::Prepared,
    /// The file as errors name it.
    display: &'a Path,
    /// The same, shared by the places of its records.
    file: Arc<Path>,
    origin: &'a Name,
    /// None where `$INCLUDE` is not allowed.
    include_depth: Option<usize>,
    /// The line each entry begins on: the scanner's offset does not tell (after a multi-line
    /// entry it can lag lines behind), so entries are numbered against these.
    entry_lines: Vec<usize>,
    /// `$TTL` directives by offset, and the ends of included files (where their `$TTL` holds).
    dollar_ttls: Vec<(usize, Option<u32>)>,
    /// The including file's `$TTL` when this file began.
    inherited: Option<u32>,
}

impl FileScan<'_> {
    /// The line entry `index` begins on (at `offset` if the count ran out).
    fn line_of_entry(&self, index: usize, offset: usize) -> usize {
        self.entry_lines
            .get(index)
            .copied()
            .unwrap_or_else(|| first_content_line(self.bytes, &self.lines.starts, offset))
    }

    /// Where the scanner stops after an error, when only further errors are wanted: the
    /// scanner copies what it is given, so it gets the file a window of entries at a time, or
    /// a file with an error on every line would be copied once per line (184,000 bad records:
    /// 8.4 s).
    fn window_end(&self, next_entry: usize) -> usize {
        self.entry_lines
            .get(next_entry + ERROR_WINDOW)
            .map_or(self.bytes.len(), |line| self.lines.starts[line - 1])
    }

    /// The `$TTL` in force at `offset`. The TTL a record without its own takes is worked out
    /// here as the scanner does (the last $TTL, else the last TTL given), but starting from
    /// the including file's state: the scanner starts an included file from a made-up 3600,
    /// and so would a file with no $TTL whose first record has no TTL, which is an error
    /// instead.
    fn dollar_before(&self, offset: usize) -> Option<u32> {
        match self.dollar_ttls.partition_point(|(at, _)| *at < offset) {
            0 => self.inherited,
            n => self.dollar_ttls[n - 1].1,
        }
    }
}

/// What a record without a TTL of its own takes: the last `$TTL`, else the last TTL given.
#[derive(Clone, Copy, Debug, Default)]
struct TtlState {
    dollar: Option<u32>,
    last: Option<u32>,
}

/// The converting half: turns scanned records into the model, with the checks that need it.
struct Builder {
    limits: ZoneLimits,
    zone: Zone,
    locations: BTreeMap<(Name, RecordType), Location>,
    duplicates: Vec<(Name, RecordType, Location)>,
    record_lines: HashMap<(Name, RecordType, Rdata), usize>,
    errors: Vec<(usize, ZoneError)>,
    ignored: Vec<ZoneError>,
    records: usize,
}

impl Builder {
    fn new(origin: &Name, limits: ZoneLimits) -> Builder {
        Builder {
            limits,
            zone: Zone::new(origin),
            locations: BTreeMap::new(),
            duplicates: Vec::new(),
            record_lines: HashMap::new(),
            errors: Vec::new(),
            ignored: Vec::new(),
            records: 0,
        }
    }

    /// The loaded zone, or the errors when there are any.
    fn finish(mut self, errors: Vec<ZoneError>) -> Result<LoadedZone, Vec<ZoneError>> {
        if !errors.is_empty() {
            return Err(errors);
        }
        self.zone.shrink_to_fit();
        Ok(LoadedZone {
            zone: self.zone,
            locations: self.locations,
            duplicates: self.duplicates,
            record_lines: self.record_lines,
            ignored: self.ignored,
        })
    }

    fn error(&mut self, at: (&Batch, &Scanned), column: usize, message: impl Into<String>) {
        let (batch, record) = at;
        self.errors.push((
            record.entry,
            ZoneError {
                file: batch.file(record).to_path_buf(),
                line: record.line,
                column,
                message: message.into(),
            },
        ));
    }

    /// Converts one record into the zone, its owner's key written to `key`. The key is all
    /// the zone needs: the owner's name is made only for a name not seen before.
    fn add(&mut self, batch: &Batch, record: &Scanned, key: &mut Vec<u8>) {
        let at = (batch, record);
        if model::owner_key_of_wire(batch.owner(record), key).is_none() {
            return self.error(at, 1, "bad owner name");
        }
        let key = &key[..];
        if !self.zone.is_within(key) {
            // As BIND has it ("ignoring out-of-zone data"): not loaded, said at its line.
            let (batch, record) = at;
            self.ignored.push(ZoneError {
                file: batch.file(record).to_path_buf(),
                line: record.line,
                column: 1,
                message: format!(
                    "{} is outside the zone {}: ignored, as BIND ignores it",
                    present_name(&name_of_key(key)),
                    present_name(&self.zone.origin)
                ),
            });
            return;
        }
        let rdata = match rdata_of(record.rtype, batch.rdata(record)) {
            Ok(rdata) => rdata,
            Err(message) => return self.error(at, 0, message),
        };
        self.records += 1;
        if self.records > self.limits.max_records {
            if self.records == self.limits.max_records + 1 {
                let message = format!(
                    "refused: more than {} records (max_zone_records)",
                    self.limits.max_records
                );
                self.error(at, 0, message);
            }
            return;
        }
        let (rtype, line) = (record.rtype, record.line);
        let place = || Location {
            file: batch.file(record).to_path_buf(),
            line,
        };
        if self.limits.record_lines {
            let owner = name_of_key(key);
            self.locations
                .entry((owner.clone(), rtype))
                .or_insert_with(place);
            self.record_lines
                .entry((owner, rtype, rdata.clone()))
                .or_insert(line);
        }
        if !self.zone.insert_written(key, rtype, record.ttl, rdata) {
            self.duplicates.push((name_of_key(key), rtype, place()));
        }
    }
}

impl Loader<'_> {
    fn error(&mut self, file: &Path, line: usize, column: usize, message: impl Into<String>) {
        self.errors.push((
            self.entries,
            ZoneError {
                file: file.to_path_buf(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    /// Sends the records scanned so far to the converter, and takes a batch it is done with
    /// (or a new one) to fill next.
    fn flush(&mut self) {
        if !self.batch.records.is_empty() {
            let next = self.returned.try_recv().unwrap_or_default();
            let batch = std::mem::replace(&mut self.batch, next);
            // The converter only stops when this side has hung up (or crashed, which `load`
            // reports), so a failed send has nothing left to tell.
            let _ = self.sender.send(batch);
        }
    }

    /// Reads the zone's own file, which must lie inside `root` (expected-records).
    fn load_main_file(&mut self, root: &Path, path: &Path, display: &Path, origin: &Name) {
        match self.read_inside(root, "the expected-records directory", path) {
            Ok(bytes) => self.parse(&bytes, display, origin, Some(0)),
            Err(message) => self.error(display, 0, 0, message),
        }
    }

    /// Reads a file after checking it resolves to a place inside `root` and is not too large.
    /// `what` names `root` in errors.
    fn read_inside(&self, root: &Path, what: &str, path: &Path) -> Result<Vec<u8>, String> {
        let real = path
            .canonicalize()
            .map_err(|e| format!("cannot open: {e}"))?;
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot open the directory {}: {e}", root.display()))?;
        if !real.starts_with(&root) {
            return Err(format!(
                "refused: resolves to {} which is outside {what}",
                real.display(),
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| format!("cannot open: {e}"))?;
        if !meta.is_file() {
            return Err("not a regular file".to_string());
        }
        if meta.len() > self.limits.max_bytes {
            return Err(format!(
                "refused: {} bytes is over the limit of {} bytes (max_zone_bytes)",
                meta.len(),
                self.limits.max_bytes
            ));
        }
        std::fs::read(&real).map_err(|e| format!("cannot read: {e}"))
    }

    /// Parses one file's bytes. `include_depth` is None where `$INCLUDE` is not allowed.
    fn parse(&mut self, bytes: &[u8], display: &Path, origin: &Name, include_depth: Option<usize>) {
        if bytes.len() as u64 > self.limits.max_bytes {
            self.error(display, 0, 0, "refused: zone file over max_zone_bytes");
            return;
        }
        let prepared = scannable(bytes);
        let bytes = &prepared[..];
        // BIND's syntax beyond the scanner's (TTL units, $GENERATE) is rewritten first.
        let mut lines = Lines::new(bytes);
        let bind = bind::prepare(bytes, &lines.starts, &lines.special, &present_name(origin));
        let bytes = match &bind.text {
            Some(text) => {
                lines = Lines::new(text);
                text
            }
            None => bytes,
        };
        let unread = unread_syntax(bytes, &lines, &bind);
        let Some(rest) = self.set_aside(bytes, &lines, unread, display) else {
            return;
        };
        let bytes = &rest[..];
        let before = self.errors.len();
        let mut file = FileScan {
            bytes,
            lines: &lines,
            bind: &bind,
            display,
            file: display.into(),
            origin,
            include_depth,
            entry_lines: entry_lines(bytes, &lines),
            dollar_ttls: dollar_ttls(bytes, &lines),
            inherited: self.ttl.dollar,
        };
        let scanned =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.scan(&mut file)));
        if scanned.is_err() {
            self.error(
                display,
                0,
                0,
                "the zone file parser crashed on this file (a bug in the domain crate); please report it",
            );
        }
        // Columns of this file's errors, in the file as written.
        for (_, error) in &mut self.errors[before..] {
            if error.file == display && error.column > 0 {
                error.column = bind.column(error.line, error.column);
            }
        }
    }

    /// Reports what the pre-passes found; the text to scan on: `bytes`, or a copy with the
    /// lines of mistakes that end with their line (a quote left open) blanked, so the other
    /// lines' mistakes are found too (the file's records are not used either way). None when
    /// nothing more can be scanned.
    fn set_aside<'b>(
        &mut self,
        bytes: &'b [u8],
        lines: &Lines,
        unread: Vec<(usize, usize, String)>,
        display: &Path,
    ) -> Option<std::borrow::Cow<'b, [u8]>> {
        let rest = match unread.is_empty() {
            true => Some(std::borrow::Cow::Borrowed(bytes)),
            false => blank_unread_lines(bytes, lines, &unread).map(std::borrow::Cow::Owned),
        };
        for (line, column, message) in unread {
            self.error(display, line, column, message);
        }
        rest
    }

    fn scan(&mut self, f: &mut FileScan<'_>) {
        let (bytes, line_starts) = (f.bytes, &f.lines.starts[..]);
        // After an error the scanner cannot go on, so parsing restarts at the next line that
        // begins a new entry; `base` is the byte offset of the current restart.
        let mut base = 0usize;
        let mut failed = false;
        'restart: while base < bytes.len() {
            let base_line = line_of(line_starts, base) - 1;
            let mut next_entry = f.entry_lines.partition_point(|&line| line <= base_line);
            let end = match failed {
                true => f.window_end(next_entry),
                false => bytes.len(),
            };
            let mut scanner = Zonefile::from(&bytes[base..end]);
            scanner.set_origin(to_domain_name(f.origin));
            scanner.set_default_class(domain::base::iana::Class::IN);
            loop {
                let entry_offset = base + scanner.current_offset();
                self.entries += 1;
                let entry_line = |next_entry| f.line_of_entry(next_entry, entry_offset);
                match scanner.next_entry() {
                    Ok(None) if end < bytes.len() => {
                        base = end;
                        continue 'restart;
                    }
                    Ok(None) => break 'restart,
                    Ok(Some(Entry::Record(_))) if failed => continue,
                    Ok(Some(Entry::Record(record))) => {
                        let line = entry_line(next_entry);
                        next_entry += 1;
                        self.record_entry(f, record, line);
                    }
                    Ok(Some(Entry::Include { path, origin })) => {
                        let line = entry_line(next_entry);
                        next_entry += 1;
                        let current = scanner.origin().map(|o| from_domain_name(&o));
                        let origin = origin.map_or(current, |o| Ok(from_domain_name(&o)));
                        let origin = origin.unwrap_or_else(|_| f.origin.clone());
                        let written = PathBuf::from(path.to_string());
                        failed |= !self.include_entry(f, line, &written, &origin);
                        if self.stopped {
                            break 'restart;
                        }
                    }
                    Err(err) => {
                        failed = true;
                        let begun = entry_line(next_entry);
                        match self.scan_error(f, &err.to_string(), begun, base_line) {
                            Some(next) => {
                                base = next;
                                continue 'restart;
                            }
                            None => break 'restart,
                        }
                    }
                }
            }
        }
        // Records of a file with errors are not used: the caller gets the errors only.
    }

    /// Reports what the scanner could not read (in an entry begun on line `begun`, `message`
    /// counting lines from `base_line`); the offset where scanning starts again, if any.
    fn scan_error(
        &mut self,
        f: &FileScan<'_>,
        message: &str,
        begun: usize,
        base_line: usize,
    ) -> Option<usize> {
        let line_starts = &f.lines.starts[..];
        let (line, column, message) = split_position(message);
        let (line, column) = place_error(f.bytes, line_starts, begun, base_line + line, column);
        self.error(f.display, line, column, explain(&message));
        next_entry_start(f.bytes, line_starts, line)
    }

    /// A record the scanner read on `line`, with the TTL BIND gives it.
    fn record_entry(&mut self, f: &FileScan<'_>, record: ScannedRecord, line: usize) {
        let text = f.lines.text(f.bytes, line - 1);
        // The scanner reads `a..b` as `a.b`: a typo would pass unseen.
        if let Some(at) = owner_token(text).and_then(empty_label) {
            self.error(f.display, line, at + 1, EMPTY_LABEL);
            return;
        }
        self.ttl.dollar = f.dollar_before(f.lines.starts[line - 1]);
        let ttl = if has_own_ttl(text) {
            let ttl = record.ttl().as_secs();
            self.ttl.last = Some(ttl);
            ttl
        } else if let Some(ttl) = self.ttl.dollar.or(self.ttl.last) {
            ttl
        } else {
            self.error(
                f.display,
                line,
                1,
                "no TTL: this record has none and no $TTL or earlier record gives one (add `$TTL <seconds>` at the top of the file)",
            );
            return;
        };
        self.scanned(record, ttl, &f.file, line);
    }

    /// An `$INCLUDE` on `line` (or a `$GENERATE`, which the BIND pass made one): the included
    /// file read in place, under `origin`. False when a `$GENERATE`'s records do not read.
    fn include_entry(
        &mut self,
        f: &mut FileScan<'_>,
        line: usize,
        written: &Path,
        origin: &Name,
    ) -> bool {
        let at = f.lines.starts[line - 1];
        if let Some(generate) = f.bind.generate_at(line) {
            self.ttl.dollar = f.dollar_before(at);
            return self.generate(generate, origin, &f.file, line);
        }
        // Problems with the include itself are placed on its path here.
        let column = include_path_column(f.lines.text(f.bytes, line - 1));
        let Some(depth) = f.include_depth else {
            self.error(f.display, line, column, "$INCLUDE is not allowed here");
            return true;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.error(f.display, line, column, "$INCLUDE nested too deeply");
            return true;
        }
        if !self.within_bounds(f.display, line, column, 1, 0) {
            return true;
        }
        let root = self.includes.root.clone();
        let read = self.includes.resolve(written).and_then(|target| {
            let what = "the include root (include_root)";
            Ok((self.read_inside(&root, what, &target)?, target))
        });
        let (included, target) = match read {
            Ok(read) => read,
            Err(message) => {
                let shown = written.display();
                let message = format!("$INCLUDE {shown}: {message}");
                self.error(f.display, line, column, message);
                return true;
            }
        };
        if !self.within_bounds(f.display, line, column, 0, included.len() as u64) {
            return true;
        }
        self.ttl.dollar = f.dollar_before(at);
        self.parse(&included, &target, origin, Some(depth + 1));
        // As BIND has it, an included file's $TTL and last TTL hold after it too: its end is
        // one more place where the default is set.
        let after = f.dollar_ttls.partition_point(|(offset, _)| *offset <= at);
        f.dollar_ttls.insert(after, (at, self.ttl.dollar));
        true
    }

    /// Counts `includes` more `$INCLUDE`s and `bytes` more included bytes read for the zone;
    /// false (with an error at the include, and loading stopped) once either is over its bound
    /// or loading was already stopped.
    fn within_bounds(
        &mut self,
        file: &Path,
        line: usize,
        column: usize,
        includes: usize,
        bytes: u64,
    ) -> bool {
        if self.stopped {
            return false;
        }
        self.includes_read += includes;
        self.include_bytes += bytes;
        let crossed = if self.includes_read > self.limits.max_includes {
            format!(
                "more than {} $INCLUDEs read for this zone (max_zone_includes",
                self.limits.max_includes
            )
        } else if self.include_bytes > self.limits.max_include_bytes {
            format!(
                "more than {} bytes of included files read for this zone (max_zone_include_bytes",
                self.limits.max_include_bytes
            )
        } else {
            return true;
        };
        let message = format!(
            "refused: {crossed}; a file counts each time it is read): loading stopped here"
        );
        self.error(file, line, column, message);
        self.stopped = true;
        false
    }

    /// Reads the records a `$GENERATE` makes, as if written on its line. False when they do
    /// not read (the error is reported).
    fn generate(
        &mut self,
        generate: &bind::Generate,
        origin: &Name,
        file: &Arc<Path>,
        line: usize,
    ) -> bool {
        let Some(ttl) = generate.ttl.or(self.ttl.dollar).or(self.ttl.last) else {
            self.error(
                file,
                line,
                1,
                "$GENERATE: no TTL: none given and no $TTL or earlier record gives one",
            );
            return false;
        };
        if generate.ttl.is_some() {
            self.ttl.last = Some(ttl);
        }
        let text = match generate.expand(ttl) {
            Ok(text) => text,
            Err(message) => {
                self.error(file, line, 1, format!("$GENERATE: {message}"));
                return false;
            }
        };
        let mut scanner = Zonefile::from(&text[..]);
        scanner.set_origin(to_domain_name(origin));
        scanner.set_default_class(domain::base::iana::Class::IN);
        loop {
            self.entries += 1;
            match scanner.next_entry() {
                Ok(None) => return true,
                Ok(Some(Entry::Record(record))) => {
                    let ttl = record.ttl().as_secs();
                    self.scanned(record, ttl, file, line);
                }
                Ok(Some(Entry::Include { .. })) => {
                    self.error(file, line, 1, "$GENERATE: the data makes a directive");
                    return false;
                }
                Err(err) => {
                    let (mut generated, column, message) = split_position(&err.to_string());
                    // A bad last field is reported at the start of the next line.
                    if column == 1 && generated > 1 {
                        generated -= 1;
                    }
                    let shown = text
                        .split(|&b| b == b'\n')
                        .nth(generated.saturating_sub(1))
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default();
                    let message =
                        format!("$GENERATE: {} (in the record `{shown}`)", explain(&message));
                    self.error(file, line, 1, message);
                    return false;
                }
            }
        }
    }

    /// Queues one scanned record for conversion.
    fn scanned(&mut self, record: ScannedRecord, ttl: u32, file: &Arc<Path>, line: usize) {
        let batch = &mut self.batch;
        if !batch
            .files
            .last()
            .is_some_and(|last| Arc::ptr_eq(last, file))
        {
            batch.files.push(Arc::clone(file));
        }
        let start = batch.wire.len();
        let Ok(()) = record.owner().compose(&mut batch.wire);
        let owner = start..batch.wire.len();
        let rdata = match record.data().compose_rdata(&mut batch.wire) {
            Ok(()) => Some(owner.end..batch.wire.len()),
            Err(_) => {
                batch.wire.truncate(owner.end);
                None
            }
        };
        batch.records.push(Scanned {
            owner,
            rdata,
            rtype: RecordType::from(record.rtype().to_int()),
            ttl,
            file: batch.files.len() - 1,
            line,
            entry: self.entries,
        });
        if batch.records.len() >= BATCH {
            self.flush();
        }
    }
}

fn to_domain_name(name: &Name) -> DomainName<bytes::Bytes> {
    let mut wire = Vec::with_capacity(name.len() + 1);
    for label in name.iter() {
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
    }
    wire.push(0);
    DomainName::from_octets(bytes::Bytes::from(wire)).unwrap_or_else(|_| DomainName::root())
}

fn from_domain_name(name: &DomainName<bytes::Bytes>) -> Name {
    let labels = name.iter().filter(|l| !l.is_root());
    let mut out = Name::from_labels(labels.map(|l| l.as_slice())).unwrap_or_default();
    out.set_fqdn(true);
    out
}

/// The 1-based column of the path in an `$INCLUDE` line.
fn include_path_column(text: &[u8]) -> usize {
    let directive = text.iter().take_while(|b| !b.is_ascii_whitespace()).count();
    let blanks = text[directive..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    directive + blanks + 1
}

/// Where each line of a file begins.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', bytes).map(|at| at + 1))
        .collect()
}

/// The lines of a file: where each begins, and which hold any of the octets that quoting,
/// escapes, comments and parentheses are made of (most lines of a large zone hold none, and
/// are passed over by the checks that follow them).
struct Lines {
    starts: Vec<usize>,
    special: Vec<bool>,
}

impl Lines {
    fn new(bytes: &[u8]) -> Lines {
        let starts = line_starts(bytes);
        let mut special = vec![false; starts.len()];
        let quoting = memchr::memchr3_iter(b'"', b';', b'(', bytes);
        for at in quoting.chain(memchr::memchr2_iter(b')', b'\\', bytes)) {
            special[line_of(&starts, at) - 1] = true;
        }
        Lines { starts, special }
    }

    /// The text of the line at `index` (0-based), with its line end.
    fn text<'b>(&self, bytes: &'b [u8], index: usize) -> &'b [u8] {
        let end = self.starts.get(index + 1).copied().unwrap_or(bytes.len());
        &bytes[self.starts[index]..end]
    }
}

/// Finds parentheses that are nested, closed without being opened, or never closed, and quoted
/// strings that do not end on their line, outside comments, as (line, column, message).
fn check_balance(bytes: &[u8], lines: &Lines) -> Vec<(usize, usize, String)> {
    let mut errors = Vec::new();
    let mut open: Option<(usize, usize)> = None;
    let mut open_at_the_end = None;
    for index in (0..lines.starts.len()).filter(|&i| lines.special[i]) {
        let text = lines.text(bytes, index);
        let line = index + 1;
        let quoted = balance_line(text, line, &mut open, &mut errors);
        // A quoted string ends on its line (as BIND has it); the scanner would read on and, at
        // the end of the file, panic (domain 0.12.3, found by fuzzing).
        if let (Some(quote_at), true) = (quoted, text.ends_with(b"\n")) {
            errors.push((quote_at.0, quote_at.1, UNTERMINATED_ON_ITS_LINE.to_string()));
            // The string swallowed the rest of the line, its ')' too: one mistake, one error.
            open = None;
        } else if quoted.is_some() {
            open_at_the_end = quoted;
        }
    }
    if let Some((l, c)) = open {
        errors.push((
            l,
            c,
            "'(' is never closed: expected ')' before the end of the file".to_string(),
        ));
    }
    if let Some((l, c)) = open_at_the_end {
        errors.push((
            l,
            c,
            "unterminated quoted string: expected '\"' before the end of the file".to_string(),
        ));
    }
    errors
}

/// The parentheses of one line: `open` carried from line to line, errors for a nested '(' and
/// a ')' without one; the place of the quote a string still open at its end began at.
fn balance_line(
    text: &[u8],
    line: usize,
    open: &mut Option<(usize, usize)>,
    errors: &mut Vec<(usize, usize, String)>,
) -> Option<(usize, usize)> {
    let (mut quoted, mut escaped, mut quote_at) = (false, false, (0, 0));
    for (at, &b) in text.iter().enumerate() {
        let column = at + 1;
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\n' => break,
            b'\\' => escaped = true,
            b'"' => {
                quoted = !quoted;
                quote_at = (line, column);
            }
            b';' if !quoted => break,
            b'(' if !quoted => {
                if let Some((l, c)) = *open {
                    errors.push((
                        line,
                        column,
                        format!("nested '(': the one at {l}:{c} is still open"),
                    ));
                }
                *open = Some((line, column));
            }
            b')' if !quoted && open.take().is_none() => {
                errors.push((line, column, "')' without a matching '('".to_string()));
            }
            _ => {}
        }
    }
    quoted.then_some(quote_at)
}

/// Replaces every octet above 0x7F with its `\DDD` escape. Lines stay where they were; columns
/// on such a line move by three for each escaped octet before them.
fn escape_high_octets(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 64);
    for &b in bytes {
        if b > 0x7f {
            out.extend_from_slice(format!("\\{b:03}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// 1-based line of a byte offset.
fn line_of(line_starts: &[usize], offset: usize) -> usize {
    line_starts.partition_point(|start| *start <= offset)
}

/// The line of the first entry at or after `offset`, skipping blank and comment-only lines.
fn first_content_line(bytes: &[u8], line_starts: &[usize], offset: usize) -> usize {
    // An entry begins a line. The scanner's offset after an entry can still be inside its last
    // line (before a closing ')'), so a position inside a line means the next one.
    let mut line = line_of(line_starts, offset);
    let mut pos = offset;
    if line_starts.get(line - 1) != Some(&offset) {
        pos = line_starts.get(line).copied().unwrap_or(bytes.len());
        line += 1;
    }
    while pos < bytes.len() {
        match bytes[pos] {
            b'\n' => {
                line += 1;
                pos += 1;
            }
            b' ' | b'\t' | b'\r' => pos += 1,
            // $ORIGIN and $TTL are read by the scanner on its way to the next entry.
            b';' | b'$' if bytes[pos] == b';' || is_origin_or_ttl(&bytes[pos..]) => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
    }
    line
}

/// The 1-based lines on which the scanner's entries begin: lines with content outside
/// parentheses, except `$ORIGIN` and `$TTL` (the scanner reads those on its way).
fn entry_lines(bytes: &[u8], lines: &Lines) -> Vec<usize> {
    let mut out = Vec::new();
    let mut open = false;
    for index in 0..lines.starts.len() {
        let text = lines.text(bytes, index);
        let inside = open;
        let content = if lines.special[index] {
            let (mut quoted, mut escaped, mut content) = (false, false, false);
            for &b in text {
                if escaped {
                    escaped = false;
                    continue;
                }
                match b {
                    b';' if !quoted => break,
                    b'\\' => escaped = true,
                    b'"' => quoted = !quoted,
                    b'(' if !quoted => open = true,
                    b')' if !quoted => open = false,
                    _ => {}
                }
                content |= !b.is_ascii_whitespace();
            }
            content
        } else {
            text.iter().any(|b| !b.is_ascii_whitespace())
        };
        if content && !inside && !is_origin_or_ttl(text) {
            out.push(index + 1);
        }
    }
    out
}

const EMPTY_LABEL: &str =
    "empty label in a name: two dots in a row, or a leading dot (the parser would drop it)";

/// Whether the data of a type that holds a name (at a known place) has an empty label in it:
/// the scanner writes `a..b` as a zero-length label, which no decoder reads as one name.
fn has_empty_label(rtype: RecordType, wire: &[u8]) -> bool {
    let start = match rtype {
        RecordType::CNAME | RecordType::NS | RecordType::PTR | RecordType::ANAME => 0,
        RecordType::MX => 2,
        RecordType::SRV => 6,
        _ => return false,
    };
    let mut at = start;
    while let Some(&length) = wire.get(at) {
        if length == 0 {
            return at + 1 < wire.len();
        }
        at += 1 + usize::from(length);
    }
    false
}

/// `$ORIGIN` directives with no name (the scanner would take the next line's first word) or
/// whose name has an empty label (`$ORIGIN a..b.`, which it would accept as another name).
fn bad_origins(bytes: &[u8], lines: &Lines) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for index in 0..lines.starts.len() {
        let text = lines.text(bytes, index);
        if !(text.len() > 7 && text[..7].eq_ignore_ascii_case(b"$ORIGIN")) {
            continue;
        }
        let rest = &text[7..];
        let skipped = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        match owner_token(&rest[skipped..]) {
            None => out.push((index + 1, 8, "$ORIGIN without a name".to_string())),
            Some(name) => {
                if let Some(at) = empty_label(name) {
                    out.push((index + 1, 8 + skipped + at, EMPTY_LABEL.to_string()));
                }
            }
        }
    }
    out
}

/// The name a line starts with (its owner), up to an unescaped blank, '(' or ';'; None when
/// the line starts with a blank (the previous owner) or is empty.
fn owner_token(text: &[u8]) -> Option<&[u8]> {
    let mut end = 0;
    while end < text.len() {
        match text[end] {
            b'\\' => end += 2,
            b if b.is_ascii_whitespace() || b == b'(' || b == b';' => break,
            _ => end += 1,
        }
    }
    let token = &text[..end.min(text.len())];
    (!token.is_empty()).then_some(token)
}

/// Offset of an empty label in a name as written (`a..b`, `.a`); escapes (`a\..b`) respected.
fn empty_label(name: &[u8]) -> Option<usize> {
    if name == b"." {
        return None;
    }
    let (mut at, mut label) = (0, 0);
    while at < name.len() {
        match name[at] {
            b'\\' if name.get(at + 1).is_some_and(u8::is_ascii_digit) => {
                (at, label) = (at + 4, label + 1)
            }
            b'\\' => (at, label) = (at + 2, label + 1),
            b'.' if label == 0 => return Some(at),
            b'.' => (at, label) = (at + 1, 0),
            _ => (at, label) = (at + 1, label + 1),
        }
    }
    None
}

/// Whether `text` starts with a `$ORIGIN` or `$TTL` directive.
fn is_origin_or_ttl(text: &[u8]) -> bool {
    [&b"$ORIGIN"[..], b"$TTL"].iter().any(|word| {
        text.len() > word.len()
            && text[..word.len()].eq_ignore_ascii_case(word)
            && text[word.len()].is_ascii_whitespace()
    })
}

/// Every `$TTL` directive of a file: its offset and value (None when it is not a number, which
/// the scanner reports).
fn dollar_ttls(bytes: &[u8], lines: &Lines) -> Vec<(usize, Option<u32>)> {
    (0..lines.starts.len())
        .map(|index| (lines.starts[index], lines.text(bytes, index)))
        .filter(|(_, text)| text.len() > 4 && text[..4].eq_ignore_ascii_case(b"$TTL"))
        .filter(|(_, text)| is_origin_or_ttl(text))
        .map(|(start, text)| {
            let value = text[4..]
                .split(|b| b.is_ascii_whitespace())
                .find(|field| !field.is_empty())
                .and_then(|field| std::str::from_utf8(field).ok()?.parse().ok());
            (start, value)
        })
        .collect()
}

/// Whether a record's first line gives its TTL: a number among the (at most two) class and TTL
/// fields between the owner (absent when the line starts with a blank) and the type.
fn has_own_ttl(line: &[u8]) -> bool {
    let code = line.split(|&b| b == b';').next().unwrap_or_default();
    let mut fields = code
        .split(|b| b.is_ascii_whitespace() || *b == b'(' || *b == b')')
        .filter(|field| !field.is_empty());
    if !line.first().is_some_and(u8::is_ascii_whitespace) {
        fields.next(); // the owner
    }
    for field in fields.take(2) {
        if field.iter().all(u8::is_ascii_digit) {
            return true;
        }
        let class = [&b"IN"[..], b"CH", b"HS", b"CS", b"ANY"]
            .iter()
            .any(|c| field.eq_ignore_ascii_case(c))
            || (field.len() > 5 && field[..5].eq_ignore_ascii_case(b"CLASS"));
        if !class {
            return false;
        }
    }
    false
}

/// Offset of the first line after `line` that starts a new entry (owner name or directive at
/// column 1), so a broken multi-line record is skipped whole.
fn next_entry_start(bytes: &[u8], line_starts: &[usize], line: usize) -> Option<usize> {
    line_starts.iter().skip(line).copied().find(|&start| {
        matches!(bytes.get(start), Some(b) if !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';'))
    })
}

/// The scanner reports a bad value at the position after it, which is the start of the next line
/// when the value ended its line; point at the last token of the line before instead.
fn place_error(
    bytes: &[u8],
    line_starts: &[usize],
    entry_line: usize,
    line: usize,
    column: usize,
) -> (usize, usize) {
    if column != 1 || line <= entry_line || line < 2 {
        return (line, column);
    }
    let start = line_starts[line - 2];
    let end = line_starts.get(line - 1).copied().unwrap_or(bytes.len());
    let text = &bytes[start..end];
    let text = match text.iter().position(|b| *b == b';') {
        Some(comment) => &text[..comment],
        None => text,
    };
    let trimmed = text.iter().rposition(|b| !b.is_ascii_whitespace());
    let column = match trimmed {
        Some(last) => text[..=last]
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(1, |space| space + 2),
        None => 1,
    };
    (line - 1, column)
}

/// Splits `domain`'s "line:col: message" into its parts.
fn split_position(text: &str) -> (usize, usize, String) {
    let mut parts = text.splitn(3, ':');
    let line = parts.next().and_then(|p| p.trim().parse().ok());
    let column = parts.next().and_then(|p| p.trim().parse().ok());
    match (line, column, parts.next()) {
        (Some(line), Some(column), Some(message)) => (line, column, message.trim().to_string()),
        _ => (0, 0, text.to_string()),
    }
}

/// Turns the scanner's terse messages into ones that say what was expected.
fn explain(message: &str) -> String {
    let hint = match message {
        "trailing tokens" => {
            "unexpected text after the record data (a missing ';' before a comment?)"
        }
        "unexpected end of entry" => "the record data ended early: a field is missing",
        "expected rtype" => "expected a record type (A, AAAA, TXT, … or TYPEnnn)",
        "missing origin" => "a relative name but no $ORIGIN is known",
        "unbalanced parens" => {
            "unbalanced parentheses: every '(' needs a ')' before the record ends"
        }
        "missing last owner" => "the first record has no owner name",
        "bad name" => "expected a domain name (labels of at most 63 octets, 255 in all)",
        "bad charstr" => "expected a character-string of at most 255 octets",
        _ => "",
    };
    if hint.is_empty() {
        message.to_string()
    } else {
        format!("{message}: {hint}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn load(text: &str) -> Result<LoadedZone, Vec<ZoneError>> {
        let origin = Name::from_str("bots.example.net.").unwrap();
        load_zone_bytes(
            Path::new("t.zone"),
            text.as_bytes(),
            &origin,
            ZoneLimits {
                record_lines: true,
                ..ZoneLimits::default()
            },
        )
    }

    const HEAD: &str = "$TTL 300\n@ IN SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n";

    /// The fan-out of a hostile pull request: a zone file with ten `$INCLUDE a.inc`, each of
    /// `a.inc`..`g.inc` ten `$INCLUDE`s of the next, `h.inc` a comment: 10^8 reads unbounded.
    fn include_fan_out(dir: &Path) -> PathBuf {
        let files = ["a", "b", "c", "d", "e", "f", "g", "h"];
        for pair in files.windows(2) {
            let text = format!("$INCLUDE {}.inc\n", pair[1]).repeat(10);
            std::fs::write(dir.join(format!("{}.inc", pair[0])), text).unwrap();
        }
        std::fs::write(dir.join("h.inc"), "; nothing\n").unwrap();
        let main = dir.join("fan.example.zone");
        let head = "$ORIGIN fan.example.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\n";
        std::fs::write(&main, format!("{head}{}", "$INCLUDE a.inc\n".repeat(10))).unwrap();
        main
    }

    #[test]
    fn an_include_fan_out_stops_at_its_bound_with_the_line_that_crossed_it() {
        let dir = tempfile::tempdir().unwrap();
        let main = include_fan_out(dir.path());
        let origin = Name::from_str("fan.example.").unwrap();
        let includes = Includes::within(dir.path());
        let limits = ZoneLimits::default();
        let errors = load_zone(dir.path(), &includes, &main, &origin, limits).unwrap_err();
        assert_eq!(errors.len(), 1, "one error, loading stopped: {errors:?}");
        let error = &errors[0];
        assert!(
            error.message.contains("more than 1000 $INCLUDEs"),
            "{error:?}"
        );
        assert!(error.message.contains("max_zone_includes"), "{error:?}");
        assert!(error.line >= 1 && error.column > 1, "{error:?}");
        // The 1001st read is the one refused: with depth first, at a line of a deep file.
        assert!(
            error.file.extension().is_some_and(|e| e == "inc"),
            "{error:?}"
        );
    }

    #[test]
    fn included_bytes_are_bounded_each_time_a_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("big.example.zone");
        let head = "$ORIGIN big.example.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\n";
        std::fs::write(&main, format!("{head}{}", "$INCLUDE pad.inc\n".repeat(5))).unwrap();
        std::fs::write(
            dir.path().join("pad.inc"),
            format!("; {}\n", "x".repeat(1000)),
        )
        .unwrap();
        let origin = Name::from_str("big.example.").unwrap();
        let includes = Includes::within(dir.path());
        let limits = ZoneLimits {
            max_include_bytes: 3000,
            ..ZoneLimits::default()
        };
        let errors = load_zone(dir.path(), &includes, &main, &origin, limits).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].line, errors[0].column),
            (6, 10),
            "the third read crosses: {errors:?}"
        );
        assert!(
            errors[0].message.contains("max_zone_include_bytes"),
            "{errors:?}"
        );
        // Within the bound, the same zone loads.
        let limits = ZoneLimits {
            max_include_bytes: 6000,
            ..ZoneLimits::default()
        };
        assert!(load_zone(dir.path(), &includes, &main, &origin, limits).is_ok());
    }

    #[test]
    fn a_stray_quote_is_one_error_and_hides_no_other() {
        let text = "$ORIGIN bots.example.net.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n\
                    ns1 A 192.0.2.1\nbh46 IN A 198.51.100.1466\nbh47 IN TXT \"customer-id=c47\n\
                    bh48 IN A 198.51.100.148\nbh49 IN AAAA 2001:db8::zz\n";
        let origin = Name::from_str("bots.example.net.").unwrap();
        let limits = ZoneLimits::default();
        let errors = load_zone_bytes(Path::new("z.zone"), text.as_bytes(), &origin, limits)
            .err()
            .unwrap();
        let mut places: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
        places.sort();
        assert_eq!(places, [(6, 11), (7, 13), (9, 14)], "{errors:?}");
        assert!(errors
            .iter()
            .any(|e| e.message.contains("unterminated quoted string")));
    }

    #[test]
    fn zone_files_named_for_no_zone_are_said() {
        for name in [
            "sp ace.example.zone",
            "\u{fc}n\u{ef}.example.zone",
            "a..b.zone",
        ] {
            let why = unreadable_zone_file_name(Path::new(name));
            assert!(why.is_some_and(|w| w.contains("not read")), "{name}");
        }
        for name in [
            "bots.example.net.zone",
            "root.zone",
            "notes.txt",
            "xn--nx-bia.example.zone",
        ] {
            assert_eq!(unreadable_zone_file_name(Path::new(name)), None, "{name}");
        }
    }

    #[test]
    fn included_files_share_the_default_ttl_with_the_including_file_as_bind_does() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("bots.example.net.zone");
        std::fs::write(
            &main,
            "$ORIGIN bots.example.net.\n$TTL 300\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n\
             $INCLUDE hosts.inc\nafter A 192.0.2.3\n$TTL 900\nlater A 192.0.2.4\n",
        )
        .unwrap();
        // The include starts from the including file's $TTL and sets its own half-way, which
        // holds after it too (named-compilezone 9.18 gives `after` a TTL of 60).
        std::fs::write(
            dir.path().join("hosts.inc"),
            "ns A 192.0.2.1\n$TTL 60\nwww A 192.0.2.2\n",
        )
        .unwrap();
        let origin = Name::from_str("bots.example.net.").unwrap();
        let limits = ZoneLimits {
            record_lines: true,
            ..ZoneLimits::default()
        };
        let includes = Includes::within(dir.path());
        let loaded = load_zone(dir.path(), &includes, &main, &origin, limits).unwrap();
        let ttl = |name: &str| {
            let name = Name::from_str(name).unwrap();
            loaded.zone.rrset(&name, RecordType::A).unwrap().ttl
        };
        assert_eq!(ttl("ns.bots.example.net."), 300);
        assert_eq!(ttl("www.bots.example.net."), 60);
        assert_eq!(ttl("after.bots.example.net."), 60);
        assert_eq!(ttl("later.bots.example.net."), 900);
        // Records are placed on their own line, not on the directives before them.
        let soa = (origin.clone(), RecordType::SOA);
        assert_eq!(loaded.locations[&soa].line, 3);
        let later = (
            Name::from_str("later.bots.example.net.").unwrap(),
            RecordType::A,
        );
        assert_eq!(loaded.locations[&later].line, 8);
    }

    #[test]
    fn empty_labels_are_found_where_the_scanner_would_drop_them() {
        assert_eq!(empty_label(b"a..b"), Some(2));
        assert_eq!(empty_label(b".a"), Some(0));
        assert_eq!(empty_label(b"a.b."), None);
        assert_eq!(empty_label(b"."), None);
        assert_eq!(empty_label(b"a\\..b"), None, "an escaped dot ends no label");
        assert_eq!(empty_label(b"a\\046.b"), None);
        assert_eq!(owner_token(b"a..b IN A 192.0.2.1"), Some(&b"a..b"[..]));
        assert_eq!(owner_token(b"  IN A 192.0.2.1"), None);
        let errors = load(&format!(
            "{HEAD}a..b IN A 192.0.2.1\n$ORIGIN sub..bots.example.net.\nx A 192.0.2.2\n"
        ))
        .unwrap_err();
        let places: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.column)).collect();
        assert_eq!(places, vec![(6, 13)], "{errors:?}");
        let errors = load(&format!("{HEAD}a..b IN A 192.0.2.1\n")).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column), (5, 3), "{errors:?}");
        for record in ["c CNAME a..b", "m MX 10 mx..b", "s SRV 0 0 53 ns..x"] {
            let errors = load(&format!("{HEAD}{record}\n")).unwrap_err();
            assert_eq!(errors[0].line, 5, "{errors:?}");
            assert!(
                errors[0].message.contains("empty label"),
                "{record}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_ttl_is_told_among_class_and_type() {
        assert!(has_own_ttl(b"www 300 IN A 192.0.2.1\n"));
        assert!(has_own_ttl(b"www IN 300 A 192.0.2.1\n"));
        assert!(has_own_ttl(b"  300 A 192.0.2.1\n"));
        assert!(has_own_ttl(b"@ ( 300 IN SOA ns h 1 2 3 4 5 )\n"));
        assert!(!has_own_ttl(b"www IN A 192.0.2.1\n"));
        assert!(!has_own_ttl(b"300 IN A 192.0.2.1\n"), "an owner named 300");
        assert!(!has_own_ttl(b"www A 192.0.2.1 ; 300\n"));
        assert!(!has_own_ttl(b"www IN TXT 300\n"), "a number in the data");
        assert!(!has_own_ttl(b"\tIN SOA ns h 1 2 3 4 5\n"));
    }

    #[test]
    fn dkim_txt_in_parentheses_keeps_every_string() {
        let zone = load(&format!(
            "{HEAD}sel._domainkey IN TXT ( \"v=DKIM1; k=rsa; \"\n  \"p=MIIBIjAN\" ; comment\n  \"QAB\" )\nafter 60 A 192.0.2.9\n"
        ))
        .unwrap();
        let name = Name::from_str("sel._domainkey.bots.example.net.").unwrap();
        let set = zone.zone.rrset(&name, RecordType::TXT).unwrap();
        let shown = set.rdatas.iter().next().unwrap().present(RecordType::TXT);
        assert_eq!(shown, r#""v=DKIM1; k=rsa; " "p=MIIBIjAN" "QAB""#);
        assert_eq!(zone.locations[&(name, RecordType::TXT)].line, 5);
        // The record after a closing ')' is on its own line (and keeps its own TTL).
        let after = Name::from_str("after.bots.example.net.").unwrap();
        assert_eq!(zone.locations[&(after.clone(), RecordType::A)].line, 8);
        assert_eq!(zone.zone.rrset(&after, RecordType::A).unwrap().ttl, 60);
    }

    #[test]
    fn every_error_is_reported_with_line_and_column() {
        let errors = load(&format!(
            "{HEAD}bh1 A 192.0.2.1 garbage\nbh2 A 192.0.2.300\nbh3 A 192.0.2.3\nbh4 BOGUS x\n"
        ))
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![5, 6, 8], "{errors:?}");
        let columns: Vec<usize> = errors.iter().map(|e| e.column).collect();
        assert_eq!(columns, vec![17, 7, 10], "{errors:?}");
    }

    #[test]
    fn parentheses_open_at_the_end_are_an_error_not_a_panic() {
        let errors = load(&format!("{HEAD}x IN TXT ( \"a\"")).unwrap_err();
        assert_eq!((errors[0].line, errors[0].column), (5, 10), "{errors:?}");
        let errors = load(&format!("{HEAD}x IN TXT ( ( \"a\" ) )\n")).unwrap_err();
        assert!(errors[0].message.contains("nested"), "{errors:?}");
        let errors = load(&format!("{HEAD}x IN TXT \"(\" )\n")).unwrap_err();
        assert!(
            errors[0].message.contains("without a matching"),
            "{errors:?}"
        );
        assert!(load(&format!("{HEAD}x IN TXT \"(;\\\")\" ; )\n")).is_ok());
    }

    #[test]
    fn raw_octets_in_labels_load() {
        let mut text = HEAD.as_bytes().to_vec();
        text.extend_from_slice(b"a\xf2b A 192.0.2.9\n");
        let origin = Name::from_str("bots.example.net.").unwrap();
        let zone = load_zone_bytes(Path::new("t.zone"), &text, &origin, ZoneLimits::default());
        let zone = zone.expect("a raw octet in a label is legal");
        let shown: Vec<String> = zone
            .zone
            .iter()
            .map(|(name, _)| present_name(name))
            .collect();
        assert!(
            shown.contains(&"a\\242b.bots.example.net.".to_string()),
            "{shown:?}"
        );
    }

    /// BIND loads an NSEC3PARAM of SHA-1 with flags beyond opt-out, which hickory-proto does
    /// not decode, and refuses one of another hash algorithm: so do we.
    #[test]
    fn nsec3param_loads_as_bind_loads_it() {
        let apex = Name::from_str("bots.example.net.").unwrap();
        let zone = load(&format!("{HEAD}@ NSEC3PARAM 1 255 0 -\n")).unwrap();
        assert!(zone.zone.rrset(&apex, RecordType::NSEC3PARAM).is_some());
        assert!(load(&format!("{HEAD}@ NSEC3PARAM 2 0 0 -\n")).is_err());
    }

    #[test]
    fn rfc3597_unknown_types_load() {
        let zone = load(&format!("{HEAD}x TYPE65280 \\# 2 abcd\n")).unwrap();
        let name = Name::from_str("x.bots.example.net.").unwrap();
        assert!(zone.zone.rrset(&name, RecordType::Unknown(65280)).is_some());
    }

    #[test]
    fn records_outside_the_zone_are_ignored_and_said_as_bind_does() {
        let zone = load(&format!(
            "{HEAD}www.other.org. A 192.0.2.1\nin A 192.0.2.2\n"
        ))
        .unwrap();
        assert_eq!(zone.ignored.len(), 1, "{:?}", zone.ignored);
        assert_eq!((zone.ignored[0].line, zone.ignored[0].column), (5, 1));
        assert!(zone.ignored[0].message.contains("outside the zone"));
        let other = Name::from_str("www.other.org.").unwrap();
        assert!(
            zone.zone.rrset(&other, RecordType::A).is_none(),
            "not loaded"
        );
        let inside = Name::from_str("in.bots.example.net.").unwrap();
        assert!(zone.zone.rrset(&inside, RecordType::A).is_some());
    }

    #[test]
    fn zone_names_come_from_file_names() {
        assert_eq!(
            zone_name_for_file(Path::new("root.zone")),
            Some(Name::root())
        );
        assert_eq!(
            zone_name_for_file(Path::new("d/Bots.Example.net.zone")),
            Some(Name::from_str("bots.example.net.").unwrap())
        );
        assert_eq!(zone_name_for_file(Path::new("x.txt")), None);
    }
}
