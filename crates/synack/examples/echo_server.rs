//! An echo server on a TUN interface, with the blocking (std-like) API.
//!
//! ```text
//! sudo cargo run -p synack --example echo_server -- tun0 10.0.0.1/24 10.0.0.2 7
//! nc 10.0.0.2 7        # in another terminal: what you type comes back
//! ```
//!
//! The kernel side of `tun0` gets 10.0.0.1/24; synack answers as 10.0.0.2.

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr};

use proto::endpoint::EndpointConfig;
use synack::device::{Tun, TunConfig};
use synack::net::blocking::{TcpListener, TcpStream};
use synack::Stack;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [tun, net, ip, port] = args.as_slice() else {
        return Err("usage: echo_server TUN KERNEL_ADDR/PREFIX SYNACK_ADDR PORT".into());
    };
    let (kernel, prefix) = net.split_once('/').ok_or("expected KERNEL_ADDR/PREFIX")?;
    let ip: IpAddr = ip.parse()?;

    // The device: a TUN interface, the kernel's address on it, up.
    let tun = Tun::open(&TunConfig {
        name: tun.clone(),
        kernel_addr: (kernel.parse()?, prefix.parse()?),
        mtu: 1500,
        offload: true,
    })?;
    // The stack: its own thread drives TCP on the device.
    let stack = Stack::new(tun, EndpointConfig::default(), &[ip])?;
    let listener = TcpListener::bind(&stack, SocketAddr::new(ip, port.parse()?))?;
    println!("listening on {}", listener.local_addr()?);

    loop {
        let (stream, peer) = listener.accept()?;
        println!("{peer} connected");
        std::thread::spawn(move || match echo(stream) {
            Ok(n) => println!("{peer}: echoed {n} bytes"),
            Err(e) => println!("{peer}: {e}"),
        });
    }
}

/// Sends back everything until the peer's FIN, then closes our side.
fn echo(mut stream: TcpStream) -> std::io::Result<u64> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            stream.shutdown(Shutdown::Write)?;
            return Ok(total);
        }
        stream.write_all(&buf[..n])?;
        total += n as u64;
    }
}
