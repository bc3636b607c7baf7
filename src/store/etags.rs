//! The `github_etags` table: GitHub GET answers kept for conditional requests (ETag and body,
//! by credential fingerprint and path), so a rerun of a polling playbook gets 304s that cost no
//! rate limit. Bounded: the rows stored longest ago beyond [`KEPT`] are dropped.
//!
//! The bodies are GitHub metadata (secret names and times, public keys, ids): no secret value
//! is ever in one (see `clients::github::conditional`), and the mask is applied on the way in
//! as everywhere in the store.

use rusqlite::{OptionalExtension, params};

use super::{Store, now_ms};
use crate::clients::github::{CachedAnswer, ConditionalCache};

/// How many answers are kept.
pub const KEPT: i64 = 2_000;

impl Store {
    /// The answer kept for `credential` and `path`.
    pub fn etag_get(
        &self,
        credential: &str,
        path: &str,
    ) -> Result<Option<CachedAnswer>, super::StoreError> {
        let conn = self.conn();
        let found = conn
            .query_row(
                "SELECT etag, body FROM github_etags WHERE credential = ?1 AND path = ?2",
                params![credential, path],
                |row| {
                    Ok(CachedAnswer {
                        etag: row.get(0)?,
                        body: row.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(found)
    }

    /// Keeps `answer` for `credential` and `path`, dropping the oldest rows beyond [`KEPT`].
    pub fn etag_put(
        &self,
        credential: &str,
        path: &str,
        answer: &CachedAnswer,
    ) -> Result<(), super::StoreError> {
        let body = crate::secret::mask::mask(&answer.body);
        let conn = self.conn();
        conn.execute(
            "INSERT INTO github_etags (credential, path, etag, body, used_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(credential, path) DO UPDATE SET etag = excluded.etag,
                 body = excluded.body, used_at = excluded.used_at",
            params![credential, path, answer.etag, body.as_ref(), now_ms()],
        )?;
        conn.execute(
            "DELETE FROM github_etags WHERE rowid IN (
                 SELECT rowid FROM github_etags ORDER BY used_at DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            [KEPT],
        )?;
        Ok(())
    }

    /// How many answers are kept.
    pub fn etag_count(&self) -> Result<i64, super::StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM github_etags", [], |row| row.get(0))?)
    }
}

impl ConditionalCache for Store {
    fn cached(&self, credential: &str, path: &str) -> Option<CachedAnswer> {
        self.etag_get(credential, path)
            .map_err(|e| tracing::debug!("no kept GitHub answer for {path}: {e}"))
            .ok()
            .flatten()
    }

    fn keep(&self, credential: &str, path: &str, answer: &CachedAnswer) {
        // A plan's store refuses writes outside its run record: the copy is then not kept.
        if let Err(e) = self.etag_put(credential, path, answer) {
            tracing::debug!("GitHub answer for {path} not kept: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(etag: &str) -> CachedAnswer {
        CachedAnswer {
            etag: etag.into(),
            body: "{}".into(),
        }
    }

    #[test]
    fn an_answer_is_kept_replaced_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        store
            .etag_put("github:a", "/x", &answer("W/\"1\""))
            .unwrap();
        store
            .etag_put("github:a", "/x", &answer("W/\"2\""))
            .unwrap();
        assert_eq!(store.cached("github:a", "/x"), Some(answer("W/\"2\"")));
        assert_eq!(store.cached("github:b", "/x"), None);
        for i in 0..KEPT + 5 {
            store
                .etag_put("github:a", &format!("/p{i}"), &answer("t"))
                .unwrap();
        }
        assert_eq!(store.etag_count().unwrap(), KEPT);
        assert!(
            store.cached("github:a", "/x").is_none(),
            "the oldest row stayed"
        );
    }
}
