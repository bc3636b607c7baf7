//! Log output through tracing: text or JSON on stderr, optionally a log file, every line passed
//! through the redaction layer before it is written.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;
use crate::secret::mask::mask;

/// How much to log, from `-q` / `-v` counts.
#[derive(Debug, Clone, Copy)]
pub struct Verbosity {
    /// Times `-v` was given.
    pub verbose: u8,
    /// Whether `-q` was given.
    pub quiet: bool,
}

impl Verbosity {
    fn directive(self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn,orchestra=info,playbook=info",
            (false, 1) => "info,orchestra=debug,playbook=debug",
            (false, _) => "debug,orchestra=trace,playbook=trace",
        }
    }
}

/// A writer that masks known secret values in everything written through it.
pub struct Redacting<W: Write>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(mask(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// stderr, written between the frames of any progress bar on it.
pub struct StderrBetweenBars;

impl Write for StderrBetweenBars {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        crate::progress::suspend(|| io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Wraps a [`MakeWriter`] so every writer it makes redacts.
pub struct RedactingMakeWriter<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = Redacting<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        Redacting(self.0.make_writer())
    }
}

/// Installs the global subscriber. `RUST_LOG` overrides the verbosity flags.
pub fn init(verbosity: Verbosity, format: LogFormat, file: Option<&Path>) -> Result<(), String> {
    let filter = || {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(verbosity.directive()))
    };
    let file_writer = match file {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
            Some(RedactingMakeWriter(Mutex::new(file)))
        }
        None => None,
    };
    let stderr = RedactingMakeWriter(|| StderrBetweenBars);
    let ansi = io::stderr().is_terminal();
    let registry = tracing_subscriber::registry().with(filter());
    match format {
        LogFormat::Text => {
            let terminal = tracing_subscriber::fmt::layer()
                .with_writer(stderr)
                .with_target(false)
                .without_time()
                .with_ansi(ansi);
            let file_layer = file_writer.map(|w| {
                tracing_subscriber::fmt::layer()
                    .with_writer(w)
                    .with_ansi(false)
            });
            registry.with(terminal).with(file_layer).try_init()
        }
        LogFormat::Json => {
            let terminal = tracing_subscriber::fmt::layer().json().with_writer(stderr);
            let file_layer =
                file_writer.map(|w| tracing_subscriber::fmt::layer().json().with_writer(w));
            registry.with(terminal).with(file_layer).try_init()
        }
    }
    .map_err(|e| format!("cannot install the logger: {e}"))
}
