//! `synack connect`: stdin to a server on the kernel side, the server's
//! answer to stdout.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use clap::Args;
use synack::net::blocking::TcpStream;

use crate::tunargs::TunArgs;

/// Arguments of `synack connect`.
#[derive(Args, Debug)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub tun: TunArgs,
    /// The server, as IP:PORT.
    pub target: SocketAddr,
}

pub fn run(args: ConnectArgs) -> Result<(), String> {
    let stack = args.tun.start()?;
    let target = args.target;
    let stream =
        TcpStream::connect(&stack, target).map_err(|e| format!("connect {target}: {e}"))?;
    let mut writer = stream.clone();
    let copier = std::thread::spawn(move || -> std::io::Result<()> {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stdin.read(&mut buf)?;
            if n == 0 {
                // stdin ended: our FIN; the answer keeps coming.
                return writer.shutdown(Shutdown::Write);
            }
            writer.write_all(&buf[..n])?;
        }
    });
    let mut reader = stream;
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
    match copier.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("{target}: sending: {e}")),
        Err(_) => return Err("the stdin copier panicked".into()),
    }
    drop(reader);
    // Let the close finish (our ACK of the server's FIN, our FIN's ACK).
    stack.wait_idle(Duration::from_secs(3));
    Ok(())
}
