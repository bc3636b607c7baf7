//! Requests per second the emulator serves on keep-alive connections with a few concurrent
//! clients: Secret Manager `versions/latest:access`, and a GitHub Actions secret PUT whose
//! sealed box the emulator opens. Prints figures; asserts nothing.
//!
//! `cargo bench -p orchestra-emulator` (release). Clients run in the same process, so the
//! figures include their cost: the server alone is faster.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

const TOKEN: &str = "ghp_orchestraDemoToken0000000000000000";
const CLIENTS: usize = 4;
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);
/// Distinct sealed values the PUT clients cycle through (sealing is the client's cost).
const SEALED_VALUES: usize = 256;

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot build a runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

async fn run() -> Result<(), Failure> {
    // The server's own speed: GitHub's secondary limits would refuse most of these requests.
    let emulator = orchestra_emulator::start(orchestra_emulator::EmulatorConfig {
        limits: orchestra_emulator::LimitSettings {
            enabled: false,
            ..orchestra_emulator::LimitSettings::default()
        },
        ..orchestra_emulator::EmulatorConfig::default()
    })
    .await?;
    let base = emulator.base_url();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()?;
    prepare(&client, &base).await?;

    let access_url =
        format!("{base}/v1/projects/demo-project/secrets/bench/versions/latest:access");
    let access = measure("secret access (GET versions/latest:access)", |_, _| {
        client.get(&access_url).send()
    })
    .await?;

    let key: Value = client
        .get(format!("{base}/repos/acme/api/actions/secrets/public-key"))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let public = key["key"].as_str().ok_or("public key has no key")?;
    let key_id = key["key_id"].as_str().ok_or("public key has no key_id")?;
    let bodies: Vec<String> = (0..SEALED_VALUES)
        .map(|i| seal(public, format!("bench value {i}").as_bytes()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|sealed| json!({"encrypted_value": sealed, "key_id": key_id}).to_string())
        .collect();
    let put = measure("sealed-box PUT (actions/secrets/NAME)", |worker, i| {
        client
            .put(format!(
                "{base}/repos/acme/api/actions/secrets/BENCH_{worker}"
            ))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(bodies[i % bodies.len()].clone())
            .send()
    })
    .await?;

    println!();
    println!("emulator throughput, {CLIENTS} concurrent keep-alive clients, {MEASURE:?} each:");
    println!("{access}");
    println!("{put}");
    emulator.shutdown().await;
    Ok(())
}

/// A secret with one version to access, and a rate-limit window the PUTs cannot exhaust.
async fn prepare(client: &reqwest::Client, base: &str) -> Result<(), Failure> {
    let created = client
        .post(format!(
            "{base}/v1/projects/demo-project/secrets?secretId=bench"
        ))
        .json(&json!({"replication": {"automatic": {}}}))
        .send()
        .await?;
    if !created.status().is_success() {
        return Err(format!("create secret: {}", created.status()).into());
    }
    let data = STANDARD.encode(b"benchmark payload");
    let added = client
        .post(format!(
            "{base}/v1/projects/demo-project/secrets/bench:addVersion"
        ))
        .json(&json!({"payload": {"data": data}}))
        .send()
        .await?;
    if !added.status().is_success() {
        return Err(format!("add version: {}", added.status()).into());
    }
    let window = client
        .post(format!("{base}/_emulator/github/rate-limit"))
        .json(&json!({"token": TOKEN, "limit": 4_000_000_000u32, "remaining": 4_000_000_000u32}))
        .send()
        .await?;
    if !window.status().is_success() {
        return Err(format!("rate window: {}", window.status()).into());
    }
    Ok(())
}

fn seal(public_b64: &str, value: &[u8]) -> Result<String, Failure> {
    let key: [u8; 32] = STANDARD
        .decode(public_b64)?
        .try_into()
        .map_err(|_| "public key is not 32 bytes")?;
    let sealed = crypto_box::PublicKey::from_bytes(key)
        .seal(&mut crypto_box::aead::OsRng, value)
        .map_err(|e| format!("seal: {e}"))?;
    Ok(STANDARD.encode(sealed))
}

/// Runs `CLIENTS` workers sending `request(worker, i)` back to back: a warm-up, then
/// `MEASURE`; every answer must be a success.
async fn measure<F, Fut>(label: &str, request: F) -> Result<String, Failure>
where
    F: Fn(usize, usize) -> Fut + Sync,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    for phase in [WARM_UP, MEASURE] {
        let started = Instant::now();
        let workers = (0..CLIENTS).map(|worker| {
            let request = &request;
            async move {
                let mut done = 0usize;
                while started.elapsed() < phase {
                    let response = request(worker, done).await?;
                    let status = response.status();
                    response.bytes().await?;
                    if !status.is_success() {
                        return Err::<usize, Failure>(format!("{label}: answer {status}").into());
                    }
                    done += 1;
                }
                Ok(done)
            }
        });
        let counts = futures_join_all(workers).await?;
        if phase == MEASURE {
            let total: usize = counts.iter().sum();
            let elapsed = started.elapsed().as_secs_f64();
            return Ok(format!(
                "  {label:<45} {:>9.0} requests/s  ({total} in {elapsed:.2} s)",
                total as f64 / elapsed
            ));
        }
    }
    Err("no measurement".into())
}

/// Polls every worker concurrently on this task (no spawning, so borrowed closures work).
async fn futures_join_all<Fut>(workers: impl Iterator<Item = Fut>) -> Result<Vec<usize>, Failure>
where
    Fut: std::future::Future<Output = Result<usize, Failure>>,
{
    let mut set: Vec<std::pin::Pin<Box<Fut>>> = workers.map(Box::pin).collect();
    let mut results: Vec<Option<usize>> = vec![None; set.len()];
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, future) in results.iter_mut().zip(set.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match future.as_mut().poll(cx) {
                std::task::Poll::Ready(Ok(n)) => *slot = Some(n),
                std::task::Poll::Ready(Err(e)) => return std::task::Poll::Ready(Err(e)),
                std::task::Poll::Pending => pending = true,
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(Ok(()))
        }
    })
    .await?;
    Ok(results.into_iter().flatten().collect())
}
