//! `orchestra env`: where orchestra thinks it runs, the signals that decided it, the profile
//! laid over the config and the endpoints it resolves to.

use clap::Args;
use serde_json::json;

use crate::config::Config;
use crate::error::HostError;
use crate::exit::ExitStatus;

/// Arguments of `orchestra env`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  orchestra env                      # environment, signals, profile, endpoints
  orchestra env --json
  orchestra env --probe              # also ask the GCE metadata server (300 ms at most)
  ORCHESTRA_ENV=staging orchestra env
  orchestra --profile ci env")]
pub struct EnvArgs {
    /// Print as JSON
    #[arg(long)]
    json: bool,

    /// Also probe the GCE metadata server when no variable decides
    #[arg(long)]
    probe: bool,
}

/// Runs `orchestra env`.
pub fn run(args: &EnvArgs, config: &Config) -> Result<ExitStatus, HostError> {
    let environment = if args.probe {
        crate::config::environment::detect(true)
    } else {
        config.environment.clone()
    };
    let endpoints: Vec<(String, Result<String, String>)> = config
        .endpoints
        .keys()
        .map(|name| (name.clone(), config.endpoint(name).map(str::to_owned)))
        .collect();
    if args.json {
        let endpoints: serde_json::Map<String, serde_json::Value> = endpoints
            .into_iter()
            .map(|(name, url)| (name, url.map_or_else(|e| json!({"error": e}), |u| json!(u))))
            .collect();
        println!(
            "{}",
            json!({
                "format_version": 1,
                "environment": environment.name,
                "kind": environment.kind,
                "signals": environment.signals,
                "profile": config.profile,
                "profiles": config.profiles.keys().collect::<Vec<_>>(),
                "endpoints": endpoints,
            })
        );
        return Ok(ExitStatus::Success);
    }
    println!("environment: {}", environment.name);
    if environment.signals.is_empty() {
        println!("signals:     none (no platform variable set)");
    }
    for signal in &environment.signals {
        println!("signal:      {signal}");
    }
    match &config.profile {
        Some(profile) => println!("profile:     {profile} ([profiles.{profile}] over the file)"),
        None => println!(
            "profile:     none (no [profiles.{}] in the config)",
            environment.name
        ),
    }
    for (name, url) in endpoints {
        match url {
            Ok(url) => println!("endpoint:    {name} = {url}"),
            Err(e) => println!("endpoint:    {name}: {e}"),
        }
    }
    Ok(ExitStatus::Success)
}
