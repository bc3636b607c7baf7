//! The programs `--emulate` needs for playbooks that use Firestore: the installed Firestore
//! emulator and a Java runtime for it.

use super::context::Context;
use super::finding::Finding;

const NAME: &str = "firestore emulator";

/// The `firestore emulator` finding.
pub fn check(context: &Context) -> Vec<Finding> {
    if !context.usage.uses_firestore() {
        return vec![Finding::skipped(
            NAME,
            "no playbook calls firestore:: or memory::",
        )];
    }
    let launcher = crate::firestore_emulator::launcher();
    let java = on_path("java");
    vec![match (launcher, java) {
        (Some(launcher), true) => {
            Finding::ok(NAME, format!("{} and java found", launcher.display()))
        }
        (None, _) => Finding::failed(
            NAME,
            "playbooks use Firestore, and no Firestore emulator is installed for --emulate",
            "apt-get install google-cloud-cli-firestore-emulator, or set ORCHESTRA_FIRESTORE_EMULATOR to its launcher",
        ),
        (Some(_), false) => Finding::failed(
            NAME,
            "the Firestore emulator needs Java, and no java is on PATH",
            "apt-get install default-jre-headless",
        ),
    }]
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}
