//! An HTTP/1.1 client on a TUN interface, with the async (tokio-style) API.
//!
//! ```text
//! python3 -m http.server 8000 --bind 0.0.0.0 &     # a server on the kernel side
//! sudo cargo run -p synack --example http_client -- tun0 10.0.0.1/24 10.0.0.2 10.0.0.1:8000 /
//! ```
//!
//! Prints the response (head and body) as it arrives.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};

use proto::endpoint::EndpointConfig;
use synack::device::{Tun, TunConfig};
use synack::net::TcpStream;
use synack::Stack;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tun, net, ip, server, path] = args.as_slice() else {
        return Err(
            "usage: http_client TUN KERNEL_ADDR/PREFIX SYNACK_ADDR SERVER_IP:PORT PATH".into(),
        );
    };
    let (kernel, prefix) = net.split_once('/').ok_or("expected KERNEL_ADDR/PREFIX")?;
    let ip: IpAddr = ip.parse()?;
    let server: SocketAddr = server.parse()?;

    let tun = Tun::open(&TunConfig {
        name: tun.clone(),
        kernel_addr: (kernel.parse()?, prefix.parse()?),
        mtu: 1500,
        offload: true,
    })?;
    // The stack runs on its own thread; sockets need no particular runtime.
    let stack = Stack::new(tun, EndpointConfig::default(), &[ip])?;

    let mut stream = TcpStream::connect(&stack, server).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nUser-Agent: synack-example\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    // Half-close: our FIN goes out, the response keeps coming.
    stream.shutdown().await?;

    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        stdout.write_all(&buf[..n])?;
        total += n;
    }
    stdout.flush()?;
    eprintln!("{total} bytes from {server}");
    Ok(())
}
