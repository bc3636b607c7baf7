//! A progress bar for batch primitives, drawn on stderr only when it is a terminal (indicatif
//! hides itself otherwise), so logs and CI output stay clean.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` steps named `what`, and the callback that advances it.
pub fn bar(total: usize, what: &str) -> (ProgressBar, Arc<dyn Fn() + Send + Sync>) {
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    let ticker = bar.clone();
    (bar, Arc::new(move || ticker.inc(1)))
}
