//! `synack demo` and `synack trace` as a user runs them: flags, files,
//! plain output when not a terminal, and (when tshark is installed) a
//! capture that tshark reads without errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn synack() -> Command {
    Command::new(env!("CARGO_BIN_EXE_synack"))
}

/// A fresh empty directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn demo_writes_a_pcap_and_an_svg_and_trace_reads_them_back() {
    let dir = scratch("demo-files");
    let text = run_ok(
        synack()
            .current_dir(&dir)
            .args(["demo", "--seed", "5", "--bytes", "200000"]),
    );
    assert!(!text.contains('\x1b'), "no colour into a pipe");
    for s in ["SYN-SENT", "SYN-RECEIVED", "TIME-WAIT", "goodput"] {
        assert!(text.contains(s), "{s} missing:\n{text}");
    }
    let pcap = dir.join("demo.pcap");
    let svg = std::fs::read_to_string(dir.join("demo.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("demo.svg is XML");
    let graph = dir.join("graph.svg");
    let ladder = dir.join("trace.svg");
    let traced = run_ok(synack().args([
        "trace".as_ref(),
        pcap.as_os_str(),
        "--graph".as_ref(),
        graph.as_os_str(),
        "--svg".as_ref(),
        ladder.as_os_str(),
    ]));
    assert!(traced.contains("SYN-SENT") && traced.contains("FIN-WAIT-1"));
    for f in [&graph, &ladder] {
        roxmltree::Document::parse(&std::fs::read_to_string(f).unwrap()).expect("XML");
    }
    tshark_reads_cleanly(&pcap);
}

/// When tshark is installed: no malformed packet, no error, no bad
/// checksum.
fn tshark_reads_cleanly(pcap: &Path) {
    let Ok(out) = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-q", "-z", "expert,error"])
        .output()
    else {
        eprintln!("tshark not installed: skipping its check");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !report.contains("Errors ("),
        "tshark found errors:\n{report}"
    );
}

#[test]
fn every_scenario_runs_with_no_files() {
    let dir = scratch("no-files");
    for s in [
        "handshake",
        "close",
        "lost-syn",
        "old-duplicate-syn",
        "half-close",
        "simultaneous-open",
        "simultaneous-close",
        "reset",
        "refused",
        "syn-flood",
        "zero-window",
    ] {
        let text = run_ok(synack().current_dir(&dir).args([
            "demo",
            "--scenario",
            s,
            "--seed",
            "1",
            "--no-files",
        ]));
        assert!(text.contains(&format!("--scenario {s}")));
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no files written"
    );
}

#[test]
fn bad_flags_are_errors_not_panics() {
    let out = synack()
        .args(["demo", "--scenario", "nope", "--no-files"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = synack()
        .args(["demo", "--impair", "loss=2", "--no-files"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loss"));
    let dir = scratch("bad-trace");
    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"not a capture").unwrap();
    let out = synack().arg("trace").arg(&junk).output().unwrap();
    assert!(!out.status.success());
}

#[test]
fn chinese_and_absolute() {
    let text = run_ok(synack().args([
        "demo",
        "--scenario",
        "handshake",
        "--seed",
        "2",
        "--no-files",
        "--lang",
        "zh",
        "--absolute",
    ]));
    assert!(text.contains("三次握手"));
    assert!(!text.contains("seq=0 "), "absolute numbers:\n{text}");
}
