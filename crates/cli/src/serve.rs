//! `synack serve`: a server on a TUN interface until SIGINT or SIGTERM.

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};
use synack::net::blocking::{TcpListener, TcpStream};
use synack::TermSignals;

use crate::http;
use crate::tunargs::TunArgs;

/// What the server does with each connection.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum App {
    /// Send back everything received; close after the peer does.
    Echo,
    /// Read and throw away.
    Discard,
    /// HTTP/1.1: GET /bytes/N, POST /sha256.
    Http,
}

/// Arguments of `synack serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub tun: TunArgs,
    /// The port to listen on.
    #[arg(long)]
    pub port: u16,
    /// The application.
    #[arg(long, value_enum)]
    pub app: App,
}

type Active = Arc<Mutex<HashMap<u64, TcpStream>>>;

pub fn run(args: ServeArgs) -> Result<(), String> {
    let signals = TermSignals::block().map_err(|e| format!("signals: {e}"))?;
    let stack = args.tun.start()?;
    let addr = SocketAddr::new(args.tun.ip, args.port);
    let listener = TcpListener::bind(&stack, addr).map_err(|e| format!("listen on {addr}: {e}"))?;
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();

    let active: Active = Arc::default();
    let app = args.app;
    {
        let active = active.clone();
        std::thread::spawn(move || {
            let mut next_id = 0u64;
            while let Ok((stream, _peer)) = listener.accept() {
                next_id += 1;
                let id = next_id;
                active
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, stream.clone());
                let active = active.clone();
                std::thread::spawn(move || {
                    let _ = serve_one(app, stream);
                    active.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                });
            }
        });
    }

    let sig = signals
        .wait()
        .map_err(|e| format!("waiting for a signal: {e}"))?;
    eprintln!("synack: signal {sig}: closing connections");
    // Graceful: every connection gets our FIN; the handlers finish when
    // the peers close their side.
    for stream in active.lock().unwrap_or_else(|e| e.into_inner()).values() {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !active.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    stack.wait_idle(Duration::from_secs(3));
    // Stopping the driver also completes the capture file, if any.
    stack.shutdown();
    Ok(())
}

fn serve_one(app: App, stream: TcpStream) -> std::io::Result<()> {
    match app {
        App::Echo => echo(stream),
        App::Discard => discard(stream),
        App::Http => http_serve(stream),
    }
}

fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return stream.shutdown(Shutdown::Write);
        }
        stream.write_all(&buf[..n])?;
    }
}

fn discard(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    while stream.read(&mut buf)? > 0 {}
    Ok(())
}

/// The byte at position `i` of `/bytes/N`.
pub fn pattern_byte(i: u64) -> u8 {
    (i % 251) as u8
}

fn http_serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, stream.clone());
    let mut out = stream;
    while let Some(head) = http::read_head(&mut reader)? {
        let mut parts = head.start.split_whitespace();
        let (method, path, version) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let close = version == "HTTP/1.0"
            || head
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        match (method, path.strip_prefix("/bytes/")) {
            ("GET", Some(n)) if n.parse::<u64>().is_ok() => {
                let n: u64 = n.parse().unwrap_or(0);
                // A body on a GET means nothing, but it must not be taken
                // for the next request.
                http::read_body(&mut reader, &head, false, &mut |_| {})?;
                http::write_response_head(
                    &mut out,
                    "200 OK",
                    n,
                    close,
                    "application/octet-stream",
                )?;
                send_pattern(&mut out, n)?;
            }
            _ if method == "POST" && path == "/sha256" => {
                let mut hasher = Sha256::new();
                http::read_body(&mut reader, &head, false, &mut |b| hasher.update(b))?;
                let hex: String = hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                http::write_response_head(
                    &mut out,
                    "200 OK",
                    hex.len() as u64,
                    close,
                    "text/plain",
                )?;
                out.write_all(hex.as_bytes())?;
            }
            _ => {
                http::read_body(&mut reader, &head, false, &mut |_| {})?;
                let body = b"not found\n";
                http::write_response_head(
                    &mut out,
                    "404 Not Found",
                    body.len() as u64,
                    close,
                    "text/plain",
                )?;
                out.write_all(body)?;
            }
        }
        if close {
            break;
        }
    }
    out.shutdown(Shutdown::Write)
}

fn send_pattern(out: &mut TcpStream, n: u64) -> std::io::Result<()> {
    // 251 × 256 bytes: a whole number of periods, so every chunk is the
    // same slice of the pattern.
    let block: Vec<u8> = (0..251 * 256).map(pattern_byte).collect();
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len() as u64) as usize;
        out.write_all(&block[..k])?;
        left -= k as u64;
    }
    Ok(())
}
