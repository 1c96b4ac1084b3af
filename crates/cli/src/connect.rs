//! `synack connect`: stdin to a server on the kernel side, the server's
//! answer to stdout.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use synack::net::blocking::TcpStream;
use synack::Stack;

use crate::tunargs::TunArgs;

/// Arguments of `synack connect`.
#[derive(Args, Debug)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub tun: TunArgs,
    /// The server, as IP:PORT.
    pub target: SocketAddr,
}

/// How long stdin may stay silent after the server's FIN before we stop
/// waiting for it (a terminal, or a pipe its writer keeps open).
const STDIN_GRACE: Duration = Duration::from_secs(1);

pub fn run(args: ConnectArgs) -> Result<(), String> {
    let stack = args.tun.start()?;
    let result = session(&stack, args.target);
    // Stopping the driver also completes the capture file, if any.
    stack.shutdown();
    result
}

fn session(stack: &Stack, target: SocketAddr) -> Result<(), String> {
    let stream = TcpStream::connect(stack, target).map_err(|e| format!("connect {target}: {e}"))?;
    let mut writer = stream.clone();
    // Since when the copier has been waiting for stdin (None: busy).
    let waiting: Arc<Mutex<Option<Instant>>> = Arc::default();
    let copier = {
        let waiting = waiting.clone();
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                *waiting.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                let n = stdin.read(&mut buf)?;
                *waiting.lock().unwrap_or_else(|e| e.into_inner()) = None;
                if n == 0 {
                    // stdin ended: our FIN; the answer keeps coming.
                    return writer.shutdown(Shutdown::Write);
                }
                writer.write_all(&buf[..n])?;
            }
        })
    };
    let mut reader = stream.clone();
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => stdout
                .write_all(&buf[..n])
                .map_err(|e| format!("stdout: {e}"))?,
            Err(e) => return Err(format!("{target}: {e}")),
        }
    }
    stdout.flush().map_err(|e| format!("stdout: {e}"))?;
    // The server has closed its side. What stdin still gives goes out
    // (the server may read on), but a stdin that stays silent does not
    // hold us: then our FIN goes now.
    let mut gave_up = false;
    loop {
        if copier.is_finished() {
            match copier.join() {
                Ok(Ok(())) => break,
                Ok(Err(e)) => return Err(format!("{target}: sending: {e}")),
                Err(_) => return Err("the stdin copier panicked".into()),
            }
        }
        let idle = waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|since| since.elapsed() >= STDIN_GRACE);
        if idle {
            let _ = stream.shutdown(Shutdown::Write);
            gave_up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(reader);
    drop(stream);
    // Let the close finish (our ACK of the server's FIN, our FIN's ACK).
    // The copier still blocked on stdin holds the socket open, so the
    // stack cannot go idle then: give the FIN a moment.
    if gave_up {
        std::thread::sleep(Duration::from_millis(300));
    } else {
        stack.wait_idle(Duration::from_secs(3));
    }
    Ok(())
}
