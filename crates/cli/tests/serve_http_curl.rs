//! `curl` against `synack serve --app http`, both inside the test's network
//! namespace: GET /bytes/N (content checked), POST /sha256 (compared with a
//! local SHA-256), keep-alive, 404, and the graceful stop on SIGTERM.

#[path = "../../synack/tests/common/mod.rs"]
mod common;
mod support;

use std::process::Command;
use std::time::Duration;

use common::*;
use support::*;

const PORT: u16 = 8080;

fn url(path: &str) -> String {
    format!("http://{SYNACK_IP}:{PORT}{path}")
}

/// Runs curl in `ns` (bounded by its own --max-time and our guard).
fn curl(ns: &Ns, args: &[&str]) -> std::process::Output {
    let mut cmd: Command = ns.command("curl");
    cmd.args(["-sS", "--max-time", "120"]).args(args);
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run curl (apt-get install curl)");
    ChildGuard::new(format!("curl {}", args.join(" ")), child)
        .output_timeout(Duration::from_secs(180))
}

fn curl_ok(ns: &Ns, args: &[&str]) -> Vec<u8> {
    let out = curl(ns, args);
    assert!(
        out.status.success(),
        "curl {}: {}\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn curl_gets_bytes_and_posts_sha256() {
    let Some(netns) = Netns::new("curl") else {
        return;
    };
    let ns = netns.handle();
    let dir = TempDir::new("curl");
    let body_path = dir.join("bytes");
    let upload_path = dir.join("upload");
    with_deadline("curl", Duration::from_secs(300), move || {
        let serve = Serve::start(&ns, PORT, "http", &[]);
        assert_eq!(
            serve.first_line,
            format!("listening on {SYNACK_IP}:{PORT}\n")
        );

        // GET /bytes/10000000: byte i is i % 251.
        let path = body_path.to_str().unwrap();
        curl_ok(&ns, &["--fail", "-o", path, &url("/bytes/10000000")]);
        let body = std::fs::read(&body_path).unwrap();
        assert_eq!(body.len(), 10_000_000);
        if let Some(i) = body
            .iter()
            .enumerate()
            .position(|(i, &b)| b != (i % 251) as u8)
        {
            panic!("byte {i} is {}, not {}", body[i], i % 251);
        }

        // POST /sha256 with a body of random bytes: curl sends
        // `Expect: 100-continue` for a body this large.
        let upload = random_bytes(81, 3_000_000);
        std::fs::write(&upload_path, &upload).unwrap();
        let data = format!("@{}", upload_path.to_str().unwrap());
        let got = curl_ok(&ns, &["--fail", "--data-binary", &data, &url("/sha256")]);
        assert_eq!(String::from_utf8_lossy(&got), hex(&sha256(&upload)));

        // The same body chunked.
        let got = curl_ok(
            &ns,
            &[
                "--fail",
                "-H",
                "Transfer-Encoding: chunked",
                "--data-binary",
                &data,
                &url("/sha256"),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&got), hex(&sha256(&upload)));

        // An empty body.
        let got = curl_ok(&ns, &["--fail", "-X", "POST", &url("/sha256")]);
        assert_eq!(String::from_utf8_lossy(&got), hex(&sha256(b"")));

        // Keep-alive: the second request reuses the first one's connection.
        let got = curl_ok(
            &ns,
            &[
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}:%{num_connects} ",
                &url("/bytes/1000"),
                &url("/bytes/0"),
            ],
        );
        assert_eq!(String::from_utf8_lossy(&got), "200:1 200:0 ");

        // Anything else: 404.
        let got = curl_ok(
            &ns,
            &["-o", "/dev/null", "-w", "%{http_code}", &url("/nothing")],
        );
        assert_eq!(String::from_utf8_lossy(&got), "404");

        let (status, rest, stderr) = serve.stop("TERM", Duration::from_secs(30));
        assert!(
            status.success(),
            "exit on SIGTERM: {status}; stderr: {stderr}"
        );
        assert_eq!(rest, "", "one line on stdout");
    });
    drop(dir);
}
