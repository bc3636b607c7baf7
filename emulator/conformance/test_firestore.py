"""orchestra's firestore:: primitives and Google's Python client (google-cloud-firestore) against
the same real Firestore emulator: what one writes, the other reads with the same types.

Each test runs the real orchestra binary (`orchestra play`) with FIRESTORE_EMULATOR_HOST set, in
a temporary project, and the Python client with the same variable (it then sends the emulator's
stub credentials itself)."""

import datetime
import os
import subprocess

import pytest
from conftest import cargo_binary
from google.cloud import firestore

PROJECT = "conformance-firestore"


@pytest.fixture
def fs(firestore_emulator, monkeypatch):
    firestore_emulator.reset(PROJECT)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    return firestore_emulator


@pytest.fixture
def client(fs):
    return firestore.Client(project=PROJECT)


def play(tmp_path, emulator, source):
    """Runs `source` as a playbook with orchestra; its stdout lines."""
    binary = cargo_binary("ORCHESTRA_BIN", "orchestra")
    assert os.access(binary, os.X_OK), f"no orchestra binary at {binary} (cargo build first)"
    (tmp_path / "playbooks").mkdir(exist_ok=True)
    (tmp_path / "playbooks" / "fs.rhai").write_text(source)
    (tmp_path / "orchestra.toml").write_text(
        f'[gcp]\nproject = "{PROJECT}"\n[scope]\nfirestore_databases = ["{PROJECT}"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_") and k != "RUST_LOG"}
    env["FIRESTORE_EMULATOR_HOST"] = emulator.host
    env["NO_COLOR"] = "1"
    done = subprocess.run(
        [binary, "play", "fs"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"orchestra failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout.splitlines()


def test_python_reads_what_orchestra_wrote_with_the_same_types(tmp_path, fs, client):
    play(
        tmp_path,
        fs,
        """
        firestore::set("agents/planner", #{
            model: "gemini-2.5-pro",
            runs: 3,
            temperature: 0.25,
            whole: 2.0,
            enabled: true,
            retired: (),
            since: firestore::timestamp("2026-01-02T03:04:05.123456Z"),
            tags: ["ops", 7, 1.5, false, ()],
            limits: #{ tokens: 1000, budget: #{ usd: 12.5 } },
        });
        """,
    )
    snapshot = client.document("agents/planner").get()
    assert snapshot.exists
    data = snapshot.to_dict()
    assert data["model"] == "gemini-2.5-pro" and type(data["model"]) is str
    assert data["runs"] == 3 and type(data["runs"]) is int
    assert data["temperature"] == 0.25 and type(data["temperature"]) is float
    # 2.0 written as a float stays a double, not the integer 2
    assert data["whole"] == 2.0 and type(data["whole"]) is float
    assert data["enabled"] is True
    assert "retired" in data and data["retired"] is None
    since = data["since"]
    assert isinstance(since, datetime.datetime)
    assert since == datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    assert data["tags"] == ["ops", 7, 1.5, False, None]
    assert [type(v) for v in data["tags"]] == [str, int, float, bool, type(None)]
    assert data["limits"] == {"tokens": 1000, "budget": {"usd": 12.5}}
    assert type(data["limits"]["tokens"]) is int and type(data["limits"]["budget"]["usd"]) is float


def test_orchestra_reads_what_python_wrote_with_the_same_types(tmp_path, fs, client):
    client.document("runs/r1").set(
        {
            "status": "failed",
            "attempts": 4,
            "score": 0.5,
            "ratio": 3.0,
            "final": False,
            "owner": None,
            "finished": datetime.datetime(2026, 3, 4, 5, 6, 7, 250000, tzinfo=datetime.timezone.utc),
            "steps": ["build", 2, 2.5, True],
            "stats": {"tokens": 123, "cost": {"usd": 0.75}},
            "raw": b"\x00\xffok",
        }
    )
    lines = play(
        tmp_path,
        fs,
        """
        let d = firestore::get("runs/r1");
        for key in d.keys() {
            print(key + "=" + type_of(d[key]));
        }
        print("finished.value=" + d.finished.to_string());
        print("steps.types=" + d.steps.map(|v| type_of(v)).reduce(|sum, t| sum + "," + t, "").sub_string(1));
        print("stats.tokens=" + type_of(d.stats.tokens) + ":" + d.stats.tokens);
        print("stats.cost.usd=" + type_of(d.stats.cost.usd) + ":" + d.stats.cost.usd);
        print("raw.len=" + d.raw.len());
        print("status.value=" + d.status);
        print("ratio.value=" + d.ratio);
        print("missing=" + type_of(firestore::get("runs/none")));
        """,
    )
    seen = dict(line.split("=", 1) for line in lines if "=" in line)
    assert seen["status"] == "string" and seen["status.value"] == "failed"
    assert seen["attempts"] == "i64"
    assert seen["score"] == "f64"
    # Python's 3.0 is a double on the wire, and orchestra keeps it a float
    assert seen["ratio"] == "f64" and seen["ratio.value"] == "3.0"
    assert seen["final"] == "bool"
    assert seen["owner"] == "()"
    assert seen["finished"] == "Timestamp"
    assert seen["finished.value"].startswith("2026-03-04T05:06:07.25")
    assert seen["steps"] == "array" and seen["steps.types"] == "string,i64,f64,bool"
    assert seen["stats"] == "map"
    assert seen["stats.tokens"] == "i64:123"
    assert seen["stats.cost.usd"] == "f64:0.75"
    assert seen["raw"] == "blob" and seen["raw.len"] == "4"
    assert seen["missing"] == "()"


def test_a_merge_and_an_update_from_orchestra_keep_what_python_wrote(tmp_path, fs, client):
    client.document("agents/critic").set({"model": "m1", "limits": {"tokens": 10, "rpm": 5}, "notes": "keep"})
    play(
        tmp_path,
        fs,
        """
        firestore::set("agents/critic", #{ limits: #{ tokens: 20 } }, #{ merge: true });
        firestore::update("agents/critic", #{ "limits.rpm": 6, model: "m2" });
        """,
    )
    data = client.document("agents/critic").get().to_dict()
    assert data == {"model": "m2", "limits": {"tokens": 20, "rpm": 6}, "notes": "keep"}


def test_orchestra_queries_what_python_wrote_in_the_same_order(tmp_path, fs, client):
    for i in range(12):
        client.document(f"jobs/j{i:02}").set({"n": i, "kind": "even" if i % 2 == 0 else "odd"})
    lines = play(
        tmp_path,
        fs,
        """
        fn ids(docs) {
            let text = "";
            for d in docs { text += " " + d.id; }
            text
        }
        let page = firestore::query("jobs", #{ where: [["kind", "==", "even"]], order_by: "-n", limit: 3 });
        print("page1=" + ids(page));
        let next = firestore::query("jobs", #{ where: [["kind", "==", "even"]], order_by: "-n", limit: 3, start_after: page[-1] });
        print("page2=" + ids(next));
        """,
    )
    seen = dict(line.split("=", 1) for line in lines if "=" in line)
    python_order = [
        s.id
        for s in client.collection("jobs")
        .where(filter=firestore.FieldFilter("kind", "==", "even"))
        .order_by("n", direction=firestore.Query.DESCENDING)
        .stream()
    ]
    assert seen["page1"].split() == python_order[:3]
    assert seen["page2"].split() == python_order[3:6]


def test_a_batch_from_orchestra_is_read_whole_by_python(tmp_path, fs, client):
    lines = play(
        tmp_path,
        fs,
        """
        let writes = [];
        for i in 0..1200 {
            writes.push(#{ set: "bulk/d" + i, data: #{ i: i, half: i / 2.0 } });
        }
        writes.push(#{ delete: "bulk/d0" });
        let outcome = firestore::batch(writes);
        print("writes=" + outcome.writes);
        print("commits=" + outcome.commits.len());
        """,
    )
    seen = dict(line.split("=", 1) for line in lines if "=" in line)
    assert seen["writes"] == "1201"
    # more than one commit: Firestore caps what one commit may carry
    assert int(seen["commits"]) >= 3
    docs = {s.id: s.to_dict() for s in client.collection("bulk").stream()}
    assert len(docs) == 1199 and "d0" not in docs
    assert docs["d1199"] == {"i": 1199, "half": 599.5}
    assert type(docs["d4"]["half"]) is float and docs["d4"]["half"] == 2.0


def test_python_sees_nothing_when_orchestra_deletes(tmp_path, fs, client):
    client.document("agents/old").set({"model": "x"})
    play(tmp_path, fs, 'firestore::delete("agents/old");')
    assert not client.document("agents/old").get().exists
