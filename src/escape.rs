//! Escaping of untrusted text (DNS data, file content) for the media it is printed to.

/// The bytes written behind a backslash in one place of DNS presentation form (a label, a
/// character string), told apart by a table built at compile time.
pub(crate) struct Specials([bool; 256]);

impl Specials {
    /// The table of `bytes`.
    pub(crate) const fn of(bytes: &[u8]) -> Specials {
        let mut table = [false; 256];
        let mut at = 0;
        while at < bytes.len() {
            table[bytes[at] as usize] = true;
            at += 1;
        }
        Specials(table)
    }

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

/// Appends `bytes` in DNS presentation form: printable ASCII as is, the bytes in `specials`
/// behind a backslash, and every other byte (controls, DEL, non-ASCII) as `\DDD`.
pub(crate) fn push_escaped(out: &mut String, bytes: &[u8], specials: &Specials) {
    let plain = |b: &u8| (0x20..0x7f).contains(b) && !specials.contains(*b);
    let mut rest = bytes;
    loop {
        let run = rest.iter().take_while(|b| plain(b)).count();
        // A run of printable ASCII is text as it is.
        out.push_str(std::str::from_utf8(&rest[..run]).unwrap_or_default());
        let Some((&b, after)) = rest[run..].split_first() else {
            return;
        };
        if specials.contains(b) {
            out.push('\\');
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\{b:03}"));
        }
        rest = after;
    }
}

/// Whether `ch` is a control character or an invisible formatting one that can reorder or hide
/// what follows on a terminal or a web page (the bidi overrides and isolates of "Trojan
/// Source", zero-width characters, the BOM).
pub fn is_unsafe(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// Makes text safe for a terminal or a plain log line: control characters (ESC, CR, LF, …)
/// and bidi and zero-width formatting characters become `\DDD` (their UTF-8 octets), so
/// nothing can move the cursor, clear the screen, start a new log line or reorder what is shown.
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if is_unsafe(ch) {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:03}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(terminal("ok\x1b[31m\nnext"), "ok\\027[31m\\010next");
        // Bidi overrides (a commit subject that reads backwards) and zero-width characters.
        assert_eq!(
            terminal("a\u{202E}b\u{202C}"),
            "a\\226\\128\\174b\\226\\128\\172"
        );
        assert_eq!(terminal("x\u{200B}y"), "x\\226\\128\\139y");
        assert_eq!(terminal("caf\u{e9}"), "caf\u{e9}", "letters stay");
        assert_eq!(terminal("\u{9b}x"), "\\194\\155x");
    }

    #[test]
    fn presentation_escapes_specials_and_high_octets() {
        let mut out = String::new();
        push_escaped(&mut out, b"a.b\xf2\"", &Specials::of(b".\""));
        assert_eq!(out, "a\\.b\\242\\\"");
        out.clear();
        push_escaped(&mut out, b"\x7f\x1f ok\\\xff", &Specials::of(b"\\ "));
        assert_eq!(out, "\\127\\031\\ ok\\\\\\255");
    }
}
