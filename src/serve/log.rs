//! Structured log records of `serve`, shaped like Go opm's logrus records
//! (spec opm-validate-serve-grpc.md §3.4–§3.5). The library only builds
//! records; the command decides where and how they are written.

use std::sync::Arc;

/// logrus levels, in increasing severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// logrus' level names (`warning`, not `warn`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

/// Where records go: `(level, message, fields)`.
pub type Sink = dyn Fn(Level, &str, &[(String, String)]) + Send + Sync;

/// A cheap, clonable handle on the command's sink, with a minimum level.
#[derive(Clone)]
pub struct Logger {
    sink: Arc<Sink>,
    min: Level,
}

impl Logger {
    pub fn new(min: Level, sink: Arc<Sink>) -> Logger {
        Logger { sink, min }
    }

    /// A logger that drops everything (tests, library use).
    pub fn discard() -> Logger {
        Logger {
            sink: Arc::new(|_, _, _| {}),
            min: Level::Fatal,
        }
    }

    pub fn log(&self, level: Level, msg: &str, fields: &[(&str, String)]) {
        if level < self.min {
            return;
        }
        let owned: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        (self.sink)(level, msg, &owned);
    }

    pub fn log_owned(&self, level: Level, msg: &str, fields: &[(String, String)]) {
        if level >= self.min {
            (self.sink)(level, msg, fields);
        }
    }

    pub fn info(&self, msg: &str, fields: &[(&str, String)]) {
        self.log(Level::Info, msg, fields);
    }

    pub fn warn(&self, msg: &str, fields: &[(&str, String)]) {
        self.log(Level::Warn, msg, fields);
    }
}
