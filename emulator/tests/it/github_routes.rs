//! Smaller GitHub routes: rate headers on a refused login, the App's installations, the legacy
//! `/repositories/{id}` environment route, and dispatches that return run details.

use serde_json::{Value, json};

use crate::harness::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_refused_login_still_carries_rate_headers() {
    let emu = emulator().await;
    let refused = client()
        .get(format!("{}/user", emu.github_url()))
        .bearer_auth("ghp_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["x-ratelimit-limit"], "60");
    assert_eq!(refused.headers()["x-ratelimit-used"], "1");
}

#[tokio::test]
async fn an_app_lists_its_installations_as_a_bare_array() {
    let emu = emulator().await;
    let demo = emu.demo_credentials();
    let jwt = orchestra_emulator::sign_rs256(
        &json!({"iss": demo.app_id, "iat": now() - 60, "exp": now() + 540}),
        &demo.app_private_key.unwrap(),
        None,
    )
    .unwrap();
    let list: Value = client()
        .get(format!("{}/app/installations", emu.github_url()))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let installations = list.as_array().unwrap();
    assert_eq!(installations.len(), 1);
    assert_eq!(installations[0]["id"], demo.installation_id);
    assert_eq!(installations[0]["account"]["login"], "acme");
    let one = client()
        .get(format!(
            "{}/app/installations/{}",
            emu.github_url(),
            demo.installation_id
        ))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
}

#[tokio::test]
async fn the_legacy_repository_id_route_reaches_environment_secrets() {
    let emu = emulator().await;
    let repo: Value = client()
        .get(format!("{}/repos/acme/api", emu.github_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Value = client()
        .get(format!(
            "{}/repositories/{}/environments/production/secrets",
            emu.github_url(),
            repo["id"]
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["secrets"][0]["name"], "RELEASE_TOKEN");
}

#[tokio::test]
async fn a_dispatch_can_return_run_details() {
    let emu = emulator().await;
    let response = client()
        .post(format!(
            "{}/api/v3/repos/acme/api/actions/workflows/deploy.yml/dispatches",
            emu.github_url()
        ))
        .bearer_auth(TOKEN)
        .json(&json!({"ref": "main", "return_run_details": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["workflow_run_id"].is_u64());
    assert!(body["run_url"].as_str().unwrap().starts_with(&format!(
        "{}/api/v3/repos/acme/api/actions/runs/",
        emu.base_url()
    )));
    let plain = client()
        .post(format!(
            "{}/repos/acme/api/actions/workflows/deploy.yml/dispatches",
            emu.github_url()
        ))
        .bearer_auth(TOKEN)
        .json(&json!({"ref": "main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 204);
}

#[tokio::test]
async fn a_dispatch_of_a_workflow_the_repository_lacks_is_404_until_installed() {
    let emu = emulator().await;
    let dispatch = || async {
        client()
            .post(format!(
                "{}/repos/acme/api/actions/workflows/nightly.yml/dispatches",
                emu.github_url()
            ))
            .bearer_auth(TOKEN)
            .json(&json!({"ref": "main"}))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(dispatch().await, 404);
    let installed = client()
        .put(format!(
            "{}/_emulator/github/workflows/acme/api/nightly.yml",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 200);
    assert_eq!(dispatch().await, 204);
    client()
        .delete(format!(
            "{}/_emulator/github/workflows/acme/api/nightly.yml",
            emu.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(dispatch().await, 404);
}

async fn put_org_secret(emu: &orchestra_emulator::RunningEmulator, body: Value) -> u16 {
    let base = emu.github_url();
    let key: Value = client()
        .get(format!("{base}/orgs/acme/actions/secrets/public-key"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut body = body;
    body["encrypted_value"] = json!(seal(key["key"].as_str().unwrap(), b"shared"));
    body["key_id"] = key["key_id"].clone();
    client()
        .put(format!("{base}/orgs/acme/actions/secrets/SHARED"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_org_secret_shares_with_selected_repositories_only_when_selected() {
    let emu = emulator().await;
    let base = emu.github_url();
    let repo: Value = client()
        .get(format!("{base}/repos/acme/api"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let repo_id = repo["id"].as_u64().unwrap();
    assert_eq!(
        put_org_secret(&emu, json!({"visibility": "all"})).await,
        201
    );
    let url = format!("{base}/orgs/acme/actions/secrets/SHARED/repositories");
    let conflict = client().get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(conflict.status(), 409);

    let body = json!({"visibility": "selected", "selected_repository_ids": [repo_id]});
    assert_eq!(put_org_secret(&emu, body).await, 204);
    let listed: Value = client()
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["repositories"][0]["full_name"], "acme/api");

    let removed = client()
        .delete(format!("{url}/{repo_id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let listed: Value = client()
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total_count"], 0);
}

#[tokio::test]
async fn secret_lists_link_every_neighbouring_page() {
    let emu = emulator().await;
    let response = client()
        .get(format!(
            "{}/repos/acme/api/actions/secrets?per_page=1&page=2",
            emu.github_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("page=1>; rel=\"prev\""), "{link}");
    assert!(link.contains("rel=\"first\""), "{link}");
    assert!(!link.contains("rel=\"next\""), "{link}");
}

async fn dispatch_export(emu: &orchestra_emulator::RunningEmulator, inputs: Value) {
    let response = client()
        .post(format!(
            "{}/repos/acme/api/actions/workflows/orchestra-export.yml/dispatches",
            emu.github_url()
        ))
        .bearer_auth(TOKEN)
        .json(&json!({"ref": "main", "inputs": inputs}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn the_export_sees_environment_secrets_and_records_a_failed_run_without_writing() {
    let emu = emulator().await;
    dispatch_export(
        &emu,
        json!({"project": "demo-project", "environment": "production",
               "secrets": "RELEASE_TOKEN=release-token,DEPLOY_KEY=deploy-key"}),
    )
    .await;
    dispatch_export(
        &emu,
        json!({"project": "demo-project", "secrets": "DEPLOY_KEY=other,MISSING=missing"}),
    )
    .await;
    let state = revealed_state(&emu).await;
    let secrets = &state["google"]["secrets"];
    assert_eq!(
        secrets["projects/demo-project/secrets/release-token"]["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(secrets["projects/demo-project/secrets/deploy-key"].is_object());
    assert!(
        secrets.get("projects/demo-project/secrets/other").is_none(),
        "a failed run writes nothing"
    );
    let dispatches = state["github"]["dispatches"].as_array().unwrap();
    assert_eq!(dispatches[0]["outcome"], "success");
    assert!(
        dispatches[1]["outcome"]
            .as_str()
            .unwrap()
            .contains("MISSING")
    );
}
