//! State written, emulator restarted, state back.

use serde_json::json;

use orchestra_emulator::EmulatorConfig;

use crate::harness::*;

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("emulator.json");
    let config = EmulatorConfig {
        state_file: Some(state_file.clone()),
        ..EmulatorConfig::default()
    };
    let emu = orchestra_emulator::start(config.clone()).await.unwrap();
    let created = client()
        .post(format!(
            "{}/v1/projects/demo-project/secrets?secretId=kept",
            emu.google_url()
        ))
        .json(&json!({"replication": {"automatic": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let demo_key = emu.demo_credentials().app_private_key;
    emu.shutdown().await;
    assert!(state_file.exists());

    let again = orchestra_emulator::start(config).await.unwrap();
    let got = client()
        .get(format!(
            "{}/v1/projects/demo-project/secrets/kept",
            again.google_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        again.demo_credentials().app_private_key,
        demo_key,
        "the same demo world, keys included"
    );
}

#[tokio::test]
async fn every_change_is_on_disk_before_shutdown_and_a_saved_file_seeds_a_fresh_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("live.json");
    let emu = orchestra_emulator::start(EmulatorConfig {
        state_file: Some(state_file.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let key: serde_json::Value = client()
        .post(format!(
            "{}/v1/projects/-/serviceAccounts/deployer@demo-project.iam.gserviceaccount.com/keys",
            emu.google_url()
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key_file = key["privateKeyData"].clone();

    // No shutdown: as after a crash, the file already holds the new key.
    let seeded = orchestra_emulator::start(EmulatorConfig {
        seed: Some(state_file.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let verdict: serde_json::Value = client()
        .post(format!("{}/_emulator/verify", seeded.base_url()))
        .json(&json!({"key_file": key_file}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["works"], true, "{verdict}");
    seeded.shutdown().await;
    emu.shutdown().await;
}
