//! The process exit codes orchestra documents, so scripts and CI can tell failures apart.

/// What a finished command reports to the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command did what was asked.
    Success,
    /// The playbook ran and failed: a runtime error, a sandbox limit or its time-out.
    PlaybookFailed,
    /// `migrate verify` found the cloud differing from what the migration declares (2, as
    /// Terraform's `-detailed-exitcode`; only `migrate verify` ends with it).
    Drift,
    /// Bad usage, bad configuration, or a playbook that does not compile.
    Usage,
    /// `migrate verify` could not verify: any error, whatever its class (1, as Terraform's
    /// `-detailed-exitcode`, so that it is never read as drift).
    Error,
    /// Another run holds the lock this run needs.
    LockHeld,
    /// orchestra itself could not work: the state database or the file system failed.
    Internal,
    /// The run was stopped by Ctrl-C or SIGTERM.
    Interrupted,
}

impl ExitStatus {
    /// The numeric code handed to the operating system.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::PlaybookFailed => 1,
            Self::Drift => 2,
            Self::Usage => 2,
            Self::Error => 1,
            Self::LockHeld => 3,
            Self::Internal => 4,
            Self::Interrupted => 130,
        }
    }
}

/// The exit-code table shown in `--help` and README.md.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done
  1    the playbook failed (runtime error, sandbox limit, time-out); `migrate verify`: any error
  2    usage, configuration or compile error; `migrate verify`: drift found
  3    lock held by another run
  4    internal error (state database, file system)
  130  interrupted (Ctrl-C or SIGTERM)";
