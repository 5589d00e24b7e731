//! Zones signed at test time with BIND's tools (bind9-utils: dnssec-keygen, dnssec-signzone,
//! dnssec-dsfromkey), as an operator signs them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tool of BIND's, or None: the test then skips, except under CI where it fails.
pub fn bind_tool(name: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.exists());
    if found.is_none() && std::env::var_os("CI").is_some() {
        panic!("{name} is required under CI=true (apt-get install -y bind9-utils): .ci/run installs it");
    }
    if found.is_none() {
        eprintln!("{name} not installed: skipping (apt-get install -y bind9-utils)");
    }
    found
}

fn run_tool(tool: &Path, args: &[&str], dir: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The keys of one zone (a key-signing and a zone-signing key, ECDSA P-256), kept in a
/// directory of their own for as long as the signer lives.
pub struct Signer {
    dir: tempfile::TempDir,
    origin: String,
    ksk: String,
    signzone: PathBuf,
    dsfromkey: PathBuf,
}

impl Signer {
    /// New keys for `origin`; None when BIND's tools are not installed (outside CI).
    pub fn new(origin: &str) -> Option<Signer> {
        let keygen = bind_tool("dnssec-keygen")?;
        let signzone = bind_tool("dnssec-signzone")?;
        let dsfromkey = bind_tool("dnssec-dsfromkey")?;
        let dir = tempfile::tempdir().unwrap();
        let ksk = run_tool(
            &keygen,
            &[
                "-q",
                "-a",
                "ECDSAP256SHA256",
                "-f",
                "KSK",
                "-n",
                "ZONE",
                origin,
            ],
            dir.path(),
        );
        run_tool(
            &keygen,
            &["-q", "-a", "ECDSAP256SHA256", "-n", "ZONE", origin],
            dir.path(),
        );
        Some(Signer {
            dir,
            origin: origin.to_string(),
            ksk,
            signzone,
            dsfromkey,
        })
    }

    /// `text` signed with the keys (NSEC, or NSEC3 with no extra iteration and no salt), one
    /// record per line with full names. Every signing makes new signatures (ECDSA's are
    /// randomised), with the same keys.
    pub fn sign(&self, text: &str, nsec3: bool) -> String {
        let dir = self.dir.path();
        std::fs::write(dir.join("zone"), text).unwrap();
        let mut args = vec!["-q", "-S", "-K", ".", "-O", "full", "-o", &self.origin];
        if nsec3 {
            args.extend(["-3", "-"]);
        }
        args.extend(["-f", "zone.signed", "zone"]);
        run_tool(&self.signzone, &args, dir);
        std::fs::read_to_string(dir.join("zone.signed")).unwrap()
    }

    /// The DS (SHA-256) of the key-signing key, as the parent zone publishes it.
    pub fn ds(&self) -> String {
        run_tool(
            &self.dsfromkey,
            &["-2", &format!("{}.key", self.ksk)],
            self.dir.path(),
        )
    }
}
