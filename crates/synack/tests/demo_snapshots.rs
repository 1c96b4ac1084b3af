//! The plain-text ladder of every scenario at a fixed seed, compared with
//! the snapshots in `tests/snapshots/` byte for byte. Run with
//! `UPDATE_SNAPSHOTS=1` to rewrite them after an intended change (and read
//! the diff).

mod demo_common;

use std::path::PathBuf;

use demo_common::play;
use synack::demo::Scenario;
use synack::viz::text::WIDTH;
use synack::viz::width::width;
use synack::viz::Lang;

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"))
}

/// Compares `text` with the snapshot `name`, or rewrites it.
fn check(name: &str, text: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if want != text {
        let first = want
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(text.lines().count()));
        panic!(
            "{name} differs from {} at line {}:\nwant: {:?}\ngot:  {:?}\n\nwhole output:\n{text}",
            path.display(),
            first + 1,
            want.lines().nth(first),
            text.lines().nth(first)
        );
    }
}

fn fits(name: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        assert!(
            width(line) <= WIDTH,
            "{name} line {} is {} columns: {line}",
            i + 1,
            width(line)
        );
    }
}

#[test]
fn every_scenario_matches_its_snapshot() {
    for s in Scenario::ALL {
        let text = play(s, Lang::En).render_text(false);
        fits(s.name(), &text);
        check(s.name(), &text);
    }
}

#[test]
fn chinese_narration_matches_its_snapshot() {
    for s in [Scenario::Transfer, Scenario::SimultaneousClose] {
        let text = play(s, Lang::Zh).render_text(false);
        fits(s.name(), &text);
        assert!(text.contains("三次握手") || text.contains("同时关闭"));
        check(&format!("{}.zh", s.name()), &text);
    }
}

#[test]
fn the_default_scenario_names_every_state() {
    let text = play(Scenario::Transfer, Lang::En).render_text(false);
    for state in [
        "CLOSED",
        "SYN-SENT",
        "LISTEN",
        "SYN-RECEIVED",
        "ESTABLISHED",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "CLOSE-WAIT",
        "LAST-ACK",
        "TIME-WAIT",
        "2·MSL",
    ] {
        assert!(text.contains(state), "no {state} in:\n{text}");
    }
}

#[test]
fn colour_only_when_asked() {
    let demo = play(Scenario::Handshake, Lang::En);
    assert!(!demo.render_text(false).contains('\x1b'));
    let coloured = demo.render_text(true);
    assert!(coloured.contains("\x1b["));
    fits("handshake (colour)", &coloured);
}
