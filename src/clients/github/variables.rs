//! Actions variables (repository, environment and organisation), through the same request
//! path as secrets: scoped, paced, retried. Octocrab has no typed calls for them, so the REST
//! paths are built here; values are not secret and come back in the clear.

use serde::Deserialize;
use serde_json::json;

use super::{ApiPath, GithubClient, GithubError, Idempotent, SecretScope, repo_path};

/// An Actions variable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Variable {
    /// Its name (GitHub stores names in upper case).
    pub name: String,
    /// Its value.
    pub value: String,
    /// When it was last updated.
    #[serde(default)]
    pub updated_at: String,
}

/// The REST path of the variables collection where `scope`'s secrets would be.
pub fn variables_path(scope: &SecretScope) -> ApiPath {
    match scope {
        SecretScope::Repo(repo) => repo_path(repo).word("actions").word("variables"),
        SecretScope::Environment(repo, environment) => repo_path(repo)
            .word("environments")
            .name(environment.as_str())
            .word("variables"),
        SecretScope::Org(org) => ApiPath::of(&["orgs"])
            .name(org.as_str())
            .word("actions")
            .word("variables"),
    }
}

/// Whether a write of a variable created it or changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableWrite {
    /// 201: a new variable.
    Created,
    /// 204: an existing one updated.
    Updated,
}

impl GithubClient {
    /// Every variable at `scope`, every page read (30 a page, GitHub's maximum).
    pub async fn list_variables(&self, scope: &SecretScope) -> Result<Vec<Variable>, GithubError> {
        #[derive(Deserialize)]
        struct Page {
            total_count: usize,
            variables: Vec<Variable>,
        }
        let mut all = Vec::new();
        for page in 1..=100 {
            let path = variables_path(scope)
                .with_query(&[("per_page", "30".into()), ("page", page.to_string())]);
            let answer = self
                .request(http::Method::GET, &path, None, Idempotent::Yes)
                .await?;
            let batch: Page = answer.json("variable list")?;
            let done = batch.variables.is_empty()
                || all.len() + batch.variables.len() >= batch.total_count;
            all.extend(batch.variables);
            if done {
                break;
            }
        }
        Ok(all)
    }

    /// Variable `name` at `scope`; `None` if there is none.
    pub async fn get_variable(
        &self,
        scope: &SecretScope,
        name: &str,
    ) -> Result<Option<Variable>, GithubError> {
        let path = variables_path(scope).name(name);
        match self
            .request(http::Method::GET, path.as_str(), None, Idempotent::Yes)
            .await
        {
            Ok(answer) => answer.json("variable").map(Some),
            Err(GithubError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends `{name, value}` to `path` with `method` (POST creates, PATCH updates; a lost
    /// answer is harmless to resend: a create found on the rerun is a 409, then an update).
    async fn write_variable(
        &self,
        method: http::Method,
        path: &ApiPath,
        name: &str,
        value: &str,
    ) -> Result<(), GithubError> {
        let body = json!({"name": name, "value": value});
        self.request(method, path.as_str(), Some(&body), Idempotent::Yes)
            .await
            .map(|_| ())
    }

    /// Sets variable `name` at `scope` to `value`: creates it, or updates it when it exists.
    pub async fn set_variable(
        &self,
        scope: &SecretScope,
        name: &str,
        value: &str,
    ) -> Result<VariableWrite, GithubError> {
        let collection = variables_path(scope);
        match self
            .write_variable(http::Method::POST, &collection, name, value)
            .await
        {
            Ok(()) => Ok(VariableWrite::Created),
            Err(GithubError::Api { status: 409, .. }) => self
                .write_variable(http::Method::PATCH, &collection.name(name), name, value)
                .await
                .map(|()| VariableWrite::Updated),
            Err(e) => Err(e),
        }
    }

    /// Deletes variable `name` at `scope`; false if it did not exist.
    pub async fn delete_variable(
        &self,
        scope: &SecretScope,
        name: &str,
    ) -> Result<bool, GithubError> {
        self.delete_if_present(&variables_path(scope).name(name))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_live_beside_secrets() {
        let path = |t: &str| {
            variables_path(&SecretScope::parse(t).unwrap())
                .as_str()
                .to_owned()
        };
        assert_eq!(path("acme/api"), "/repos/acme/api/actions/variables");
        assert_eq!(
            path("acme/api:production"),
            "/repos/acme/api/environments/production/variables"
        );
        assert_eq!(path("org:acme"), "/orgs/acme/actions/variables");
    }
}
