//! The layering rule of `src/lib.rs`, checked on the source: each module names the modules it
//! uses (`crate::x`), unit tests left out, and no module may reach back to itself through
//! others. A circle means two layers lean on each other and neither can change alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of each source file (`src/zonefile/bind.rs` is `zonefile`).
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let relative = path.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    // The binaries (main, cli, manual, bin/) are not modules of the library.
    (!matches!(name, "main" | "lib" | "cli" | "manual" | "bin")).then(|| name.to_string())
}

/// The text of a file up to its unit tests.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

/// `crate::x` names in `text`: in `use crate::{a, b::c}` lists and in paths.
fn used_modules(text: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                used.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            used.insert(name);
        }
    }
    used
}

/// Every `.rs` file below `src/`.
fn source_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                files.push(path);
            }
        }
    }
    files
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in source_files() {
        let Some(module) = module_of(&path, &src) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let used = used_modules(without_tests(&text));
        let edges = graph.entry(module.clone()).or_default();
        edges.extend(used.into_iter().filter(|m| *m != module && !m.is_empty()));
    }
    graph
}

/// A circle through `start`, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(graph, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_module_reaches_back_to_itself() {
    let graph = graph();
    assert!(graph.len() > 10, "the source was not read: {graph:?}");
    let circles: Vec<String> = graph
        .keys()
        .filter_map(|m| circle(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

/// The modules in the order `src/lib.rs` lists them (its layers, top first).
fn layers() -> Vec<String> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn every_module_uses_only_modules_listed_above_it() {
    let order = layers();
    let graph = graph();
    let place = |m: &str| order.iter().position(|o| o == m);
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        let Some(here) = place(module) else {
            wrong.push(format!("{module} is not listed in lib.rs"));
            continue;
        };
        for other in used {
            match place(other) {
                Some(there) if there < here => {}
                Some(_) => wrong.push(format!("{module} uses {other}, listed below it")),
                None => wrong.push(format!("{module} uses {other}, not a module")),
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn config_knows_nothing_of_its_consumers() {
    let graph = graph();
    let allowed: BTreeSet<&str> = ["escape", "typo", "model", "zonefile", "error"]
        .into_iter()
        .collect();
    let used: Vec<&String> = graph["config"]
        .iter()
        .filter(|m| !allowed.contains(m.as_str()))
        .collect();
    assert!(used.is_empty(), "config uses {used:?}");
}

/// Functions over this many lines (signature to closing brace, as rustfmt lays them out),
/// unit tests left out, fail the test: a function should fit in the head of its reader.
const MOST_LINES: usize = 60;

/// The one function let grow past it, and why: a flat list that reads better whole.
const FLAT_LISTS: &[(&str, &str)] = &[
    // One config setting a line, each over the zone's defaults.
    ("src/config.rs", "resolve"),
];

/// What follows `fn ` on a line that declares a function, whatever its visibility and
/// qualifiers (`pub(super) async fn name` gives `name…`).
fn function_after(line: &str) -> Option<&str> {
    let mut rest = line;
    for visibility in ["pub(crate) ", "pub(super) ", "pub "] {
        if let Some(after) = rest.strip_prefix(visibility) {
            rest = after;
            break;
        }
    }
    for qualifier in ["const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest);
    }
    rest.strip_prefix("fn ")
}

/// `(file:line, function, lines)` of every function of `src` (tests and `*_tests.rs` left out).
fn function_lengths() -> Vec<(String, String, usize)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for path in source_files() {
        if path.to_string_lossy().ends_with("_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = without_tests(&text).lines().collect();
        let file = path.strip_prefix(root).unwrap().display().to_string();
        for (at, line) in lines.iter().enumerate() {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let Some(after) = function_after(body) else {
                continue;
            };
            let function: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let close = format!("{indent}}}");
            if let Some(end) = lines[at..].iter().position(|l| *l == close) {
                out.push((format!("{file}:{}", at + 1), function, end + 1));
            }
        }
    }
    out
}

#[test]
fn no_function_outgrows_a_screen() {
    let lengths = function_lengths();
    assert!(
        lengths.len() > 500,
        "the source was not read: {}",
        lengths.len()
    );
    let long: Vec<String> = lengths
        .iter()
        .filter(|(place, function, lines)| {
            let file = place.split(':').next().unwrap_or_default();
            *lines > MOST_LINES && !FLAT_LISTS.contains(&(file, function.as_str()))
        })
        .map(|(place, function, lines)| format!("{place}: {function}, {lines} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "over {MOST_LINES} lines (cut them, or name a flat list in FLAT_LISTS):\n{}",
        long.join("\n")
    );
}

/// The most lines of code (not blank, not comments, unit tests left out) a source file holds:
/// a file past it has several roles, and its reader cannot tell where new work goes.
const MOST_FILE_LINES: usize = 800;

/// Files over [`MOST_FILE_LINES`], each held at a cap just above its size today, with why it
/// is one file still. Each is to be split by role (issue "the house, second step"): no file
/// may join this list, and none may grow past its cap.
const LARGE_FILES: &[(&str, usize, &str)] = &[
    ("src/lint/mod.rs", 1_900, "every lint rule in one file: to split by family (validity, risk), a rule and its cases together"),
    ("src/zonefile/mod.rs", 1_260, "the two-thread loader with its fifteen pre-checks around domain's scanner: to split into loader, pre-checks and error placement"),
    ("src/observe.rs", 890, "the plan, nameserver discovery, early transfers and reading answers: to split by stage"),
    ("src/config.rs", 870, "every setting's parse and bound: to split the zone settings and the alert settings apart"),
    ("src/zonefile/bind.rs", 860, "BIND's syntax beyond domain's: TTL units, $GENERATE, class and TTL order, generic data"),
];

/// Lines of code of `text`: not blank, not a comment, unit tests left out.
fn code_lines(text: &str) -> usize {
    without_tests(text)
        .lines()
        .filter(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with("//")
        })
        .count()
}

#[test]
fn no_file_outgrows_its_room() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut over = Vec::new();
    for path in source_files() {
        let file = path.strip_prefix(root).unwrap().display().to_string();
        let lines = code_lines(&std::fs::read_to_string(&path).unwrap());
        let cap = LARGE_FILES
            .iter()
            .find(|(name, _, _)| *name == file)
            .map_or(MOST_FILE_LINES, |(_, cap, _)| *cap);
        if lines > cap {
            over.push(format!("{file}: {lines} lines of code (at most {cap})"));
        }
    }
    assert!(
        over.is_empty(),
        "split these by role (a file over {MOST_FILE_LINES} lines has several):\n{}",
        over.join("\n")
    );
    // A file that shrank below the limit leaves the list.
    for (name, _, _) in LARGE_FILES {
        let text = std::fs::read_to_string(root.join(name)).unwrap();
        assert!(
            code_lines(&text) > MOST_FILE_LINES,
            "{name} is within {MOST_FILE_LINES} lines now: take it off LARGE_FILES"
        );
    }
}

/// ARCHITECTURE.md names every module of `src/lib.rs`, in its order: a new module is placed
/// in the map when it is made.
#[test]
fn the_architecture_names_every_module_in_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';')
        })
        .collect();
    assert!(modules.len() > 20, "lib.rs was not read: {modules:?}");
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let (_, listed) = map
        .split_once("## Modules")
        .expect("ARCHITECTURE.md has a Modules section");
    let named: Vec<&str> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| modules.contains(word))
        .collect();
    assert_eq!(
        named, modules,
        "ARCHITECTURE.md's module list and src/lib.rs differ"
    );
    for module in &modules {
        let layers = map.split("## Modules").next().unwrap_or_default();
        assert!(
            layers.contains(module),
            "{module} is in no layer of ARCHITECTURE.md"
        );
    }
}
