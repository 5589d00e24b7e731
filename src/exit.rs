//! Exit codes, every one the binary can end with, in one place (cron, CI and scripts read
//! them; the README's table lists the same).

/// Nothing to report: every server answered and matches (check), no errors (lint), nothing
/// unexplained and no drift (recent).
pub const CLEAN: i32 = 0;
/// Drift found (check, whatever else happened), errors found (lint), or a live change no
/// commit explains still served (recent). The demo: it did not find the replayed incident.
pub const DRIFT: i32 = 1;
/// Bad usage, config, zone file or history store: nothing was audited.
pub const USAGE: i32 = 2;
/// The audit is incomplete (a server could not be asked) and the rest had no drift.
pub const INCOMPLETE: i32 = 3;
/// Another check holds the run lock: nothing was audited.
pub const LOCKED: i32 = 4;
