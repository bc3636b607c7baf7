//! `orchestra memory`: read and write `memory::` entries from the shell, and see the backend's
//! health, the outbox and the cache. Each command is one call through [`crate::memory::Memory`],
//! so it degrades, queues and flushes exactly as a playbook does.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::render;
use crate::error::HostError;
use crate::exit::ExitStatus;
use crate::memory::{Memory, MemoryEntry, MemoryError, MemoryKey, MemoryPrefix, Written};
use crate::runner::Host;
use crate::secret::mask::mask;

/// Arguments of `orchestra memory`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra memory get agent/last_run
  orchestra memory get agent/last_run --json
  orchestra memory put agent/notes '{\"x\":1}' --ttl 1h
  orchestra memory list agent/ --limit 20
  orchestra memory forget agent/notes
  orchestra memory status

`get` exits 1 when there is no live entry under the key.")]
pub struct MemoryArgs {
    #[command(subcommand)]
    action: MemoryAction,
}

#[derive(Debug, Subcommand)]
enum MemoryAction {
    /// Print the value under KEY (JSON)
    Get {
        /// The key, e.g. agent/last_run
        key: String,
        /// Print key, value and expiry as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Store a JSON value under KEY
    Put {
        /// The key, e.g. agent/notes
        key: String,
        /// The value, as JSON: '{"x":1}', '"text"', 42
        value: String,
        /// Time to live, e.g. 5m, 1h, 7d
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
    },
    /// List the live entries whose key starts with PREFIX
    List {
        /// The prefix, e.g. agent/ ("" for every entry)
        #[arg(default_value = "")]
        prefix: String,
        /// At most this many entries
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
    /// Forget KEY
    Forget {
        /// The key
        key: String,
    },
    /// The backend, its health, the outbox depth and the cache size
    Status {
        /// Print as JSON
        #[arg(long)]
        json: bool,
    },
}

fn memory_error(error: MemoryError) -> HostError {
    match error {
        MemoryError::InvalidKey { .. }
        | MemoryError::InvalidPrefix { .. }
        | MemoryError::Unavailable(_) => HostError::Usage(error.to_string()),
        MemoryError::Refused { .. } | MemoryError::Store(_) => HostError::Io(error.to_string()),
    }
}

fn key(text: &str) -> Result<MemoryKey, HostError> {
    MemoryKey::parse(text).map_err(memory_error)
}

fn entry_json(key: &MemoryKey, entry: &MemoryEntry) -> serde_json::Value {
    serde_json::json!({
        "key": key.as_str(),
        "value": entry.value,
        "expires_at": entry.expires_at_text(),
    })
}

fn said_queued(written: Written, what: &str) {
    if written == Written::Queued {
        eprintln!(
            "{}",
            mask(&format!(
                "{what}: the memory backend is unreachable, so this waits in the outbox (`orchestra memory status`)"
            ))
        );
    }
}

/// Runs `orchestra memory`.
pub fn run(args: &MemoryArgs, host: &Host) -> Result<ExitStatus, HostError> {
    let memory: Arc<Memory> = host
        .services
        .memory(|| {
            let firestore = host
                .services
                .firestore_connector(Arc::clone(&host.config), Arc::new(|| false));
            Memory::open(
                &host.config.memory,
                &host.store,
                Some(&host.runtime),
                Some(firestore),
            )
        })
        .map_err(HostError::Usage)?;
    match &args.action {
        MemoryAction::Get { key: text, json } => {
            let key = key(text)?;
            let Some(entry) = memory.retrieve(&key, false).map_err(memory_error)? else {
                eprintln!("{}", mask(&format!("no entry under {key}")));
                return Ok(ExitStatus::PlaybookFailed);
            };
            if *json {
                render::json(&entry_json(&key, &entry));
            } else {
                println!("{}", mask(&entry.value.to_string()));
            }
        }
        MemoryAction::Put {
            key: text,
            value,
            ttl,
        } => {
            let key = key(text)?;
            let value: serde_json::Value = serde_json::from_str(value).map_err(|e| {
                HostError::Usage(format!(
                    "VALUE: expected JSON such as '{{\"x\":1}}', '\"text\"' or 42 (quote a string twice), found invalid JSON at line {} column {}",
                    e.line(),
                    e.column()
                ))
            })?;
            let expires_at = ttl.map(|ttl| {
                crate::clock::now_ms()
                    .saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
            });
            let written = memory
                .store(&key, &MemoryEntry { value, expires_at })
                .map_err(memory_error)?;
            said_queued(written, &format!("store {key}"));
            eprintln!("{}", mask(&format!("stored {key}")));
        }
        MemoryAction::List {
            prefix,
            limit,
            json,
        } => {
            let prefix = MemoryPrefix::parse(prefix).map_err(memory_error)?;
            let listed = memory
                .list(&prefix, *limit as usize, false)
                .map_err(memory_error)?;
            if *json {
                let rows: Vec<_> = listed
                    .iter()
                    .map(|l| entry_json(&l.key, &l.entry))
                    .collect();
                render::json(&rows);
            } else {
                let mut out = String::new();
                for l in &listed {
                    out.push_str(&format!(
                        "{}  {}  {}\n",
                        l.key,
                        l.entry.expires_at_text().unwrap_or_else(|| "-".to_owned()),
                        l.entry.value
                    ));
                }
                print!("{}", mask(&out));
            }
        }
        MemoryAction::Forget { key: text } => {
            let key = key(text)?;
            let (existed, written) = memory.forget(&key).map_err(memory_error)?;
            said_queued(written, &format!("forget {key}"));
            let said = if existed {
                format!("forgot {key}")
            } else {
                format!("no entry under {key} (nothing to forget)")
            };
            eprintln!("{}", mask(&said));
        }
        MemoryAction::Status { json } => {
            memory.probe(false).map_err(memory_error)?;
            let status = memory.status().map_err(memory_error)?;
            if *json {
                render::json(&status);
            } else {
                let health = match &status.reason {
                    Some(reason) => format!("{} ({reason})", status.health),
                    None => status.health.to_owned(),
                };
                let out = format!(
                    "backend  {}\nhealth   {health}\noutbox   {} write(s) waiting\ncache    {} of {} entries, ttl {}\n",
                    status.backend,
                    status.outbox,
                    status.cache_entries,
                    status.cache_capacity,
                    humantime::format_duration(Duration::from_secs(status.cache_ttl_secs)),
                );
                print!("{}", mask(&out));
            }
        }
    }
    Ok(ExitStatus::Success)
}
