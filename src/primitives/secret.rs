//! `secret::` — making [`Secret`] values: from an allowed environment variable, or fresh random.
//!
//! Knows the scope rules for environment variables; knows nothing of where secrets go.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rhai::Dynamic;

use crate::config::Config;
use crate::engine::RunContext;
use crate::engine::gate::{ModuleBuilder, ParamType, PrimitiveError, Signature};
use crate::secret::Secret;

/// Fewest random bytes `generate` makes: less is not a secret worth the name.
pub const MIN_GENERATED_BYTES: i64 = 16;
/// Most random bytes `generate` makes.
pub const MAX_GENERATED_BYTES: i64 = 4096;

/// Reads the environment variable `name` as a Secret, if `[scope].env` allows it.
pub fn from_env(context: &RunContext, name: &str) -> Result<Secret, PrimitiveError> {
    check_env_scope(context.config(), name)?;
    let value = std::env::var_os(name)
        .ok_or_else(|| PrimitiveError::new(format!("environment variable {name} is not set")))?;
    let bytes = value.into_encoded_bytes();
    let key = context.fingerprint_key()?;
    Ok(Secret::new(bytes, key))
}

/// Reads one line from standard input as a Secret (the trailing newline dropped), telling the
/// operator on stderr what is wanted. Refused when stdin is a closed or empty stream (cron,
/// CI): the value must then come from the environment or Secret Manager.
pub fn from_stdin(context: &RunContext, prompt: &str) -> Result<Secret, PrimitiveError> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let _quiet = if stdin.is_terminal() {
        eprint!("{prompt} (not shown): ");
        EchoOff::on(&stdin)
    } else {
        None
    };
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| PrimitiveError::new(format!("cannot read standard input: {e}")))?;
    let value = line.trim_end_matches(['\r', '\n']);
    if value.is_empty() {
        return Err(PrimitiveError::new(format!(
            "nothing on standard input for \"{prompt}\": pipe the value in, or take it from the environment or Secret Manager"
        )));
    }
    Ok(Secret::new(
        value.as_bytes().to_vec(),
        context.fingerprint_key()?,
    ))
}

/// While alive, the terminal does not echo what is typed; the old settings come back on drop.
struct EchoOff {
    fd: std::os::fd::OwnedFd,
    saved: nix::sys::termios::Termios,
}

impl EchoOff {
    fn on(stdin: &std::io::Stdin) -> Option<Self> {
        use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
        use std::os::fd::AsFd;
        let fd = stdin.as_fd().try_clone_to_owned().ok()?;
        let saved = tcgetattr(&fd).ok()?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(&fd, SetArg::TCSANOW, &quiet).ok()?;
        Some(Self { fd, saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ =
            nix::sys::termios::tcsetattr(&self.fd, nix::sys::termios::SetArg::TCSANOW, &self.saved);
        eprintln!();
    }
}

/// Refuses an environment variable that `orchestra.toml` does not list.
pub fn check_env_scope(config: &Config, name: &str) -> Result<(), PrimitiveError> {
    if config.scope.env.iter().any(|allowed| allowed == name) {
        Ok(())
    } else {
        Err(PrimitiveError::new(format!(
            "environment variable {name} is outside the scope: add \"{name}\" to [scope].env in orchestra.toml"
        )))
    }
}

/// A new random secret of `n_bytes` bytes, written as URL-safe base64 text.
pub fn generate(context: &RunContext, n_bytes: i64) -> Result<Secret, PrimitiveError> {
    if !(MIN_GENERATED_BYTES..=MAX_GENERATED_BYTES).contains(&n_bytes) {
        return Err(PrimitiveError::new(format!(
            "n_bytes must be between {MIN_GENERATED_BYTES} and {MAX_GENERATED_BYTES}, found {n_bytes}"
        )));
    }
    let mut bytes = zeroize::Zeroizing::new(vec![0u8; n_bytes as usize]);
    getrandom::fill(&mut bytes)
        .map_err(|e| PrimitiveError::new(format!("no randomness available: {e}")))?;
    let text = URL_SAFE_NO_PAD.encode(bytes.as_slice());
    Ok(Secret::new(text.into_bytes(), context.fingerprint_key()?))
}

/// Registers `secret::`.
pub fn register(mut module: ModuleBuilder) -> ModuleBuilder {
    module.local(
        Signature {
            name: "from_env",
            params: &[("name", ParamType::Str)],
            returns: "Secret",
            doc: "Reads environment variable `name` as a Secret.\n\
                  The name must be listed in [scope].env in orchestra.toml.",
        },
        |context, args| Ok(Dynamic::from(from_env(context, &args.str(0)?)?)),
    );
    module.local(
        Signature {
            name: "from_stdin",
            params: &[("prompt", ParamType::Str)],
            returns: "Secret",
            doc: "Reads one line of standard input as a Secret (on a terminal, `prompt` is shown on\n\
                  stderr and the line is the operator's typing). Empty input is an error.",
        },
        |context, args| Ok(Dynamic::from(from_stdin(context, &args.str(0)?)?)),
    );
    module.local(
        Signature {
            name: "generate",
            params: &[("n_bytes", ParamType::Int)],
            returns: "Secret",
            doc: "A new random Secret of `n_bytes` random bytes (16 to 4096), as URL-safe base64 text.",
        },
        |context, args| Ok(Dynamic::from(generate(context, args.int(0)?)?)),
    );
    module
}
