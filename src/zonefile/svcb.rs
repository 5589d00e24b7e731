//! SVCB and HTTPS record data (RFC 9460) from their presentation form, as BIND reads it, into
//! wire form: the scanner reads neither escapes in `alpn` nor unknown `keyNNNNN` parameters.
//! Malformed parameters are errors with a reason: empty or stray commas in value lists,
//! duplicate or unknown keys, keys listed as mandatory but absent, bad ports and hints.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::bind::unescape;

/// Parameter keys by name (RFC 9460 and its registry).
const KEYS: [(&str, u16); 9] = [
    ("mandatory", 0),
    ("alpn", 1),
    ("no-default-alpn", 2),
    ("port", 3),
    ("ipv4hint", 4),
    ("ech", 5),
    ("ipv6hint", 6),
    ("dohpath", 7),
    ("ohttp", 8),
];

/// The wire form of `fields` (priority, target, `key[=value]`...), values already joined with
/// their quoted part; `origin` (with its trailing dot) completes a relative target.
pub fn wire(fields: &[Vec<u8>], origin: &str) -> Result<Vec<u8>, String> {
    let [priority, target, params @ ..] = fields else {
        return Err("SVCB needs a priority and a target name".into());
    };
    let priority: u16 = std::str::from_utf8(priority)
        .ok()
        .and_then(|p| p.parse().ok())
        .ok_or("SVCB priority must be a number from 0 to 65535")?;
    let mut out = priority.to_be_bytes().to_vec();
    out.extend(name_wire(target, origin)?);
    let mut seen: Vec<(u16, Vec<u8>)> = Vec::new();
    for param in params {
        let (key_text, value) = match param.iter().position(|&b| b == b'=') {
            Some(at) => (&param[..at], Some(unescape(&param[at + 1..])?)),
            None => (&param[..], None),
        };
        let key_text = String::from_utf8_lossy(key_text).to_ascii_lowercase();
        let key = key_number(&key_text)?;
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(format!("SVCB parameter {key_text} is given twice"));
        }
        seen.push((key, value_wire(key, &key_text, value)?));
    }
    seen.sort_by_key(|(key, _)| *key);
    if let Some((_, mandatory)) = seen.iter().find(|(key, _)| *key == 0) {
        for pair in mandatory.chunks(2) {
            let listed = u16::from_be_bytes([pair[0], pair[1]]);
            if listed == 0 {
                return Err("mandatory may not list mandatory itself".into());
            }
            if !seen.iter().any(|(key, _)| *key == listed) {
                return Err(format!(
                    "mandatory lists {} but the record does not have it",
                    key_name(listed)
                ));
            }
        }
    }
    for (key, value) in seen {
        out.extend(key.to_be_bytes());
        let len = u16::try_from(value.len()).map_err(|_| "an SVCB parameter over 65535 octets")?;
        out.extend(len.to_be_bytes());
        out.extend(value);
    }
    Ok(out)
}

fn key_number(name: &str) -> Result<u16, String> {
    if let Some((_, key)) = KEYS.iter().find(|(n, _)| *n == name) {
        return Ok(*key);
    }
    match name.strip_prefix("key") {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits
                .parse::<u16>()
                .ok()
                .filter(|k| *k != 65535)
                .ok_or_else(|| format!("SVCB parameter {name}: key numbers go up to 65534"))
        }
        _ => Err(format!(
            "unknown SVCB parameter {name:?} (known: mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint, dohpath, ohttp, keyNNNNN)"
        )),
    }
}

fn key_name(key: u16) -> String {
    KEYS.iter()
        .find(|(_, k)| *k == key)
        .map_or_else(|| format!("key{key}"), |(n, _)| n.to_string())
}

/// The wire value of one parameter.
fn value_wire(key: u16, name: &str, value: Option<Vec<u8>>) -> Result<Vec<u8>, String> {
    let needs = |value: Option<Vec<u8>>| {
        value.ok_or_else(|| format!("SVCB parameter {name} needs a value"))
    };
    let text =
        |value: Vec<u8>| String::from_utf8(value).map_err(|_| format!("SVCB {name}: not text"));
    Ok(match key {
        0 => mandatory_wire(&needs(value)?, name)?,
        1 => {
            let mut out = Vec::new();
            for item in value_list(&needs(value)?, name)? {
                let len = u8::try_from(item.len()).map_err(|_| "an alpn id over 255 octets")?;
                out.push(len);
                out.extend(item);
            }
            out
        }
        2 => match value {
            None => Vec::new(),
            Some(_) => return Err("no-default-alpn takes no value".into()),
        },
        3 => {
            let port: u16 = text(needs(value)?)?
                .parse()
                .map_err(|_| "SVCB port must be a number from 0 to 65535")?;
            port.to_be_bytes().to_vec()
        }
        4 | 6 => {
            let mut out = Vec::new();
            for item in text(needs(value)?)?.split(',') {
                match key {
                    4 => out.extend(
                        item.parse::<Ipv4Addr>()
                            .map_err(|_| format!("ipv4hint: bad address {item:?}"))?
                            .octets(),
                    ),
                    _ => out.extend(
                        item.parse::<Ipv6Addr>()
                            .map_err(|_| format!("ipv6hint: bad address {item:?}"))?
                            .octets(),
                    ),
                }
            }
            out
        }
        5 => data_encoding::BASE64
            .decode(&needs(value)?)
            .map_err(|e| format!("ech is not base64: {e}"))?,
        _ => value.unwrap_or_default(),
    })
}

/// `mandatory`: the keys it lists, as numbers in ascending order, none twice.
fn mandatory_wire(value: &[u8], name: &str) -> Result<Vec<u8>, String> {
    let mut keys = Vec::new();
    for item in value_list(value, name)? {
        keys.push(key_number(
            &String::from_utf8_lossy(&item).to_ascii_lowercase(),
        )?);
    }
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err("mandatory lists a key twice".into());
    }
    Ok(keys.iter().flat_map(|k| k.to_be_bytes()).collect())
}

/// A comma-separated value list (RFC 9460 appendix A.1): `\,` is a comma inside an item; an
/// empty item (a leading, trailing or doubled comma) is an error.
fn value_list(value: &[u8], name: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut items: Vec<Vec<u8>> = Vec::new();
    let mut item = Vec::new();
    let mut at = 0;
    while at < value.len() {
        match value[at] {
            b'\\' if at + 1 < value.len() => {
                item.push(value[at + 1]);
                at += 2;
            }
            b',' => {
                items.push(std::mem::take(&mut item));
                at += 1;
            }
            b => {
                item.push(b);
                at += 1;
            }
        }
    }
    items.push(item);
    if items.iter().any(Vec::is_empty) {
        return Err(format!(
            "SVCB {name}: an empty item in the list (a stray comma?)"
        ));
    }
    Ok(items)
}

/// The uncompressed wire form of a name as written (`.`, absolute, relative, `@`).
fn name_wire(text: &[u8], origin: &str) -> Result<Vec<u8>, String> {
    let mut full = text.to_vec();
    if full == b"@" {
        full = origin.as_bytes().to_vec();
    } else if !full.ends_with(b".") || full.ends_with(b"\\.") {
        if origin != "." {
            full.push(b'.');
        }
        full.extend_from_slice(origin.as_bytes());
    }
    if full == b"." {
        return Ok(vec![0]);
    }
    let mut out = Vec::new();
    let mut label = Vec::new();
    let mut at = 0;
    while at < full.len() {
        match full[at] {
            b'\\' => {
                let digits = full
                    .get(at + 1..at + 4)
                    .filter(|d| d.iter().all(u8::is_ascii_digit));
                match digits {
                    Some(d) => {
                        let value = d.iter().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
                        label.push(u8::try_from(value).map_err(|_| "a name escape over 255")?);
                        at += 4;
                    }
                    None => {
                        label.push(*full.get(at + 1).ok_or("a lone backslash in a name")?);
                        at += 2;
                    }
                }
            }
            b'.' => {
                if label.is_empty() {
                    return Err("SVCB target: an empty label".into());
                }
                let len = u8::try_from(label.len())
                    .ok()
                    .filter(|l| *l <= 63)
                    .ok_or("SVCB target: a label over 63 octets")?;
                out.push(len);
                out.append(&mut label);
                at += 1;
            }
            b => {
                label.push(b);
                at += 1;
            }
        }
    }
    out.push(0);
    if out.len() > 255 {
        return Err("SVCB target: a name over 255 octets".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<u8>> {
        text.split(' ').map(|f| f.as_bytes().to_vec()).collect()
    }

    #[test]
    fn parameters_read_as_rfc_9460_has_them() {
        let got = wire(
            &fields("1 . port=60 alpn=h2,h3 no-default-alpn"),
            "z.example.",
        )
        .unwrap();
        // priority 1, root, then keys 1 (alpn), 2 (no-default-alpn), 3 (port) in order.
        let want = [
            &[0, 1, 0][..],
            &[0, 1, 0, 6, 2, b'h', b'2', 2, b'h', b'3'],
            &[0, 2, 0, 0],
            &[0, 3, 0, 2, 0, 60],
        ]
        .concat();
        assert_eq!(got, want);
        // `\\,` written in the file is a comma inside one alpn id.
        let got = wire(&fields(r"8 . alpn=h1\\,h2,h3"), "z.example.").unwrap();
        assert_eq!(
            &got[3..],
            &[0, 1, 0, 9, 5, b'h', b'1', b',', b'h', b'2', 2, b'h', b'3'][..]
        );
        let got = wire(&fields("0 svc"), "z.example.").unwrap();
        assert_eq!(&got[2..], b"\x03svc\x01z\x07example\x00");
    }

    #[test]
    fn malformed_parameters_are_errors() {
        for (case, needle) in [
            (r"1 . alpn=\,abc", "empty item"),
            (r"1 . alpn=a\,\,abc", "empty item"),
            (r"1 . alpn=abc\,", "empty item"),
            ("1 . alpn=,abc", "empty item"),
            ("1 . alpn=abc,", "empty item"),
            ("0 . mandatory=alpn", "does not have it"),
            ("0 . unknown=wha", "unknown SVCB parameter"),
            ("1 . port=70000", "port"),
            ("1 . port=1 port=2", "twice"),
            ("1 . ipv4hint=10.0.0.300", "ipv4hint"),
            ("1 . ipv6hint=zz::1", "ipv6hint"),
        ] {
            let err = wire(&fields(case), "z.example.").unwrap_err();
            assert!(err.contains(needle), "{case}: {err}");
        }
    }
}
