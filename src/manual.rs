//! The manual: dns-audit(1) and one page per subcommand (dns-audit-check(1), ...), made from
//! the flags and their help by clap_mangen, with the sections a manual needs that flags do not
//! say (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, SEE ALSO).

/// Every page as (file name, roff), the main page first.
pub fn pages(command: clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let subcommands: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .filter(|name| name != "help")
        .collect();
    let mut main = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut main)?;
    main.extend_from_slice(MAIN_SECTIONS.as_bytes());
    let see_also: Vec<String> = subcommands
        .iter()
        .map(|name| format!("\\fBdns\\-audit\\-{name}\\fR(1)"))
        .collect();
    main.extend_from_slice(format!(".SH \"SEE ALSO\"\n{}\n", see_also.join(", ")).as_bytes());
    let mut pages = vec![("dns-audit.1".to_string(), main)];
    for name in &subcommands {
        let Some(sub) = command.find_subcommand(name) else {
            continue;
        };
        let sub = sub
            .clone()
            .name(format!("dns-audit-{name}"))
            .bin_name(format!("dns-audit {name}"));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        page.extend_from_slice(
            ".SH \"EXIT STATUS\"\nAs dns\\-audit(1) says, and the DESCRIPTION above.\n\
             .SH \"SEE ALSO\"\n\\fBdns\\-audit\\fR(1)\n"
                .as_bytes(),
        );
        pages.push((format!("dns-audit-{name}.1"), page));
    }
    Ok(pages)
}

/// The main page's sections beyond the flags, in roff.
const MAIN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
clean: every server matches expected\-records (lint: no error).
.TP
\fB1\fR
drift: a server serves something else (recent: a live change no commit explains is still
served; lint: an error finding).
.TP
\fB2\fR
bad usage, configuration, zone file or history store (with file:line:column).
.TP
\fB3\fR
incomplete: a server could not be asked (timeout, SERVFAIL, REFUSED, lame), and no drift
was seen on the rest. Never counted as matching.
.TP
\fB4\fR
another check holds the run lock of the history store (\fB\-\-wait\fR waits).
.SH ENVIRONMENT
.TP
\fBDNS_AUDIT_EXPECTED\fR
the expected\-records directory, as \fB\-\-expected\fR.
.TP
\fBDNS_AUDIT_STATE\fR
the history store, as \fB\-\-state\fR.
.TP
\fBXDG_STATE_HOME\fR, \fBHOME\fR
where the default history store lies.
.TP
\fBNO_COLOR\fR
no colour on a terminal.
.SH FILES
.TP
\fIexpected\-records/<zone>.zone\fR
the expected records, RFC 1035 zone files as BIND reads them (\fIroot.zone\fR for the root).
.TP
\fIexpected\-records/dns\-audit.toml\fR
the configuration: servers, timeouts, bounds, alerts, lint waivers.
.TP
\fI$XDG_STATE_HOME/dns\-audit/history.sqlite\fR
the history store (default; \fI~/.local/state/dns\-audit/history.sqlite\fR without
XDG_STATE_HOME); cron writes it, on\-call may read it as another user.
.SH EXAMPLES
.TP
\fBdns\-audit check \-\-quiet\fR
from cron: prints nothing when all is well.
.TP
\fBaudit recent\fR
on call: what changed lately, in git and in live DNS, unexplained changes on top.
.TP
\fBdns\-audit lint \-\-base origin/main \-\-format github\fR
in CI: validate a pull request's zone files, annotations on its lines.
.TP
\fBdns\-audit man \-\-dir /usr/local/share/man/man1\fR
install these pages.
"#;
