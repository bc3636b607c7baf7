//! Start an emulator on a free port; small helpers for requests.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use orchestra_emulator::{EmulatorConfig, RunningEmulator};
use serde_json::Value;

pub const TOKEN: &str = "ghp_orchestraDemoToken0000000000000000";

pub async fn emulator() -> RunningEmulator {
    orchestra_emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Seals `value` to the base64 public key as GitHub clients do.
pub fn seal(public_b64: &str, value: &[u8]) -> String {
    let key: [u8; 32] = STANDARD
        .decode(public_b64)
        .expect("base64 key")
        .try_into()
        .expect("32 bytes");
    let sealed = crypto_box::PublicKey::from_bytes(key)
        .seal(&mut crypto_box::aead::OsRng, value)
        .expect("seal");
    STANDARD.encode(sealed)
}

/// `GET /_emulator/state?reveal=true`.
pub async fn revealed_state(emu: &RunningEmulator) -> Value {
    client()
        .get(format!("{}/_emulator/state?reveal=true", emu.base_url()))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json")
}

/// The decoded value of an Actions secret in the emulator's state.
pub fn actions_secret_value(state: &Value, repo: &str, name: &str) -> Option<String> {
    let b64 = state["github"]["repos"][repo]["secrets"]["secrets"][name]["value"].as_str()?;
    String::from_utf8(STANDARD.decode(b64).ok()?).ok()
}
