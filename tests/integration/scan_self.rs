//! `orchestra scan` of orchestra's own repository finds nothing: its test keys and tokens are
//! made at test time, never committed.

use crate::harness::Project;

#[test]
fn orchestras_own_repository_has_no_findings() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let project = Project::new();
    let run = project.run(&["scan", repo, "--no-verify"]);
    run.expect_code(0).stderr_has("0 finding(s)");
}
