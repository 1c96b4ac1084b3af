//! Running the `synack` binary inside a test's network namespace, as a
//! user would: `ip netns exec NS synack serve|connect|get …`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::common::*;

/// The binary under test.
pub const SYNACK: &str = env!("CARGO_BIN_EXE_synack");

/// The TUN options every command takes.
pub fn tun_args() -> Vec<String> {
    [
        "--tun",
        TUN_NAME,
        "--net",
        NET,
        "--ip",
        &SYNACK_IP.to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// A running `synack serve`.
pub struct Serve {
    child: ChildGuard,
    /// The first line it printed on stdout.
    pub first_line: String,
    stdout_rest: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

fn collect(r: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let mut r = r;
        let _ = r.read_to_string(&mut s);
        s
    })
}

impl Serve {
    /// Starts `synack serve --port PORT --app APP EXTRA…` in `ns` and
    /// waits for its first line.
    pub fn start(ns: &Ns, port: u16, app: &str, extra: &[&str]) -> Serve {
        let mut cmd = ns.command(SYNACK);
        cmd.arg("serve")
            .args(tun_args())
            .args(["--port", &port.to_string(), "--app", app])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = ChildGuard::new(
            format!("synack serve --app {app}"),
            cmd.spawn().expect("spawn synack serve"),
        );
        let stdout = child.get().stdout.take().unwrap();
        let stderr = collect(child.get().stderr.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let stdout_rest = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            let mut rest = String::new();
            let _ = r.read_to_string(&mut rest);
            rest
        });
        let first_line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => panic!("synack serve printed nothing within 30 s"),
        };
        if first_line.is_empty() {
            let status = child.wait_timeout(Duration::from_secs(10));
            panic!(
                "synack serve exited ({status}) before listening: {}",
                stderr.join().unwrap_or_default()
            );
        }
        Serve {
            child,
            first_line,
            stdout_rest,
            stderr,
        }
    }

    /// Sends `signal` (TERM, INT).
    pub fn child_signal(&self, signal: &str) {
        self.child.signal(signal);
    }

    /// Sends `signal`, waits for the exit (at most `limit`), returns the
    /// status, the rest of stdout and all of stderr.
    pub fn stop(self, signal: &str, limit: Duration) -> (ExitStatus, String, String) {
        self.child.signal(signal);
        self.wait(limit)
    }

    /// Waits for the exit (at most `limit`), returns the status, the rest
    /// of stdout and all of stderr.
    pub fn wait(mut self, limit: Duration) -> (ExitStatus, String, String) {
        let status = self.child.wait_timeout(limit);
        (
            status,
            self.stdout_rest.join().unwrap_or_default(),
            self.stderr.join().unwrap_or_default(),
        )
    }
}

/// Runs `synack ARGS…` in `ns` with `stdin` fed from a thread, and returns
/// its status, stdout and stderr (at most `limit`).
pub fn run_synack(
    ns: &Ns,
    args: &[String],
    stdin: Option<Vec<u8>>,
    limit: Duration,
) -> (ExitStatus, Vec<u8>, String) {
    let mut cmd = ns.command(SYNACK);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = ChildGuard::new(
        format!("synack {}", args.join(" ")),
        cmd.spawn().expect("spawn synack"),
    );
    if let Some(data) = stdin {
        let mut pipe = child.get().stdin.take().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&data);
            // Dropping the pipe: stdin's end.
        });
    }
    let out = child.output_timeout(limit);
    (
        out.status,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
