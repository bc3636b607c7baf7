//! Conditional GETs: the ETag and body of each answer are kept (by credential and path), sent
//! back as `If-None-Match`, and a `304 Not Modified` is answered from the copy. GitHub does not
//! count such a 304 against the primary rate limit ("Best practices for using the REST API",
//! *Use conditional requests if appropriate*), so a playbook that polls unchanged resources
//! spends nothing. `/rate_limit` is left out: it is free already and changes with every call.
//!
//! Where copies are kept is the caller's choice ([`ConditionalCache`]); orchestra keeps them
//! in its state database so they outlive the process. What is kept is never a secret value:
//! GitHub's GET answers orchestra makes carry names, timestamps, ids and public keys (Actions
//! secrets are write-only); a body over [`MAX_BODY`] or any answer to a token endpoint is not
//! kept at all.

/// A GET answer kept for the next conditional request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedAnswer {
    /// The `ETag` it came with.
    pub etag: String,
    /// Its body.
    pub body: String,
}

/// Where GET answers are kept between requests (and runs).
pub trait ConditionalCache: Send + Sync {
    /// The copy of `path` as `credential` last read it.
    fn cached(&self, credential: &str, path: &str) -> Option<CachedAnswer>;
    /// Keeps `answer` as `credential`'s copy of `path`.
    fn keep(&self, credential: &str, path: &str, answer: &CachedAnswer);
}

/// Bodies larger than this are not kept.
pub const MAX_BODY: usize = 256 * 1024;

/// Whether a GET of `path` may be answered from a copy.
pub fn is_cacheable(path: &str) -> bool {
    let bare = path.split('?').next().unwrap_or("");
    bare != "/rate_limit" && !bare.contains("token")
}
