//! `synack get`: an HTTP/1.1 GET to a server on the kernel side.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use synack::net::blocking::TcpStream;
use synack::Stack;

use crate::http;
use crate::tunargs::TunArgs;

/// Arguments of `synack get`.
#[derive(Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    pub tun: TunArgs,
    /// The URL: http://HOST:PORT/PATH (HOST an IP address).
    pub url: String,
    /// Where to write the body.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: String,
}

/// Splits `http://HOST[:PORT]/PATH`.
fn parse_url(url: &str) -> Result<(SocketAddr, String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr: SocketAddr = hostport
        .parse()
        .or_else(|_| format!("{hostport}:80").parse())
        .or_else(|_| format!("[{hostport}]:80").parse())
        .map_err(|_| format!("{url}: the host must be an IP address (no DNS here)"))?;
    Ok((addr, hostport.to_string(), path.to_string()))
}

pub fn run(args: GetArgs) -> Result<(), String> {
    let (addr, host, path) = parse_url(&args.url)?;
    let stack = args.tun.start()?;
    let result = fetch(&stack, &args, addr, &host, &path);
    // Stopping the driver also completes the capture file, if any.
    stack.shutdown();
    result
}

fn fetch(
    stack: &Stack,
    args: &GetArgs,
    addr: SocketAddr,
    host: &str,
    path: &str,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(stack, addr).map_err(|e| format!("connect {addr}: {e}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: synack\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    let mut reader = BufReader::with_capacity(64 * 1024, stream.clone());
    let head = http::read_head(&mut reader)
        .map_err(|e| format!("{addr}: {e}"))?
        .ok_or_else(|| format!("{addr}: the server closed without answering"))?;
    let status = head
        .start
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let file = File::create(&args.output).map_err(|e| format!("{}: {e}", args.output))?;
    let mut out = BufWriter::new(file);
    let bar = if std::io::stderr().is_terminal() {
        let bar = match head.content_length() {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        };
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let mut write_err = None;
    let n = http::read_body(&mut reader, &head, true, &mut |b| {
        if write_err.is_none() {
            if let Err(e) = out.write_all(b) {
                write_err = Some(e);
            }
        }
        if let Some(bar) = &bar {
            bar.inc(b.len() as u64);
        }
    })
    .map_err(|e| format!("{addr}: {e}"))?;
    if let Some(e) = write_err {
        return Err(format!("{}: {e}", args.output));
    }
    out.flush().map_err(|e| format!("{}: {e}", args.output))?;
    if let Some(bar) = bar {
        bar.finish();
    }
    drop(reader);
    drop(stream);
    stack.wait_idle(Duration::from_secs(3));
    if !status.starts_with('2') {
        return Err(format!("{}: HTTP {status} ({n} bytes written)", args.url));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (a, h, p) = parse_url("http://10.0.0.1:8080/bytes/10").unwrap();
        assert_eq!(a, "10.0.0.1:8080".parse().unwrap());
        assert_eq!((h.as_str(), p.as_str()), ("10.0.0.1:8080", "/bytes/10"));
        let (a, _, p) = parse_url("http://10.0.0.1").unwrap();
        assert_eq!((a.port(), p.as_str()), (80, "/"));
        assert!(parse_url("https://x/").is_err());
        assert!(parse_url("http://example.com/").is_err());
    }
}
