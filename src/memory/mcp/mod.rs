//! The MCP memory backend: a Model Context Protocol memory server (the reference
//! `@modelcontextprotocol/server-memory`), started by orchestra from `[memory.mcp] command`
//! and spoken to over its stdin and stdout with the `rmcp` client. [`mapping`] documents how
//! keys and values become entities and observations.
//!
//! The server is started on first use and kept for the process; a call that finds it dead or
//! silent drops the connection and reports the backend unreachable, and the next call that
//! is let through starts it again.

pub mod mapping;

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use super::{BackendError, Listed, MemoryBackend, MemoryEntry, MemoryKey, MemoryPrefix};
use crate::config::McpMemorySettings;

/// A running server and its process id.
struct Connection {
    service: RunningService<RoleClient, ()>,
    pid: Option<u32>,
}

/// Memory in an MCP memory server.
pub struct McpBackend {
    settings: McpMemorySettings,
    runtime: tokio::runtime::Handle,
    connection: Mutex<Option<Connection>>,
}

fn seconds(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

impl McpBackend {
    /// A backend that starts `settings.command` on `runtime` when first used.
    pub fn new(settings: McpMemorySettings, runtime: tokio::runtime::Handle) -> Self {
        Self {
            settings,
            runtime,
            connection: Mutex::new(None),
        }
    }

    fn program(&self) -> &str {
        self.settings.command.first().map_or("", String::as_str)
    }

    /// Starts the server and completes the MCP handshake, within the handshake timeout.
    fn connect(&self) -> Result<Connection, BackendError> {
        let program = self.program().to_owned();
        let mut command = tokio::process::Command::new(&program);
        command
            .args(self.settings.command.iter().skip(1))
            .envs(&self.settings.env)
            .kill_on_drop(true);
        let timeout = self.settings.handshake_timeout;
        self.runtime.block_on(async {
            let (transport, stderr) = TokioChildProcess::builder(command)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| {
                    BackendError::Unreachable(if e.kind() == std::io::ErrorKind::NotFound {
                        format!("cannot start the MCP memory server: `{program}` is not installed or not on PATH")
                    } else {
                        format!("cannot start the MCP memory server `{program}`: {e}")
                    })
                })?;
            let pid = transport.id();
            if let Some(stderr) = stderr {
                tokio::spawn(forward_stderr(stderr));
            }
            match tokio::time::timeout(timeout, ().serve(transport)).await {
                Ok(Ok(service)) => {
                    tracing::info!(
                        "started the MCP memory server `{program}` (pid {})",
                        pid.map_or("unknown".to_owned(), |p| p.to_string())
                    );
                    Ok(Connection { service, pid })
                }
                Ok(Err(e)) => Err(BackendError::Unreachable(format!(
                    "the MCP memory server `{program}` failed its handshake: {e}"
                ))),
                Err(_) => Err(BackendError::Unreachable(format!(
                    "the MCP memory server `{program}` did not finish its handshake within {}",
                    seconds(timeout)
                ))),
            }
        })
    }

    /// Calls `tool` with `arguments`; the structured answer (or its text parsed as JSON).
    fn call(&self, tool: &'static str, arguments: Value) -> Result<Value, BackendError> {
        let mut guard = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.connect()?);
        }
        let Some(connection) = guard.as_ref() else {
            return Err(BackendError::Unreachable("no connection".to_owned()));
        };
        let Value::Object(arguments) = arguments else {
            return Err(BackendError::Refused(format!(
                "{tool}: arguments must be an object"
            )));
        };
        let params = CallToolRequestParams::new(tool).with_arguments(arguments);
        let timeout = self.settings.call_timeout;
        let pid = connection
            .pid
            .map_or("unknown".to_owned(), |p| p.to_string());
        let answer = self.runtime.block_on(async {
            tokio::time::timeout(timeout, connection.service.call_tool(params)).await
        });
        let result = match answer {
            Ok(Ok(result)) => result,
            Ok(Err(rmcp::ServiceError::McpError(e))) => {
                return Err(BackendError::Refused(format!("{tool}: {}", e.message)));
            }
            Ok(Err(e)) => {
                self.disconnect(&mut guard);
                return Err(BackendError::Unreachable(format!(
                    "the MCP memory server (pid {pid}) stopped answering: {e}"
                )));
            }
            Err(_) => {
                self.disconnect(&mut guard);
                return Err(BackendError::Unreachable(format!(
                    "the MCP memory server (pid {pid}) did not answer {tool} within {}",
                    seconds(timeout)
                )));
            }
        };
        let text = || {
            result
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if result.is_error == Some(true) {
            return Err(BackendError::Refused(format!("{tool}: {}", text())));
        }
        match result.structured_content.clone() {
            Some(value) => Ok(value),
            None => Ok(serde_json::from_str(&text()).unwrap_or(Value::Null)),
        }
    }

    /// Drops the connection, stopping the server if it still runs.
    fn disconnect(&self, guard: &mut Option<Connection>) {
        if let Some(connection) = guard.take() {
            let _entered = self.runtime.enter();
            drop(connection);
        }
    }

    fn open(&self, key: &MemoryKey) -> Result<Vec<mapping::Entity>, BackendError> {
        let answer = self.call("open_nodes", json!({ "names": [key.as_str()] }))?;
        mapping::entities(answer).map_err(BackendError::Refused)
    }
}

/// Passes the server's stderr to the log at debug level.
async fn forward_stderr(stderr: tokio::process::ChildStderr) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!("MCP memory server: {line}");
    }
}

impl Drop for McpBackend {
    fn drop(&mut self) {
        let mut guard = self.connection.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pid) = guard.as_ref().and_then(|c| c.pid) {
            // The child's own cleanup needs a running runtime, which may already be gone.
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        self.disconnect(&mut guard);
    }
}

impl MemoryBackend for McpBackend {
    fn name(&self) -> &'static str {
        "mcp"
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn store(&self, key: &MemoryKey, entry: &MemoryEntry) -> Result<(), BackendError> {
        self.call("delete_entities", json!({ "entityNames": [key.as_str()] }))?;
        self.call(
            "create_entities",
            json!({ "entities": [mapping::entity(key.as_str(), entry)] }),
        )?;
        Ok(())
    }

    fn retrieve(&self, key: &MemoryKey) -> Result<Option<MemoryEntry>, BackendError> {
        Ok(self
            .open(key)?
            .iter()
            .filter(|e| e.name == key.as_str())
            .find_map(mapping::entry_of))
    }

    fn forget(&self, key: &MemoryKey) -> Result<bool, BackendError> {
        let now = crate::clock::now_ms();
        let existed = self
            .open(key)?
            .iter()
            .filter(|e| e.name == key.as_str())
            .filter_map(mapping::entry_of)
            .any(|e| e.is_live(now));
        self.call("delete_entities", json!({ "entityNames": [key.as_str()] }))?;
        Ok(existed)
    }

    fn list(
        &self,
        prefix: &MemoryPrefix,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Listed>, BackendError> {
        let answer = if prefix.as_str().is_empty() {
            self.call("read_graph", json!({}))?
        } else {
            self.call("search_nodes", json!({ "query": prefix.as_str() }))?
        };
        let mut listed: Vec<Listed> = mapping::entities(answer)
            .map_err(BackendError::Refused)?
            .iter()
            .filter(|e| prefix.matches(&e.name))
            .filter_map(|e| {
                let entry = mapping::entry_of(e)?;
                let key = MemoryKey::parse(&e.name).ok()?;
                entry.is_live(now_ms).then_some(Listed { key, entry })
            })
            .collect();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        listed.truncate(limit);
        Ok(listed)
    }

    fn ping(&self) -> Result<(), BackendError> {
        self.call("open_nodes", json!({ "names": [] })).map(|_| ())
    }
}
