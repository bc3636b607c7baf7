//! The installed Firestore emulator as a child process: found through
//! `ORCHESTRA_FIRESTORE_EMULATOR` (its `cloud_firestore_emulator` launcher), the launcher
//! beside `gcloud` (`platform/cloud-firestore-emulator/`, what `gcloud emulators firestore
//! start` runs), or `gcloud emulators firestore start` itself; started on a free loopback
//! port in its own process group, waited for until it answers, and stopped with that group.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the emulator may take to answer (a JVM starting on a busy machine).
const STARTUP: Duration = Duration::from_secs(90);

/// A running Firestore emulator.
pub struct FirestoreEmulator {
    child: Child,
    port: u16,
}

/// The Firestore emulator launcher: `ORCHESTRA_FIRESTORE_EMULATOR`, else the one beside `gcloud`.
pub fn launcher() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ORCHESTRA_FIRESTORE_EMULATOR") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    let gcloud = std::env::split_paths(&path)
        .map(|dir| dir.join("gcloud"))
        .find(|p| p.is_file())?;
    let sdk = std::fs::canonicalize(gcloud)
        .ok()?
        .parent()?
        .parent()?
        .to_path_buf();
    let launcher = sdk.join("platform/cloud-firestore-emulator/cloud_firestore_emulator");
    launcher.is_file().then_some(launcher)
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether an HTTP GET / on `port` is answered 200 (the emulator answers "Ok").
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        stream,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

impl FirestoreEmulator {
    /// Starts the emulator on a free port and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let port =
            free_port().map_err(|e| format!("no free port for the Firestore emulator: {e}"))?;
        let mut command = match launcher() {
            Some(launcher) => {
                let mut c = Command::new(launcher);
                c.args(["start", "--host=127.0.0.1", &format!("--port={port}")]);
                c
            }
            None => {
                let mut c = Command::new("gcloud");
                c.args([
                    "emulators",
                    "firestore",
                    "start",
                    &format!("--host-port=127.0.0.1:{port}"),
                ]);
                c
            }
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start the Firestore emulator ({e}): install google-cloud-cli-firestore-emulator and a Java runtime, or set ORCHESTRA_FIRESTORE_EMULATOR"
                )
            })?;
        let mut emulator = Self { child, port };
        let deadline = Instant::now() + STARTUP;
        while !answers(port) {
            if let Ok(Some(status)) = emulator.child.try_wait() {
                return Err(format!("the Firestore emulator exited at start ({status})"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the Firestore emulator did not answer on 127.0.0.1:{port} within {}s",
                    STARTUP.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(emulator)
    }

    /// `127.0.0.1:PORT`, as `FIRESTORE_EMULATOR_HOST` takes it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Its process id (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for FirestoreEmulator {
    /// Stops the whole process group (the launcher script and its JVM): SIGTERM, then
    /// SIGKILL after two seconds.
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        let group = nix::unistd::Pid::from_raw(-pid);
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Whether a playbook's source (and the stdlib modules it imports, whose text is passed
/// too) calls Firestore, directly or through `memory::`.
pub fn needed_by(sources: &[String]) -> bool {
    sources
        .iter()
        .any(|s| s.contains("firestore::") || s.contains("memory::"))
}
