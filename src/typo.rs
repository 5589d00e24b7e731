//! Typo heuristics: how far apart two strings are, and what kind of slip turns one into the
//! other (dnstwist's classes). Pure.

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

const KEYBOARD: [&str; 4] = ["1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// Whether two keys sit next to each other on a QWERTY keyboard (same row or the row below).
pub fn neighbours(a: char, b: char) -> bool {
    let find = |c: char| {
        KEYBOARD
            .iter()
            .enumerate()
            .find_map(|(row, keys)| keys.find(c.to_ascii_lowercase()).map(|col| (row, col)))
    };
    match (find(a), find(b)) {
        (Some((ra, ca)), Some((rb, cb))) => ra.abs_diff(rb) <= 1 && ca.abs_diff(cb) <= 1 && a != b,
        _ => false,
    }
}

/// The kind of slip that turns `intended` into `typed`, when they are one edit apart.
pub fn slip(intended: &str, typed: &str) -> Option<&'static str> {
    let (a, b): (Vec<char>, Vec<char>) = (intended.chars().collect(), typed.chars().collect());
    if distance(intended, typed) != 1 {
        return None;
    }
    match b.len() as isize - a.len() as isize {
        0 => {
            let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match diffs.as_slice() {
                [i, j] if *j == i + 1 => Some("transposition"),
                [i] if matches!(
                    (a[*i], b[*i]),
                    ('-', '.') | ('.', '-') | ('-', '_') | ('_', '-')
                ) =>
                {
                    Some("hyphen or dot slip")
                }
                [i] if neighbours(a[*i], b[*i]) => Some("keyboard neighbour"),
                [_] => Some("replacement"),
                _ => None,
            }
        }
        1 => {
            let at = (0..a.len()).find(|&i| a[i] != b[i]).unwrap_or(a.len());
            let repeated =
                (at > 0 && b[at] == b[at - 1]) || (at + 1 < b.len() && b[at] == b[at + 1]);
            Some(if repeated { "repetition" } else { "insertion" })
        }
        -1 => {
            let at = (0..b.len()).find(|&i| a[i] != b[i]).unwrap_or(b.len());
            Some(if matches!(a[at], '-' | '.') {
                "hyphen or dot slip"
            } else {
                "omission"
            })
        }
        _ => None,
    }
}

/// Whether `typed` reads as a slip of the hand on `intended` rather than another word: a swap,
/// a doubled letter, a hyphen or dot slip, a neighbouring letter key, a letter dropped inside
/// the word. A letter added (`nodes`, `taldos`), a letter or digit replaced (`cugc`, `-4`), the
/// end cut off (`perspective`), or a name of three letters or fewer are as often new names.
pub(crate) fn typo_like(intended: &str, typed: &str) -> bool {
    if intended.chars().count() < 4 {
        return false;
    }
    match slip(intended, typed) {
        Some("transposition" | "repetition" | "hyphen or dot slip") => true,
        Some("keyboard neighbour") => {
            let changed = intended.chars().zip(typed.chars()).find(|(a, b)| a != b);
            changed.is_some_and(|(a, b)| a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
        }
        Some("omission") => !intended.starts_with(typed),
        _ => false,
    }
}

/// `("bh", 17, 2)` for `bh17`: a name of a numbered series (prefix, number, digits).
pub(crate) fn numbered(label: &str) -> Option<(&str, u64, usize)> {
    let digits = label.len() - label.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == label.len() || digits > 9 {
        return None;
    }
    let (prefix, number) = label.split_at(label.len() - digits);
    Some((prefix, number.parse().ok()?, digits))
}

/// The /24 (IPv4) or /64 (IPv6) an address lies in, as text.
pub fn subnet(address: &str) -> Option<String> {
    if let Ok(v4) = address.parse::<std::net::Ipv4Addr>() {
        let o = v4.octets();
        return Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]));
    }
    if let Ok(v6) = address.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        return Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_count_transpositions_as_one() {
        assert_eq!(distance("bh17", "bh71"), 1);
        assert_eq!(distance("bh17", "bh1"), 1);
        assert_eq!(distance("bh17", "bhh17"), 1);
        assert_eq!(distance("panel", "pnael"), 1);
        assert_eq!(distance("bh17", "xy99"), 4);
    }

    #[test]
    fn slips_are_named_by_class() {
        assert_eq!(slip("bh17", "bh71"), Some("transposition"));
        assert_eq!(slip("bh17", "bh1"), Some("omission"));
        assert_eq!(slip("bh17", "bhh17"), Some("repetition"));
        assert_eq!(slip("bh17", "bhx17"), Some("insertion"));
        assert_eq!(slip("bh17", "bj17"), Some("keyboard neighbour"));
        assert_eq!(slip("bh17", "bh19"), Some("replacement"));
        assert_eq!(slip("bot-api", "bot.api"), Some("hyphen or dot slip"));
        assert_eq!(slip("bot-api", "botapi"), Some("hyphen or dot slip"));
        assert_eq!(slip("203.0.113.17", "203.0.113.71"), Some("transposition"));
        assert_eq!(slip("bh17", "bh17"), None);
    }

    #[test]
    fn slips_of_the_hand_are_told_from_new_words() {
        for (intended, typed) in [
            ("panel", "pnael"),
            ("gitlab", "gitllab"),
            ("bot-api", "bot.api"),
            ("grafana", "grafsna"),
            ("brownsville", "browsville"),
        ] {
            assert!(typo_like(intended, typed), "{intended} -> {typed}");
        }
        for (intended, typed) in [
            ("node", "nodes"),
            ("talos", "taldos"),
            ("cugi-mc", "cugc-mc"),
            ("auth-4", "auth-3"),
            ("perspectives", "perspective"),
            ("cic", "cid"),
            ("docs", "undocs"),
        ] {
            assert!(!typo_like(intended, typed), "{intended} -> {typed}");
        }
    }

    #[test]
    fn numbered_names_and_subnets() {
        assert_eq!(numbered("bh17"), Some(("bh", 17, 2)));
        assert_eq!(numbered("bh"), None);
        assert_eq!(numbered("17"), None);
        assert_eq!(subnet("203.0.113.17").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(
            subnet("2001:db8:100::17").as_deref(),
            Some("2001:db8:100:0::/64")
        );
    }
}
