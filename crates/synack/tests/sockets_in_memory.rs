//! The socket APIs between two synack stacks on an in-memory link: what
//! std and tokio users expect (addresses, half-close, shutdown of the
//! reading side, errors by kind). No privilege needed.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr};
use std::thread;
use std::time::Duration;

use common::{random_bytes, sha256, with_deadline, IO_TIMEOUT};
use proto::endpoint::EndpointConfig;
use synack::device::ChannelDevice;
use synack::net::blocking::{TcpListener, TcpStream};
use synack::Stack;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 8, 0, 2);

fn pair() -> (Stack, Stack) {
    let (da, db) = ChannelDevice::pair().unwrap();
    let a = Stack::new(da, EndpointConfig::default(), &[IpAddr::V4(A)]).unwrap();
    let b = Stack::new(db, EndpointConfig::default(), &[IpAddr::V4(B)]).unwrap();
    (a, b)
}

fn at(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(ip), port)
}

#[test]
fn blocking_sockets_behave_like_std() {
    with_deadline("blocking", Duration::from_secs(60), || {
        let (a, b) = pair();
        let listener = TcpListener::bind(&b, at(B, 80)).unwrap();
        assert_eq!(listener.local_addr().unwrap(), at(B, 80));
        let e = TcpListener::bind(&b, at(B, 80)).expect_err("taken");
        assert_eq!(e.kind(), ErrorKind::AddrInUse, "{e}");
        // Not one of b's addresses.
        assert!(TcpListener::bind(&b, at(A, 81)).is_err());

        let mut client = TcpStream::connect(&a, at(B, 80)).unwrap();
        client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let (mut server, peer) = listener.accept().unwrap();
        server.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), peer);
        assert_eq!(client.peer_addr().unwrap(), at(B, 80));
        assert!(format!("{client:?}").contains("TcpStream"));

        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());

        // Half-close: the client's FIN, then the server still answers.
        client.write_all(b"request").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut req = Vec::new();
        server.read_to_end(&mut req).unwrap();
        assert_eq!(req, b"request");
        let answer = random_bytes(1, 1 << 20);
        let mut w = server.clone();
        let data = answer.clone();
        let writer = thread::spawn(move || {
            w.write_all(&data).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(sha256(&got), sha256(&answer));
        // Writing after our own FIN fails.
        assert!(client.write_all(b"late").is_err());
        drop((client, server));
        assert!(a.wait_idle(Duration::from_secs(10)));
        assert!(b.wait_idle(Duration::from_secs(10)));
    });
}

#[test]
fn shutdown_of_the_reading_side_wakes_a_blocked_reader() {
    with_deadline("shutdown read", Duration::from_secs(30), || {
        let (a, b) = pair();
        let listener = TcpListener::bind(&b, at(B, 81)).unwrap();
        let client = TcpStream::connect(&a, at(B, 81)).unwrap();
        let (_server, _) = listener.accept().unwrap();
        let mut reader = client.clone();
        let blocked = thread::spawn(move || {
            let mut buf = [0u8; 16];
            reader.read(&mut buf)
        });
        thread::sleep(Duration::from_millis(50)); // let it block (not a timing assertion)
        client.shutdown(Shutdown::Read).unwrap();
        assert_eq!(
            blocked.join().unwrap().unwrap(),
            0,
            "the blocked read returns 0"
        );
        let mut c = client.clone();
        assert_eq!(c.read(&mut [0u8; 4]).unwrap(), 0, "later reads return 0");
    });
}

#[test]
fn errors_have_the_usual_kinds() {
    with_deadline("errors", Duration::from_secs(30), || {
        let (a, b) = pair();
        // Nothing listens on b:82: RST, refused.
        let e = TcpStream::connect(&a, at(B, 82)).expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");

        // An abort: the other side sees a reset.
        let listener = TcpListener::bind(&b, at(B, 83)).unwrap();
        let mut client = TcpStream::connect(&a, at(B, 83)).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.abort();
        let e = client.read(&mut [0u8; 8]).expect_err("reset");
        assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");

        // A read timeout of the caller's own.
        let mut client = TcpStream::connect(&a, at(B, 83)).unwrap();
        let (_server, _) = listener.accept().unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let e = client.read(&mut [0u8; 8]).expect_err("nothing comes");
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");

        // A stopped stack: calls fail, they do not hang.
        a.shutdown();
        let e = client.write_all(b"x").expect_err("stopped");
        assert!(e.to_string().contains("stopped"), "{e}");
    });
}

#[test]
fn async_sockets_split_and_half_close() {
    with_deadline("async", Duration::from_secs(60), || {
        let (a, b) = pair();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = synack::net::TcpListener::bind(&b, at(B, 90)).await.unwrap();
            let server = tokio::spawn(async move {
                let (s, peer) = listener.accept().await.unwrap();
                let (mut r, mut w) = s.into_split();
                // Echo to the client's FIN, then ours.
                let n = tokio::io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
                (peer, n)
            });
            let client = synack::net::TcpStream::connect(&a, at(B, 90))
                .await
                .unwrap();
            client.set_nodelay(true).unwrap();
            let local = client.local_addr().unwrap();
            assert_eq!(client.peer_addr().unwrap(), at(B, 90));
            let data = random_bytes(2, 512 * 1024);
            let (mut r, mut w) = client.into_split();
            let to_send = data.clone();
            let writer = tokio::spawn(async move {
                w.write_all(&to_send).await.unwrap();
                w.shutdown().await.unwrap();
            });
            let mut back = Vec::new();
            r.read_to_end(&mut back).await.unwrap();
            writer.await.unwrap();
            assert_eq!(sha256(&back), sha256(&data));
            let (peer, n) = server.await.unwrap();
            assert_eq!((peer, n), (local, data.len() as u64));

            let e = synack::net::TcpStream::connect(&a, at(B, 91))
                .await
                .expect_err("refused");
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        });
        assert!(a.wait_idle(Duration::from_secs(10)));
    });
}
