//! `firestore::batch` sends its commits concurrently only when no document is written by two
//! of them: a document written in the first commit and again in the second ends as the later
//! write says (read back through the emulator's REST API, not through orchestra).

use crate::firestore::{emulator, play, project, rest};

#[test]
fn a_document_written_in_two_commits_ends_as_the_later_write_says() {
    let fs = emulator();
    let project = project(&fs);
    project.playbook(
        "order.rhai",
        r#"
let writes = [#{ set: "order/x", data: #{ v: 1 } }, #{ set: "order/y", data: #{ v: 1 } }];
for i in 2..550 { writes.push(#{ set: `order/d${i}`, data: #{ i: i } }); }
writes.push(#{ set: "order/x", data: #{ v: 2 } });
writes.push(#{ delete: "order/y" });
let outcome = firestore::batch(writes);
print(`writes ${outcome.writes} commits ${outcome.commits}`);
"#,
    );
    play(&project, &fs, &["play", "order"])
        .expect_code(0)
        .stdout_has("writes 552 commits [500, 52]");
    let (status, x) = rest(&fs, "GET", "/order/x", "");
    assert_eq!(status, 200);
    assert_eq!(x["fields"]["v"]["integerValue"], "2", "order/x: {x}");
    let (status, _) = rest(&fs, "GET", "/order/y", "");
    assert_eq!(status, 404, "order/y was deleted by the second commit");
    let (status, _) = rest(&fs, "GET", "/order/d549", "");
    assert_eq!(status, 200);
}
