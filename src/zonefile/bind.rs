//! What BIND reads in a zone file that `domain`'s scanner does not: TTLs with units (`1h`,
//! `1w2d`) wherever a TTL goes (`$TTL`, a record's TTL, the SOA timers), `@` for the origin in
//! record data (`www CNAME @`), and `$GENERATE`.
//!
//! [`prepare`] reads a file entry by entry (quotes, escapes, comments and parentheses as BIND's
//! lexer has them) and rewrites it for the scanner: a TTL with units becomes its seconds, a
//! `$GENERATE` line becomes `$INCLUDE` of a placeholder, so the scanner hands it back in order
//! with the origin in force there, and the loader expands it (see [`Generate::expand`]). Lines
//! stay where they were; columns that moved are given back by [`Prepared::column`].

/// A `$GENERATE` directive, checked and ready to expand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generate {
    /// First value of the iterator.
    pub start: u32,
    /// Last value (inclusive, as BIND has it).
    pub stop: u32,
    /// Step between values (at least 1).
    pub step: u32,
    /// Owner template.
    pub lhs: Vec<u8>,
    /// TTL given on the directive, in seconds.
    pub ttl: Option<u32>,
    /// Class given on the directive (only IN is loaded).
    pub class: Option<Vec<u8>>,
    /// Record type as written.
    pub rtype: Vec<u8>,
    /// Data template (a quoted one without its quotes).
    pub rhs: Vec<u8>,
}

/// Most records one `$GENERATE` may make (BIND has no limit; this bounds memory on a typo such
/// as `0-4000000000`).
pub const MAX_GENERATED: u64 = 1 << 20;

impl Generate {
    /// The records it makes, one zone file line each (`owner [ttl] [class] type data`), for the
    /// scanner to read with the origin in force at the directive. `ttl` is the TTL they take.
    pub fn expand(&self, ttl: u32) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut value = u64::from(self.start);
        while value <= u64::from(self.stop) {
            let it = value as i64;
            let owner_at = out.len();
            substitute(&self.lhs, it, &mut out)?;
            // An owner that begins with `$` is a name here, not a directive.
            if out.get(owner_at) == Some(&b'$') {
                out.insert(owner_at, b'\\');
            }
            out.extend_from_slice(format!(" {ttl} ").as_bytes());
            if let Some(class) = &self.class {
                out.extend_from_slice(class);
                out.push(b' ');
            }
            out.extend_from_slice(&self.rtype);
            out.push(b' ');
            substitute(&self.rhs, it, &mut out)?;
            out.push(b'\n');
            value += u64::from(self.step);
        }
        Ok(out)
    }
}

/// A file made ready for the scanner.
#[derive(Debug, Default)]
pub struct Prepared {
    /// The rewritten text; None when nothing needed rewriting.
    pub text: Option<Vec<u8>>,
    /// `$GENERATE` directives by their 1-based line.
    pub generates: Vec<(usize, Generate)>,
    /// Problems found on the way, as (line, column, message).
    pub errors: Vec<(usize, usize, String)>,
    /// Rewrites that changed a line's length: (line, column in the new text after which
    /// columns moved, by how much).
    shifts: Vec<(usize, usize, isize)>,
}

impl Prepared {
    /// The column in the file as written for `column` of `line` in the rewritten text.
    pub fn column(&self, line: usize, column: usize) -> usize {
        let moved: isize = self
            .shifts
            .iter()
            .filter(|(l, after, _)| *l == line && column > *after)
            .map(|(_, _, delta)| delta)
            .sum();
        (column as isize - moved).max(1) as usize
    }

    /// The `$GENERATE` of a line.
    pub(crate) fn generate_at(&self, line: usize) -> Option<&Generate> {
        self.generates
            .binary_search_by_key(&line, |(l, _)| *l)
            .ok()
            .map(|at| &self.generates[at].1)
    }
}

/// One token of a zone file: where it lies, and whether it was a quoted string (the offsets
/// are then those of its content).
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    line: usize,
    quoted: bool,
}

/// Reads every entry of `bytes` (ending in a line feed) and rewrites what the scanner cannot
/// read. `line_starts` are the offsets where lines begin, `special` says which lines hold a
/// quote, comment, parenthesis or escape (the others are read by a quicker path: most lines of
/// a large zone); `origin` is the origin the file starts with, with its trailing dot.
pub fn prepare(bytes: &[u8], line_starts: &[usize], special: &[bool], origin: &str) -> Prepared {
    let mut prepared = Prepared::default();
    let mut origin = origin.to_string();
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        // Entries begin at line starts; the line is found from the offset, never carried.
        let line = line_starts.partition_point(|start| *start <= at);
        let first_line = line;
        let starts_blank = matches!(bytes[at], b' ' | b'\t' | b'\r');
        let end = if special[line - 1] {
            entry_tokens(bytes, at, line, &mut tokens)
        } else {
            let end = line_starts.get(line).copied().unwrap_or(bytes.len());
            // Owner, TTL, class and type; the data only where it may need a rewrite.
            plain_tokens(bytes, (at, end), line, &mut tokens, 4);
            if needs_data(bytes, &tokens, starts_blank, &bytes[at..end]) {
                plain_tokens(bytes, (at, end), line, &mut tokens, usize::MAX);
            }
            end
        };
        if let Some(first) = tokens.first() {
            let word = &bytes[first.start..first.end];
            if !starts_blank && !first.quoted && word.first() == Some(&b'$') {
                if word.eq_ignore_ascii_case(b"$ORIGIN") {
                    if let Some(name) = tokens.get(1) {
                        origin = next_origin(&origin, &bytes[name.start..name.end]);
                    }
                }
                directive(
                    bytes,
                    &tokens,
                    first_line,
                    (at, end),
                    line_starts,
                    &mut prepared,
                    &mut edits,
                );
            } else {
                let fields = &tokens[usize::from(!starts_blank)..];
                let context = Context {
                    bytes,
                    line_starts,
                    origin: &origin,
                };
                record(&context, fields, &mut prepared, &mut edits);
            }
        }
        at = end;
    }
    if !edits.is_empty() {
        prepared.text = Some(apply(bytes, &mut edits, line_starts, &mut prepared.shifts));
    }
    prepared
}

/// The first `most` tokens of a line with no quote, comment, parenthesis or escape.
fn plain_tokens(
    bytes: &[u8],
    (start, end): (usize, usize),
    line: usize,
    tokens: &mut Vec<Token>,
    most: usize,
) {
    tokens.clear();
    let mut at = start;
    while at < end && tokens.len() < most {
        while at < end && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let from = at;
        while at < end && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at > from {
            tokens.push(Token {
                start: from,
                end: at,
                line,
                quoted: false,
            });
        }
    }
}

/// Whether an entry read up to its type needs its data read too: a directive, an SOA (timers),
/// or a record of a type whose data holds names, with an `@` on its line.
fn needs_data(bytes: &[u8], tokens: &[Token], starts_blank: bool, line: &[u8]) -> bool {
    let word = |t: &Token| &bytes[t.start..t.end];
    let Some(first) = tokens.first() else {
        return false;
    };
    if !starts_blank && word(first).first() == Some(&b'$') {
        return true;
    }
    let mut fields = tokens[usize::from(!starts_blank)..].iter().map(word);
    let mut field = fields.next();
    for _ in 0..2 {
        match field {
            Some(w) if is_class(w) || parse_ttl(w).is_some() => field = fields.next(),
            _ => break,
        }
    }
    // Fewer than four tokens read: the type may not have been reached; read the rest.
    field.is_none_or(|rtype| {
        generic_type(rtype).is_some()
            || svcb_type(rtype).is_some()
            || rtype.eq_ignore_ascii_case(b"SOA")
            || holds_names(rtype) && memchr::memchr(b'@', line).is_some()
    })
}

/// Tokens of the entry that begins at `at` (a line start, on `line`), up to the line feed that
/// ends it outside parentheses. Returns the offset after the entry.
fn entry_tokens(bytes: &[u8], mut at: usize, mut line: usize, tokens: &mut Vec<Token>) -> usize {
    tokens.clear();
    let mut open = false;
    while at < bytes.len() {
        match bytes[at] {
            b'\n' => {
                at += 1;
                line += 1;
                if !open {
                    break;
                }
            }
            b' ' | b'\t' | b'\r' => at += 1,
            b';' => {
                at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
            }
            b'(' => (open, at) = (true, at + 1),
            b')' => (open, at) = (false, at + 1),
            b'"' => {
                let start = at + 1;
                let end = scan_until(bytes, start, |b| matches!(b, b'"' | b'\n'));
                tokens.push(Token {
                    start,
                    end,
                    line,
                    quoted: true,
                });
                at = if bytes.get(end) == Some(&b'"') {
                    end + 1
                } else {
                    end
                };
            }
            _ => {
                let start = at;
                let end = scan_until(bytes, start, |b| {
                    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"')
                });
                tokens.push(Token {
                    start,
                    end,
                    line,
                    quoted: false,
                });
                at = end;
            }
        }
    }
    at
}

/// The offset of the first octet from `at` that `stops` at, stepping over escapes (`\X`), which
/// never swallow a line end: lines are counted by the caller.
fn scan_until(bytes: &[u8], mut at: usize, stops: impl Fn(u8) -> bool) -> usize {
    while at < bytes.len() && !stops(bytes[at]) {
        at += if bytes[at] == b'\\' && bytes.get(at + 1) != Some(&b'\n') {
            2
        } else {
            1
        };
    }
    at.min(bytes.len())
}

/// Whether a word is a class BIND knows (`IN`, `CH`, `HS`, `NONE`, `ANY`, `CLASSnnn`).
pub(crate) fn is_class(word: &[u8]) -> bool {
    [
        &b"IN"[..],
        b"CH",
        b"CHAOS",
        b"HS",
        b"HESIOD",
        b"CS",
        b"NONE",
        b"ANY",
    ]
    .iter()
    .any(|c| word.eq_ignore_ascii_case(c))
        || (word.len() > 5
            && word[..5].eq_ignore_ascii_case(b"CLASS")
            && word[5..].iter().all(u8::is_ascii_digit))
}

/// A TTL as BIND reads it: a number of seconds, or numbers each followed by a unit (`w`, `d`,
/// `h`, `m`, `s`, any case) such as `1w2d3h`. None when it is not one; `Err` when it is one
/// whose value does not fit in 32 bits.
pub(crate) fn parse_ttl(word: &[u8]) -> Option<Result<u32, String>> {
    if word.is_empty() || !word[0].is_ascii_digit() || word.len() > 63 {
        return None;
    }
    let mut total: u64 = 0;
    let mut at = 0;
    let mut units = false;
    while at < word.len() {
        let digits = word[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let mut number: u64 = 0;
        for &d in &word[at..at + digits] {
            number = number
                .saturating_mul(10)
                .saturating_add(u64::from(d - b'0'));
        }
        at += digits;
        let unit: u64 = match word.get(at).map(u8::to_ascii_lowercase) {
            Some(b'w') => 7 * 24 * 3600,
            Some(b'd') => 24 * 3600,
            Some(b'h') => 3600,
            Some(b'm') => 60,
            Some(b's') => 1,
            // A plain number: the whole word, or (as BIND has it) a trailing one after units
            // that added up to nothing so far.
            None if !units || total == 0 => {
                total = number;
                break;
            }
            _ => return None,
        };
        units = true;
        at += 1;
        total = total.saturating_add(number.saturating_mul(unit));
    }
    Some(if total > u64::from(u32::MAX) {
        Err(format!(
            "TTL {} is out of range (at most 4294967295 seconds)",
            String::from_utf8_lossy(word)
        ))
    } else {
        Ok(total as u32)
    })
}

/// The origin after `$ORIGIN name` where the origin was `current` (both with trailing dots).
fn next_origin(current: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if name == "@" {
        return current.to_string();
    }
    let absolute = name.ends_with('.') && !name.ends_with("\\.");
    match (absolute, current) {
        (true, _) => name.into_owned(),
        (false, ".") => format!("{name}."),
        (false, _) => format!("{name}.{current}"),
    }
}

/// Types whose data holds domain names, where `@` stands for the origin as in an owner.
fn holds_names(rtype: &[u8]) -> bool {
    [
        &b"NS"[..],
        b"CNAME",
        b"DNAME",
        b"PTR",
        b"MX",
        b"SRV",
        b"SOA",
        b"KX",
        b"AFSDB",
        b"RT",
        b"NAPTR",
        b"RP",
        b"MINFO",
        b"MB",
        b"MG",
        b"MR",
        b"NSEC",
        b"SVCB",
        b"HTTPS",
        b"LP",
        b"TALINK",
        b"PX",
    ]
    .iter()
    .any(|t| rtype.eq_ignore_ascii_case(t))
}

/// What a record's rewrites need to know besides its tokens.
struct Context<'a> {
    bytes: &'a [u8],
    line_starts: &'a [usize],
    /// The origin in force, with its trailing dot.
    origin: &'a str,
}

/// The rewrites a record needs: the TTL among its first two fields, the SOA timers, `@` in
/// data that holds names. `tokens` starts after the owner.
fn record(
    context: &Context,
    tokens: &[Token],
    prepared: &mut Prepared,
    edits: &mut Vec<(usize, usize, Vec<u8>)>,
) {
    let (bytes, line_starts) = (context.bytes, context.line_starts);
    let Some(index) = ttl_and_class(context, tokens, prepared, edits) else {
        return;
    };
    let Some(rtype) = tokens.get(index) else {
        return;
    };
    let type_word = &bytes[rtype.start..rtype.end];
    let data = &tokens[index + 1..];
    if in_generic_form(context, rtype, data, prepared, edits) {
        return;
    }
    if holds_names(type_word) {
        for token in &tokens[index + 1..] {
            if !token.quoted && &bytes[token.start..token.end] == b"@" {
                edits.push((token.start, token.end, context.origin.as_bytes().to_vec()));
            }
        }
    }
    if type_word.eq_ignore_ascii_case(b"SOA") {
        // MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM: the four timers take units.
        for token in tokens.iter().skip(index + 4).take(4) {
            let word = &bytes[token.start..token.end];
            if let (false, Some(ttl)) = (token.quoted, parse_ttl(word)) {
                rewrite(word, token, ttl, line_starts, prepared, edits);
            }
        }
    }
}

/// Reads the TTL and class before a record's type (either order, either left out), putting
/// a TTL with units in seconds; the index of the type token, or None for a line that is not
/// a record this pass edits.
fn ttl_and_class(
    context: &Context,
    tokens: &[Token],
    prepared: &mut Prepared,
    edits: &mut Vec<(usize, usize, Vec<u8>)>,
) -> Option<usize> {
    let mut index = 0;
    for _ in 0..2 {
        let token = tokens.get(index)?;
        let word = &context.bytes[token.start..token.end];
        if token.quoted {
            return None;
        }
        if is_class(word) {
            index += 1;
            continue;
        }
        match parse_ttl(word) {
            Some(ttl) => {
                rewrite(word, token, ttl, context.line_starts, prepared, edits);
                index += 1;
            }
            None => break,
        }
    }
    Some(index)
}

/// Types the scanner does not read reach it in RFC 3597 form: the edit that puts them so (or
/// the error in their data). Whether `rtype` was one of them.
fn in_generic_form(
    context: &Context,
    rtype: &Token,
    data: &[Token],
    prepared: &mut Prepared,
    edits: &mut Vec<(usize, usize, Vec<u8>)>,
) -> bool {
    let bytes = context.bytes;
    let type_word = &bytes[rtype.start..rtype.end];
    let (code, wire) = match (svcb_type(type_word), generic_type(type_word)) {
        (Some(code), _) => {
            let fields = svcb_fields(bytes, data);
            (code, super::svcb::wire(&fields, context.origin))
        }
        (None, Some(code)) => (code, generic_data(bytes, code, data)),
        (None, None) => return false,
    };
    match wire {
        Ok(wire) => edits.push(generic_edit(bytes, code, rtype, data, &wire)),
        Err(message) => {
            let at = data.first().unwrap_or(rtype);
            let column = at.start - context.line_starts[at.line - 1] + 1;
            prepared.errors.push((at.line, column, message));
        }
    }
    true
}

/// Types BIND reads in their own presentation that the scanner does not know: they reach it in
/// RFC 3597 form (`TYPE99 \# 4 03616263`), which means the same records.
fn generic_type(word: &[u8]) -> Option<u16> {
    [
        (&b"SPF"[..], 99),
        (b"KEY", 25),
        (b"NSAP", 22),
        (b"EUI48", 108),
        (b"EUI64", 109),
    ]
    .iter()
    .find(|(name, _)| word.eq_ignore_ascii_case(name))
    .map(|(_, code)| *code)
}

/// SVCB (64) and HTTPS (65): read by [`super::svcb`].
fn svcb_type(word: &[u8]) -> Option<u16> {
    match word {
        w if w.eq_ignore_ascii_case(b"SVCB") => Some(64),
        w if w.eq_ignore_ascii_case(b"HTTPS") => Some(65),
        _ => None,
    }
}

/// The fields of SVCB data, a quoted value joined to its `key=` (`alpn="h2,h3"`).
fn svcb_fields(bytes: &[u8], data: &[Token]) -> Vec<Vec<u8>> {
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut previous: Option<&Token> = None;
    for token in data {
        let text = &bytes[token.start..token.end];
        let joins = token.quoted
            && previous
                .is_some_and(|p| !p.quoted && p.end + 1 == token.start && bytes[p.end - 1] == b'=');
        match fields.last_mut() {
            Some(last) if joins => last.extend_from_slice(text),
            _ => fields.push(text.to_vec()),
        }
        previous = Some(token);
    }
    fields
}

/// The wire form of the data of a [`generic_type`] as BIND reads its presentation.
fn generic_data(bytes: &[u8], code: u16, data: &[Token]) -> Result<Vec<u8>, String> {
    let words: Vec<&[u8]> = data.iter().map(|t| &bytes[t.start..t.end]).collect();
    match code {
        99 => spf_wire(&words),
        25 => key_wire(&words),
        22 => nsap_wire(&words),
        _ => eui_wire(&words, if code == 108 { 6 } else { 8 }),
    }
}

/// SPF: character-strings, as TXT.
fn spf_wire(words: &[&[u8]]) -> Result<Vec<u8>, String> {
    if words.is_empty() {
        return Err("SPF needs at least one character-string".into());
    }
    let mut wire = Vec::new();
    for word in words {
        let string = unescape(word)?;
        if string.len() > 255 {
            return Err("a character-string over 255 octets".into());
        }
        wire.push(string.len() as u8);
        wire.extend_from_slice(&string);
    }
    Ok(wire)
}

/// KEY: flags, protocol, algorithm, then the key in base64 (as DNSKEY).
fn key_wire(words: &[&[u8]]) -> Result<Vec<u8>, String> {
    let number = |i: usize, max: u32| -> Result<u32, String> {
        let word = words
            .get(i)
            .ok_or("KEY needs flags, protocol, algorithm and a key")?;
        std::str::from_utf8(word)
            .ok()
            .and_then(|w| w.parse::<u32>().ok())
            .filter(|n| *n <= max)
            .ok_or_else(|| format!("KEY: bad number {:?}", String::from_utf8_lossy(word)))
    };
    let mut wire = Vec::new();
    wire.extend_from_slice(&(number(0, 0xffff)? as u16).to_be_bytes());
    wire.push(number(1, 0xff)? as u8);
    wire.push(number(2, 0xff)? as u8);
    let key: Vec<u8> = words[3..].concat();
    let key = data_encoding::BASE64
        .decode(&key)
        .map_err(|e| format!("KEY: the key is not base64: {e}"))?;
    wire.extend_from_slice(&key);
    Ok(wire)
}

/// NSAP: 0x and hex digits, dots allowed anywhere after the 0x.
fn nsap_wire(words: &[&[u8]]) -> Result<Vec<u8>, String> {
    let [word] = words else {
        return Err("NSAP needs one 0x… value".into());
    };
    let hex: Vec<u8> = match word.get(..2) {
        Some(b"0x" | b"0X") => word[2..].iter().copied().filter(|&b| b != b'.').collect(),
        _ => return Err("NSAP: expected a value starting with 0x".into()),
    };
    decode_hex(&hex)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| "NSAP: expected an even number of hex digits".into())
}

/// EUI48 / EUI64: exactly 6 or 8 groups of two hex digits joined by '-' (RFC 7043).
fn eui_wire(words: &[&[u8]], groups: usize) -> Result<Vec<u8>, String> {
    let [word] = words else {
        return Err(format!(
            "expected one address of {groups} groups such as 00-00-5e-00-53-2a"
        ));
    };
    let parts: Vec<&[u8]> = word.split(|&b| b == b'-').collect();
    if parts.len() != groups || parts.iter().any(|p| p.len() != 2) {
        return Err(format!(
            "expected {groups} groups of two hex digits joined by '-' (RFC 7043)"
        ));
    }
    decode_hex(&parts.concat()).ok_or_else(|| "expected hex digits".into())
}

/// The edit that puts a record's type and data in RFC 3597 form, keeping its lines (and any
/// '(' it opened, whose ')' comes after).
fn generic_edit(
    bytes: &[u8],
    code: u16,
    rtype: &Token,
    data: &[Token],
    wire: &[u8],
) -> (usize, usize, Vec<u8>) {
    let end = data
        .last()
        .map_or(rtype.end, |t| if t.quoted { t.end + 1 } else { t.end });
    let region = &bytes[rtype.start..end.min(bytes.len())];
    let mut out = format!("TYPE{code} \\# {}", wire.len());
    if !wire.is_empty() {
        out.push(' ');
        for b in wire {
            out.push_str(&format!("{b:02x}"));
        }
    }
    let opened = region.iter().filter(|&&b| b == b'(').count();
    let closed = region.iter().filter(|&&b| b == b')').count();
    if opened > closed {
        out.push_str(" (");
    }
    let mut out = out.into_bytes();
    out.extend(region.iter().filter(|&&b| b == b'\n'));
    (rtype.start, end.min(bytes.len()), out)
}

/// A character-string's octets: `\X` is X, `\DDD` the octet DDD.
pub(super) fn unescape(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        if text[at] != b'\\' {
            out.push(text[at]);
            at += 1;
            continue;
        }
        let digits = text
            .get(at + 1..at + 4)
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        match (digits, text.get(at + 1)) {
            (Some(d), _) => {
                let value = d.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
                out.push(u8::try_from(value).map_err(|_| format!("escape \\{value} is over 255"))?);
                at += 4;
            }
            (None, Some(&b)) => {
                out.push(b);
                at += 2;
            }
            (None, None) => return Err("a lone backslash at the end".into()),
        }
    }
    Ok(out)
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// Queues the rewrite of a TTL word into seconds, or notes why it cannot be one.
fn rewrite(
    word: &[u8],
    token: &Token,
    ttl: Result<u32, String>,
    line_starts: &[usize],
    prepared: &mut Prepared,
    edits: &mut Vec<(usize, usize, Vec<u8>)>,
) {
    match ttl {
        Ok(_) if word.iter().all(u8::is_ascii_digit) => {}
        Ok(seconds) => edits.push((token.start, token.end, seconds.to_string().into_bytes())),
        Err(message) => {
            let column = token.start - line_starts[token.line - 1] + 1;
            prepared.errors.push((token.line, column, message));
        }
    }
}

/// `$TTL` gets its units rewritten; `$GENERATE` is read and replaced by a placeholder.
fn directive(
    bytes: &[u8],
    tokens: &[Token],
    line: usize,
    (start, end): (usize, usize),
    line_starts: &[usize],
    prepared: &mut Prepared,
    edits: &mut Vec<(usize, usize, Vec<u8>)>,
) {
    let word = &bytes[tokens[0].start..tokens[0].end];
    let column = |token: &Token| token.start - line_starts[token.line - 1] + 1;
    if word.eq_ignore_ascii_case(b"$TTL") {
        if let Some(value) = tokens.get(1) {
            let text = &bytes[value.start..value.end];
            match parse_ttl(text) {
                Some(ttl) => rewrite(text, value, ttl, line_starts, prepared, edits),
                None => prepared.errors.push((
                    value.line,
                    column(value),
                    format!(
                        "$TTL {}: expected a TTL (seconds, or units such as 1h, 1d, 1w2d)",
                        String::from_utf8_lossy(text)
                    ),
                )),
            }
        }
        return;
    }
    if !word.eq_ignore_ascii_case(b"$GENERATE") {
        return;
    }
    match read_generate(bytes, tokens) {
        Ok(generate) => prepared.generates.push((line, generate)),
        Err((token, message)) => {
            let token = tokens.get(token).unwrap_or(&tokens[0]);
            prepared
                .errors
                .push((token.line, column(token), format!("$GENERATE: {message}")));
        }
    }
    // The scanner sees an $INCLUDE in its place (handed back to the loader in order), and
    // empty lines for any further lines the directive took.
    let mut placeholder = b"$INCLUDE generate".to_vec();
    let lines = bytes[start..end].iter().filter(|&&b| b == b'\n').count();
    placeholder.extend(std::iter::repeat_n(b'\n', lines));
    edits.push((start, end, placeholder));
}

/// Reads `$GENERATE range lhs [ttl] [class] type rhs`. An error names the token at fault.
fn read_generate(bytes: &[u8], tokens: &[Token]) -> Result<Generate, (usize, String)> {
    let text = |i: usize| tokens.get(i).map(|t| &bytes[t.start..t.end]);
    let range = text(1).ok_or((0, "expected a range such as 1-10".to_string()))?;
    let (start, stop, step) = read_range(range).ok_or_else(|| {
        (
            1,
            format!(
                "invalid range '{}': expected START-STOP or START-STOP/STEP, STOP not below START, STEP above 0",
                String::from_utf8_lossy(range)
            ),
        )
    })?;
    let count = (u64::from(stop) - u64::from(start)) / u64::from(step) + 1;
    if count > MAX_GENERATED {
        return Err((
            1,
            format!("the range makes {count} records, more than {MAX_GENERATED}"),
        ));
    }
    let lhs = text(2).ok_or((0, "expected an owner after the range".to_string()))?;
    let mut index = 3;
    let mut ttl = None;
    let mut class = None;
    for _ in 0..2 {
        let Some(word) = text(index) else { break };
        match parse_ttl(word) {
            Some(value) if ttl.is_none() => ttl = Some(value.map_err(|m| (index, m))?),
            _ if class.is_none() && is_class(word) => class = Some(word.to_vec()),
            _ => break,
        }
        index += 1;
    }
    let rtype = text(index).ok_or((0, "expected a record type".to_string()))?;
    let rhs = text(index + 1).ok_or((index, "expected the record data".to_string()))?;
    if tokens.len() > index + 2 {
        return Err((
            index + 2,
            "extra input text (quote the record data when it has spaces)".to_string(),
        ));
    }
    let generate = Generate {
        start,
        stop,
        step,
        lhs: lhs.to_vec(),
        ttl,
        class,
        rtype: rtype.to_vec(),
        rhs: rhs.to_vec(),
    };
    // Check both templates once, so a bad modifier is an error at its token.
    let mut scratch = Vec::new();
    substitute(&generate.lhs, i64::from(start), &mut scratch).map_err(|m| (2, m))?;
    substitute(&generate.rhs, i64::from(start), &mut scratch).map_err(|m| (index + 1, m))?;
    Ok(generate)
}

/// `START-STOP[/STEP]`.
fn read_range(range: &[u8]) -> Option<(u32, u32, u32)> {
    let text = std::str::from_utf8(range).ok()?;
    let (bounds, step) = match text.split_once('/') {
        Some((bounds, step)) => (bounds, step.parse().ok()?),
        None => (text, 1),
    };
    let (start, stop) = bounds.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) || !digits(stop) {
        return None;
    }
    let (start, stop): (u32, u32) = (start.parse().ok()?, stop.parse().ok()?);
    (stop >= start && step > 0).then_some((start, stop, step))
}

/// Writes `template` with BIND's substitutions for the iterator value `it`: `$` is the value,
/// `${offset[,width[,base]]}` shifts, pads and formats it (`d`, `o`, `x`, `X`, and `n`/`N` for
/// nibbles, lowest first, dot-separated), `$$` is a literal `$`, and a backslash keeps the
/// character after it as it is (so `\$` reaches the parser, which reads it as `$`).
pub(crate) fn substitute(template: &[u8], it: i64, out: &mut Vec<u8>) -> Result<(), String> {
    let mut at = 0;
    while at < template.len() {
        match template[at] {
            b'\\' => {
                out.extend_from_slice(&template[at..(at + 2).min(template.len())]);
                at += 2;
            }
            b'$' if template.get(at + 1) == Some(&b'$') => {
                out.push(b'$');
                at += 2;
            }
            b'$' => {
                at += 1;
                let (mut offset, mut width, mut base) = (0i64, 0usize, b'd');
                if template.get(at) == Some(&b'{') {
                    let close = template[at..]
                        .iter()
                        .position(|&b| b == b'}')
                        .ok_or("a '${' modifier without its closing '}'")?;
                    let inner = std::str::from_utf8(&template[at + 1..at + close])
                        .map_err(|_| "a bad ${...} modifier")?;
                    (offset, width, base) = read_modifier(inner)?;
                    at += close + 1;
                }
                let value = it + offset;
                if value < 0 && matches!(base, b'o' | b'x' | b'X' | b'n' | b'N') {
                    return Err(format!("the value {value} is negative for this format"));
                }
                let text = match base {
                    b'd' => format!("{value:0width$}"),
                    b'o' => format!("{value:0width$o}"),
                    b'x' => format!("{value:0width$x}"),
                    b'X' => format!("{value:0width$X}"),
                    _ => nibbles(value as u64, width, base == b'N'),
                };
                out.extend_from_slice(text.as_bytes());
            }
            b => {
                out.push(b);
                at += 1;
            }
        }
    }
    Ok(())
}

/// `offset[,width[,base]]` of a `${...}` modifier.
fn read_modifier(inner: &str) -> Result<(i64, usize, u8), String> {
    let bad = || {
        format!("bad modifier '${{{inner}}}': expected ${{offset[,width[,base]]}}, base one of d o x X n N")
    };
    let mut parts = inner.split(',');
    // BIND reads the offset as a C int: one beyond it is refused, never wrapped.
    let offset = parts
        .next()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .map(i64::from)
        .ok_or_else(bad)?;
    let width = match parts.next() {
        Some(p) => p.trim().parse::<usize>().map_err(|_| bad())?,
        None => 0,
    };
    let base = match parts.next() {
        Some(p) if p.len() == 1 && "doxXnN".contains(p) => p.as_bytes()[0],
        Some(_) => return Err(bad()),
        None => b'd',
    };
    if parts.next().is_some() || width > 255 {
        return Err(bad());
    }
    Ok((offset, width, base))
}

/// BIND's nibble format: hex digits lowest first, separated by dots, padded to `width`
/// characters (dots included).
fn nibbles(mut value: u64, mut width: usize, upper: bool) -> String {
    let digits = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    loop {
        out.push(digits[(value & 0xf) as usize] as char);
        value >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || value != 0 {
            out.push('.');
            width = width.saturating_sub(1);
        }
        if value == 0 && width == 0 {
            return out;
        }
    }
}

/// The text with every edit made; `shifts` gets where columns moved.
fn apply(
    bytes: &[u8],
    edits: &mut [(usize, usize, Vec<u8>)],
    line_starts: &[usize],
    shifts: &mut Vec<(usize, usize, isize)>,
) -> Vec<u8> {
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = Vec::with_capacity(bytes.len() + edits.len() * 8);
    let mut at = 0;
    let mut line_delta: (usize, isize) = (0, 0);
    for (start, end, replacement) in edits.iter() {
        out.extend_from_slice(&bytes[at..*start]);
        let line = line_starts.partition_point(|s| *s <= *start);
        if line_delta.0 != line {
            line_delta = (line, 0);
        }
        let new_end_column =
            (*start as isize + line_delta.1) as usize - line_starts[line - 1] + replacement.len();
        let delta = replacement.len() as isize - (*end - *start) as isize;
        if delta != 0 && !replacement.contains(&b'\n') {
            shifts.push((line, new_end_column, delta));
            line_delta.1 += delta;
        }
        out.extend_from_slice(replacement);
        at = *end;
    }
    out.extend_from_slice(&bytes[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(bytes: &[u8]) -> Vec<usize> {
        std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', bytes).map(|at| at + 1))
            .collect()
    }

    fn prepared(text: &str) -> (String, Prepared) {
        let bytes = text.as_bytes();
        let starts = starts(bytes);
        let special = vec![true; starts.len()];
        let p = prepare(bytes, &starts, &special, "z.net.");
        // The quick path for plain lines reads the same.
        let plain: Vec<bool> = starts
            .iter()
            .enumerate()
            .map(|(i, &at)| {
                let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
                bytes[at..end].iter().any(|b| b"\";()\\".contains(b))
            })
            .collect();
        let quick = prepare(bytes, &starts, &plain, "z.net.");
        assert_eq!(quick.text, p.text, "quick path");
        assert_eq!(quick.errors, p.errors, "quick path");
        let out = p.text.clone().unwrap_or_else(|| bytes.to_vec());
        (String::from_utf8(out).unwrap(), p)
    }

    #[test]
    fn ttls_read_as_bind_reads_them() {
        let cases: &[(&str, Option<u32>)] = &[
            ("3600", Some(3600)),
            ("1h", Some(3600)),
            ("1H", Some(3600)),
            (
                "1w2d3h4m5s",
                Some(7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5),
            ),
            ("2h1d", Some(86400 + 7200)),
            ("15M", Some(900)),
            ("0h30", Some(30)),
            ("1h30", None),
            ("1x", None),
            ("h", None),
            ("", None),
            ("IN", None),
        ];
        for (text, want) in cases {
            let got = parse_ttl(text.as_bytes()).and_then(Result::ok);
            assert_eq!(got, *want, "case {text:?}");
        }
        assert!(parse_ttl(b"4294967296").unwrap().is_err(), "over 32 bits");
        assert!(parse_ttl(b"1000000w").unwrap().is_err());
    }

    #[test]
    fn units_are_rewritten_where_a_ttl_goes_and_nowhere_else() {
        let (text, p) = prepared(
            "$TTL 1d\n@ 1h IN SOA ns h 1 2h 15m 1w 1D\nwww IN 5m A 192.0.2.1\n\
             1h A 192.0.2.2\nt TXT 1h\n@ SOA ( ns h 1\n 1h 2 3 4 )\n",
        );
        assert_eq!(
            text,
            "$TTL 86400\n@ 3600 IN SOA ns h 1 7200 900 604800 86400\nwww IN 300 A 192.0.2.1\n\
             1h A 192.0.2.2\nt TXT 1h\n@ SOA ( ns h 1\n 3600 2 3 4 )\n"
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        // `www IN 5m A ...`: the data after the TTL moved one column left of where it was.
        assert_eq!(p.column(3, 12), 11);
        assert_eq!(p.column(3, 5), 5, "before the TTL nothing moved");
    }

    #[test]
    fn at_in_data_is_the_origin_in_force() {
        let (text, _) = prepared(
            "www CNAME @\n@ MX 10 @\nt TXT @\n$ORIGIN sub\nx CNAME @\n$ORIGIN other.\ny NS @\n",
        );
        assert_eq!(
            text,
            "www CNAME z.net.\n@ MX 10 z.net.\nt TXT @\n$ORIGIN sub\nx CNAME sub.z.net.\n\
             $ORIGIN other.\ny NS other.\n"
        );
    }

    #[test]
    fn types_the_scanner_lacks_reach_it_in_rfc3597_form() {
        let (text, p) = prepared(
            "a SPF \"v=spf1 -all\" x\\059\nb KEY 256 3 8 ( AQID\n BA== ) ; c\n\
             c NSAP 0x47.0005\nd EUI48 00-00-5e-00-53-2a\ne 60 IN EUI64 00-00-5e-ef-10-00-00-2a\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            text,
            "a TYPE99 \\# 15 0b763d73706631202d616c6c02783b\nb TYPE25 \\# 8 0100030801020304 (\n ) ; c\n\
             c TYPE22 \\# 3 470005\nd TYPE108 \\# 6 00005e00532a\ne 60 IN TYPE109 \\# 8 00005eef1000002a\n"
        );
        for bad in [
            "d EUI48 0-00-5e-00-53-2a\n",
            "d EUI64 00-00-5e-00-53-2a\n",
            "c NSAP 47.0005\n",
        ] {
            let (_, p) = prepared(bad);
            assert_eq!(p.errors.len(), 1, "{bad}");
        }
    }

    #[test]
    fn comments_quotes_and_escapes_are_not_ttls() {
        let source = "a TXT \"1h\" ; 1h\nb ( ; 1h\n 1h A 192.0.2.1 )\n";
        let (text, _) = prepared(source);
        assert_eq!(text, "a TXT \"1h\" ; 1h\nb ( ; 1h\n 3600 A 192.0.2.1 )\n");
    }

    #[test]
    fn generate_reads_bind_syntax() {
        let (text, p) = prepared(
            "$GENERATE 1-3/2 h$ A 10.0.0.$\n$generate 10-12 ${0,3,n} 1h IN PTR x-${-5,4,x}.\n",
        );
        assert_eq!(text, "$INCLUDE generate\n$INCLUDE generate\n");
        let first = p.generate_at(1).unwrap();
        assert_eq!(
            String::from_utf8(first.expand(60).unwrap()).unwrap(),
            "h1 60 A 10.0.0.1\nh3 60 A 10.0.0.3\n"
        );
        let second = p.generate_at(2).unwrap();
        assert_eq!(second.ttl, Some(3600));
        assert_eq!(
            String::from_utf8(second.expand(3600).unwrap()).unwrap(),
            "a.0 3600 IN PTR x-0005.\nb.0 3600 IN PTR x-0006.\nc.0 3600 IN PTR x-0007.\n"
        );
    }

    #[test]
    fn generate_substitutions_match_bind() {
        let cases: &[(&str, i64, &str)] = &[
            ("h$", 7, "h7"),
            ("$$x", 1, "$x"),
            ("\\$x$", 3, "\\$x3"),
            ("r${1,2}", 0, "r01"),
            ("s${-1}", 1, "s0"),
            ("${0,0,o}", 8, "10"),
            ("${0,4,X}", 255, "00FF"),
            ("${0,2,N}", 1, "1."),
            ("${0,0,n}", 0x123, "3.2.1"),
            ("${0,7,n}", 0x12, "2.1.0.0"),
        ];
        for (template, it, want) in cases {
            let mut out = Vec::new();
            substitute(template.as_bytes(), *it, &mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), *want, "case {template}");
        }
        for bad in ["${1", "${a}", "${0,2,q}", "${0,2,d,1}"] {
            assert!(
                substitute(bad.as_bytes(), 0, &mut Vec::new()).is_err(),
                "case {bad}"
            );
        }
    }

    #[test]
    fn generate_errors_name_the_token() {
        for (line, column, needle) in [
            ("$GENERATE 5-3 r$ A 10.0.0.$\n", 11, "invalid range"),
            ("$GENERATE 0-2/0 r$ A 10.0.0.$\n", 11, "invalid range"),
            ("$GENERATE 1-2 m$ MX 10 mx$\n", 24, "extra input"),
            ("$GENERATE 1-2 m${1 A 10.0.0.1\n", 15, "closing"),
            // An offset past a C int: refused at its token, never wrapped or a panic.
            (
                "$GENERATE 4294967290-4294967295 h${9223372036854775807} A 1.2.3.4\n",
                33,
                "bad modifier",
            ),
        ] {
            let (_, p) = prepared(line);
            assert_eq!(p.errors.len(), 1, "{line}: {:?}", p.errors);
            let (l, c, message) = &p.errors[0];
            assert_eq!((*l, *c), (1, column), "{line}: {message}");
            assert!(message.contains(needle), "{line}: {message}");
        }
    }
}
