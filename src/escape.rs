//! Escaping of untrusted text (DNS data, file content) for the media it is printed to.

/// Appends `bytes` in DNS presentation form: printable ASCII as is, the bytes in `specials`
/// behind a backslash, and every other byte (controls, DEL, non-ASCII) as `\DDD`.
pub(crate) fn push_escaped(out: &mut String, bytes: &[u8], specials: &[u8]) {
    for &b in bytes {
        if specials.contains(&b) {
            out.push('\\');
            out.push(char::from(b));
        } else if (0x20..0x7f).contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\{b:03}"));
        }
    }
}

/// Makes text safe for a terminal or a plain log line: control characters (ESC, CR, LF, …)
/// become `\DDD`, so nothing can move the cursor, clear the screen or start a new log line.
pub fn terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() {
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
        assert_eq!(terminal("\u{9b}x"), "\\194\\155x");
    }

    #[test]
    fn presentation_escapes_specials_and_high_octets() {
        let mut out = String::new();
        push_escaped(&mut out, b"a.b\xf2\"", b".\"");
        assert_eq!(out, "a\\.b\\242\\\"");
    }
}
