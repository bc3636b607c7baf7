//! Google's client crates (Secret Manager, IAM) follow redirects unless told otherwise:
//! google-cloud-gax-internal builds its reqwest client with reqwest's default policy (up to 10
//! hops) and switches it off only when `ClientConfig::disable_follow_redirects` is set. The one
//! way to set it is `google_cloud_gax::client_builder::internal::with_follow_redirects`, public
//! but documented as internal (not covered by semver), so it lives here, in one place, pinned by
//! Cargo.lock. Knows nothing of Rhai.

use google_cloud_gax::client_builder::ClientBuilder;

/// `builder` with redirect following switched off.
pub fn never_followed<F, Cr>(builder: ClientBuilder<F, Cr>) -> ClientBuilder<F, Cr> {
    google_cloud_gax::client_builder::internal::with_follow_redirects(builder, false)
}
