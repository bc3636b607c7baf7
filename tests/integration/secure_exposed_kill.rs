//! `playbooks/secure_exposed_credentials.rhai` SIGKILLed after each of its changes in turn,
//! then finished by `orchestra resume` or by a plain rerun: every kill point converges to the
//! secured end state with no file half rewritten, the exposed service-account key rotated
//! exactly once (its secret holds the exposed value and one new key), and no value in any
//! output or state file.
//!
//! `ORCHESTRA_TEST_KILL_POINTS` picks kill points (`13,18,30-36`) to rerun a failure quickly;
//! unset, every kill point is covered (the CI default).

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::secure_exposed::{Emulator, Fixture};

/// How a run killed part-way is finished.
#[derive(Clone, Copy, Debug)]
enum Recovery {
    /// `orchestra resume RUN`.
    Resume,
    /// `orchestra play` again, as an operator who never heard of resume would.
    Rerun,
}

/// The kill points `ORCHESTRA_TEST_KILL_POINTS` names, ascending; `None` when unset (all).
fn chosen_kill_points() -> Option<Vec<usize>> {
    let text = std::env::var("ORCHESTRA_TEST_KILL_POINTS").ok()?;
    let number = |s: &str| {
        s.trim().parse::<usize>().unwrap_or_else(|_| {
            panic!("ORCHESTRA_TEST_KILL_POINTS: expected numbers and ranges like 13,18,30-36, found {text:?}")
        })
    };
    let mut points = BTreeSet::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => points.extend(number(from)..=number(to)),
            None => {
                points.insert(number(part));
            }
        }
    }
    assert!(
        !points.is_empty() && !points.contains(&0),
        "ORCHESTRA_TEST_KILL_POINTS: expected kill points from 1, found {text:?}"
    );
    Some(points.into_iter().collect())
}

/// Kills the playbook after its n-th change for every chosen n (all of them until a run
/// makes fewer than n changes, unless `ORCHESTRA_TEST_KILL_POINTS` picks some), recovers each
/// with `recovery`, and checks every kill point converged with no file half rewritten and the
/// exposed key rotated once. A few workers, each with one emulator reset between kill points,
/// take kill points from a shared counter; every chosen n is covered.
fn every_kill_point_converges(recovery: Recovery) {
    const WORKERS: usize = 3;
    let chosen = chosen_kill_points();
    let next = AtomicUsize::new(0);
    let end = AtomicUsize::new(usize::MAX);
    let covered = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                let world = Emulator::start();
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let n = match &chosen {
                        Some(points) => match points.get(index) {
                            Some(&n) => n,
                            None => break,
                        },
                        None => index + 1,
                    };
                    if n >= end.load(Ordering::SeqCst) {
                        break;
                    }
                    let fixture = Fixture::on(Rc::clone(&world));
                    let killed = fixture.play(&[], Some(n));
                    if killed.code == 0 {
                        end.fetch_min(n, Ordering::SeqCst);
                        break;
                    }
                    assert_eq!(killed.code, -1, "kill at {n}: {}", killed.stderr);
                    fixture.assert_no_half_rewrite(&format!("killed after change {n}"));
                    let recovered = match recovery {
                        Recovery::Resume => {
                            fixture.orchestra(&["resume", &fixture.last_run().to_string()], None)
                        }
                        Recovery::Rerun => fixture.play(&[], None),
                    };
                    let when = format!("{recovery:?} after a kill at change {n}");
                    assert_eq!(
                        recovered.code, 0,
                        "{when}: {}\n{}",
                        recovered.stdout, recovered.stderr
                    );
                    fixture.assert_secured(&when);
                    fixture.assert_rotated_once(&when);
                    fixture.assert_nothing_leaked(&[&killed, &recovered]);
                    covered.lock().unwrap_or_else(|p| p.into_inner()).push(n);
                }
            });
        }
    });
    let end = end.into_inner();
    let mut covered = covered.into_inner().unwrap_or_else(|p| p.into_inner());
    covered.sort_unstable();
    match chosen {
        Some(points) => {
            let expected: Vec<usize> = points.into_iter().filter(|&n| n < end).collect();
            assert_eq!(covered, expected, "every chosen kill point");
        }
        None => {
            assert!(end > 10, "the playbook makes more than {} changes", end - 1);
            assert_eq!(covered, (1..end).collect::<Vec<_>>(), "every kill point");
        }
    }
}

#[test]
fn killed_after_any_change_and_resumed_it_converges() {
    every_kill_point_converges(Recovery::Resume);
}

#[test]
fn killed_after_any_change_and_simply_rerun_it_converges_without_rotating_twice() {
    every_kill_point_converges(Recovery::Rerun);
}
