//! Many secrets to one target, concurrently: the public key is fetched once, and at most
//! `concurrency` PUTs are in flight, each still paced by the credential's rate budget.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{GithubClient, GithubError, PutOutcome, SecretName, SecretScope};
use crate::secret::Secret;

/// Puts every `(name, value)` to `scope`; returns each outcome in the order given. `on_done` is
/// called as each one finishes (a progress bar).
pub async fn put_secrets(
    client: Arc<GithubClient>,
    scope: SecretScope,
    items: Vec<(SecretName, Secret)>,
    concurrency: usize,
    on_done: Arc<dyn Fn() + Send + Sync>,
) -> Result<Vec<(SecretName, Result<PutOutcome, GithubError>)>, GithubError> {
    let key = Arc::new(client.public_key(&scope).await?);
    let scope = Arc::new(scope);
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, (name, value)) in items.into_iter().enumerate() {
        let (client, scope, key, permits, on_done) = (
            Arc::clone(&client),
            Arc::clone(&scope),
            Arc::clone(&key),
            Arc::clone(&permits),
            Arc::clone(&on_done),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = client.put_sealed(&scope, &name, &key, &value).await;
            on_done();
            (index, name, outcome)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(result) => results.push(result),
            Err(e) => return Err(GithubError::Transport(format!("a batch task failed: {e}"))),
        }
    }
    results.sort_by_key(|(index, _, _)| *index);
    Ok(results
        .into_iter()
        .map(|(_, name, outcome)| (name, outcome))
        .collect())
}
