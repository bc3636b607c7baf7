//! `orchestra-emulator`: the emulator as its own process (the Python conformance tests start
//! it; `orchestra emulator` is the same server inside orchestra).

use std::path::PathBuf;

use orchestra_emulator::{EmulatorConfig, FaultRule};

const USAGE: &str = "usage: orchestra-emulator [--port N] [--state FILE] [--seed FILE] [--fault JSON]... [--limits on|off] [--time-scale N] [--secret-puts-are-content] [--google-soft-limits enforce|count]";

fn parse() -> Result<EmulatorConfig, String> {
    let mut config = EmulatorConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => {
                let text = value()?;
                let port: u16 = text
                    .parse()
                    .map_err(|_| format!("--port expects a number 0-65535, found '{text}'"))?;
                config.bind.set_port(port);
            }
            "--state" => config.state_file = Some(PathBuf::from(value()?)),
            "--seed" => config.seed = Some(PathBuf::from(value()?)),
            "--fault" => config.faults.push(FaultRule::parse(&value()?)?),
            "--limits" => config.limits = config.limits.with_enabled(&value()?)?,
            "--time-scale" => config.limits = config.limits.with_time_scale(&value()?)?,
            "--secret-puts-are-content" => config.limits.secret_puts_are_content = true,
            "--google-soft-limits" => {
                config.limits.google_soft_limits_enforced = match value()?.as_str() {
                    "enforce" => true,
                    "count" => false,
                    other => {
                        return Err(format!(
                            "--google-soft-limits expects 'enforce' or 'count', found '{other}'"
                        ));
                    }
                }
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = match parse() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return std::process::ExitCode::from(2);
        }
    };
    let emulator = match orchestra_emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    println!("{}", emulator.settings_text());
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("error: cannot listen for SIGTERM: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    emulator.shutdown().await;
    std::process::ExitCode::SUCCESS
}
