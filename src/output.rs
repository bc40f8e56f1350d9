//! How commands report failure, in the three styles Go opm uses (spec §0.1).
//!
//! Each Go code path prints its fatal error differently: the standard `log`
//! package (`2006/01/02 15:04:05 msg`), logrus (`time=... level=fatal
//! msg="..."`) or cobra (`Error: msg` + usage). Users grep these lines, so a
//! command names the style its Go counterpart uses and this module prints it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Go `log.Fatal`: local date and time, then the message.
    GoLog,
    /// logrus `Fatal` with the text formatter.
    Logrus,
    /// cobra `RunE` error: `Error: <msg>` followed by the usage text.
    Cobra,
    /// Already printed (e.g. `validate -o json` reports on stdout): exit 1.
    Silent,
}

/// A command failure: Go's message, how Go prints it, and (beyond Go) where
/// in the input it happened.
#[derive(Debug)]
pub struct CommandError {
    pub style: Style,
    pub message: String,
    pub location: Option<String>,
    pub usage: Option<String>,
}

impl CommandError {
    pub fn new(style: Style, message: impl Into<String>) -> Self {
        CommandError {
            style,
            message: message.into(),
            location: None,
            usage: None,
        }
    }

    pub fn with_location(mut self, loc: Option<impl fmt::Display>) -> Self {
        self.location = loc.map(|l| l.to_string());
        self
    }
}

pub type CmdResult = Result<(), CommandError>;

/// Print the error in its style on stderr.
pub fn report(err: &CommandError) {
    let mut s = String::new();
    match err.style {
        Style::GoLog => {
            s.push_str(&go_log_prefix());
            s.push_str(&err.message);
            s.push('\n');
        }
        Style::Logrus => {
            s.push_str(&logrus_line("fatal", &err.message));
        }
        Style::Cobra => {
            s.push_str("Error: ");
            s.push_str(&err.message);
            s.push('\n');
            if let Some(u) = &err.usage {
                s.push_str(u);
                if !u.ends_with('\n') {
                    s.push('\n');
                }
            }
        }
        Style::Silent => {}
    }
    if let Some(loc) = &err.location {
        s.push_str(&format!("  --> {loc}\n"));
    }
    eprint!("{s}");
}

/// A logrus text-formatter line (not a terminal): `time="…" level=… msg=…`.
pub fn logrus_line(level: &str, msg: &str) -> String {
    format!(
        "time=\"{}\" level={level} msg={}\n",
        rfc3339_now(),
        logrus_quote(msg)
    )
}

/// A logrus text-formatter line with fields: `time`, `level` and `msg`
/// first, then the fields sorted by key, each value quoted as logrus does.
pub fn logrus_line_fields(level: &str, msg: &str, fields: &[(String, String)]) -> String {
    let mut line = logrus_line(level, msg);
    line.pop();
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in sorted {
        line.push(' ');
        line.push_str(k);
        line.push('=');
        line.push_str(&logrus_quote(v));
    }
    line.push('\n');
    line
}

/// logrus quotes a value unless every character is in `[A-Za-z0-9-._/@^+]`.
fn logrus_quote(msg: &str) -> String {
    let plain = !msg.is_empty()
        && msg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if plain {
        msg.to_string()
    } else {
        go_strconv_quote(msg)
    }
}

/// Go `strconv.Quote` (`%q`).
pub fn go_strconv_quote(s: &str) -> String {
    crate::encoding::go_quote(s)
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc())
}

fn go_log_prefix() -> String {
    let t = now();
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02} ",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The current local time as RFC 3339 with seconds, as Go formats `time.RFC3339`.
pub fn rfc3339_now() -> String {
    let t = now();
    let off = t.offset();
    let tz = if off.is_utc() {
        "Z".to_string()
    } else {
        let (h, m, _) = off.as_hms();
        format!(
            "{}{:02}:{:02}",
            if h < 0 || m < 0 { '-' } else { '+' },
            h.abs(),
            m.abs()
        )
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{tz}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logrus_quotes_like_go() {
        assert_eq!(
            logrus_quote("plain-text_1.0/x@y^z+w"),
            "plain-text_1.0/x@y^z+w"
        );
        assert_eq!(logrus_quote("has space"), "\"has space\"");
        assert_eq!(logrus_quote("a \"b\"\nc"), "\"a \\\"b\\\"\\nc\"");
    }
}
