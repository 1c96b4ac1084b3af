//! What the interop tests share: a network namespace per test (removed
//! even when the test fails), a synack stack on a TUN interface inside it,
//! reproducible random data and SHA-256 digests, hang guards.
//!
//! Tests that need root and network namespaces skip with a printed reason
//! when they cannot have them — unless `SYNACK_REQUIRE_NETNS=1`, and then
//! they fail.
//!
//! Also included by the CLI's tests (`#[path]`), so it uses only what both
//! crates have: std, `synack`, `proto`, `sha2`, `libc`.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proto::endpoint::EndpointConfig;
use sha2::{Digest, Sha256};
use synack::device::{Device, Tun, TunConfig};
use synack::Stack;

/// The kernel's address on the TUN link.
pub const KERNEL_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// synack's address on the TUN link.
pub const SYNACK_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// `--net` for the CLI.
pub const NET: &str = "10.77.0.1/24";
/// The TUN interface's name inside each namespace.
pub const TUN_NAME: &str = "synack0";
/// The prefix of every namespace these tests make.
const NS_PREFIX: &str = "synackt-";

/// How long any single blocking socket call of a test may take before the
/// test fails (a hang guard, not a timing assertion).
pub const IO_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether a missing privilege must fail the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("SYNACK_REQUIRE_NETNS").is_ok_and(|v| v == "1")
}

/// Skips (returns `None` after printing why) or, when required, panics.
fn skip<T>(why: &str) -> Option<T> {
    if required() {
        panic!("SYNACK_REQUIRE_NETNS=1 but {why}");
    }
    // Straight to stderr: the test harness captures `eprintln!` of tests
    // that pass, and a skip must be seen.
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let _ = writeln!(io::stderr(), "{test}: skipped: {why}");
    None
}

/// Runs `ip ARGS`, returning its output.
pub fn ip(args: &[&str]) -> io::Result<Output> {
    Command::new("ip").args(args).stdin(Stdio::null()).output()
}

/// Runs `ip ARGS` and panics with its stderr when it fails.
pub fn ip_ok(args: &[&str]) {
    let out = ip(args).unwrap_or_else(|e| panic!("ip {}: {e}", args.join(" ")));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// A network namespace that lives as long as this value (the guard).
/// Its [`Ns`] handles (`handle()`, or through `Deref`) may move into other
/// threads; deleting the namespace is the guard's alone, so it happens
/// even when a hang guard abandons a thread that holds a handle.
#[derive(Debug)]
pub struct Netns(Ns);

/// A handle to a test's network namespace.
#[derive(Debug, Clone)]
pub struct Ns {
    name: std::sync::Arc<str>,
}

impl std::ops::Deref for Netns {
    type Target = Ns;
    fn deref(&self) -> &Ns {
        &self.0
    }
}

impl Netns {
    /// A fresh namespace named after `tag` (unique per process and call),
    /// with its loopback up; `None` (skip) without root or namespaces.
    pub fn new(tag: &str) -> Option<Netns> {
        if !synack::is_root() {
            return skip("network namespace tests need root (run as root, or set up CAP_NET_ADMIN and CAP_SYS_ADMIN)");
        }
        if !Path::new("/dev/net/tun").exists() {
            return skip("/dev/net/tun is missing (no TUN support)");
        }
        remove_stale();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("{NS_PREFIX}{}-{n}-{tag}", std::process::id());
        match ip(&["netns", "add", &name]) {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return skip(&format!(
                    "`ip netns add` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => return skip(&format!("cannot run `ip` (iproute2): {e}")),
        }
        let ns = Netns(Ns { name: name.into() });
        ip_ok(&["-n", ns.name(), "link", "set", "lo", "up"]);
        Some(ns)
    }

    /// A handle to move into other threads.
    pub fn handle(&self) -> Ns {
        self.0.clone()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Processes still inside (`ip netns exec`) are the tests' to end;
        // the namespace itself goes when its last user does.
        let _ = ip(&["netns", "del", self.name()]);
    }
}

impl Ns {
    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a new thread that has entered the namespace, and
    /// returns what it returns. Sockets and TUN devices `f` creates belong
    /// to the namespace wherever they are used afterwards.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let name = self.name.clone();
        std::thread::spawn(move || {
            synack::enter_netns(&name).unwrap_or_else(|e| panic!("enter {name}: {e}"));
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    /// Starts `f` on a thread inside the namespace and returns at once.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let name = self.name.clone();
        std::thread::spawn(move || {
            synack::enter_netns(&name).unwrap_or_else(|e| panic!("enter {name}: {e}"));
            f()
        })
    }

    /// A command run inside the namespace (`ip netns exec NAME PROGRAM`,
    /// which execs PROGRAM: its pid is the program's). It is killed if the
    /// thread that starts it ends first, so that a test abandoned by its
    /// hang guard leaves no process behind when the test binary exits.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new("ip");
        c.args(["netns", "exec", self.name()]).arg(program);
        // SAFETY: prctl is async-signal-safe and touches only the child.
        unsafe {
            c.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        c
    }

    /// A kernel TCP listener in the namespace on 0.0.0.0:`port` (the TUN
    /// interface may come and go while it listens).
    pub fn kernel_listener(&self, port: u16) -> std::net::TcpListener {
        self.run(move || {
            std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
                .unwrap_or_else(|e| panic!("kernel bind :{port}: {e}"))
        })
    }

    /// A kernel TCP connection from the namespace to `addr`, with the hang
    /// guard timeouts set.
    pub fn kernel_connect(&self, addr: SocketAddr) -> io::Result<std::net::TcpStream> {
        self.run(move || {
            let s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(20))?;
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            Ok(s)
        })
    }
}

/// Deletes namespaces left by test processes that no longer run (killed
/// before their guards could act).
fn remove_stale() {
    let Ok(dir) = std::fs::read_dir("/var/run/netns") else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", &name]);
        }
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` reproducible pseudo-random bytes (splitmix64 from `seed`).
pub fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(n);
    out
}

/// Reads `r` to its end, returning the byte count and the SHA-256.
pub fn drain_hash(r: &mut impl Read) -> io::Result<(u64, [u8; 32])> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok((total, h.finalize().into())),
            Ok(n) => {
                h.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes `data` in pieces of varied sizes (so that segment boundaries do
/// not line up with writes).
pub fn write_chunked(w: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let sizes = [1, 1000, 65536, 3, 16384, 1460, 100_000];
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - at);
        w.write_all(&data[at..at + n])?;
        at += n;
        i += 1;
    }
    Ok(())
}

/// Runs `f` on its own thread and fails the test if it has not finished
/// within `limit` (a hang guard: the stuck thread is abandoned and the
/// test's guards still clean up).
pub fn with_deadline<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(Ok(v)) => v,
            Ok(Err(p)) | Err(p) => std::panic::resume_unwind(p),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {limit:?} (hang guard)")
        }
    }
}

/// A child process killed (and reaped) when this guard goes, unless it
/// was waited for.
#[derive(Debug)]
pub struct ChildGuard {
    pub child: Option<Child>,
    what: String,
}

impl ChildGuard {
    /// Guards `child`.
    pub fn new(what: impl Into<String>, child: Child) -> ChildGuard {
        ChildGuard {
            child: Some(child),
            what: what.into(),
        }
    }

    /// The child.
    pub fn get(&mut self) -> &mut Child {
        self.child.as_mut().expect("the child is still guarded")
    }

    /// The child's pid.
    pub fn id(&self) -> u32 {
        self.child
            .as_ref()
            .expect("the child is still guarded")
            .id()
    }

    /// Sends `signal` (a name: TERM, INT, KILL) to the child.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {}", self.id());
    }

    /// Waits for the child to exit, at most `limit` (then kills it and
    /// panics).
    pub fn wait_timeout(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.get().try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.get().kill();
                let _ = self.get().wait();
                panic!("{}: did not exit within {limit:?}", self.what);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit (at most `limit`), collecting what it
    /// printed on stdout and stderr when those were piped.
    pub fn output_timeout(&mut self, limit: Duration) -> Output {
        let mut child = self.child.take().expect("the child is still guarded");
        let out = child.stdout.take();
        let err = child.stderr.take();
        let read_all = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut v);
                }
                v
            })
        };
        let out_t = read_all(out.map(|o| Box::new(o) as Box<dyn Read + Send>));
        let err_t = read_all(err.map(|e| Box::new(e) as Box<dyn Read + Send>));
        self.child = Some(child);
        let status = self.wait_timeout(limit);
        self.child = None;
        Output {
            status,
            stdout: out_t.join().unwrap_or_default(),
            stderr: err_t.join().unwrap_or_default(),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if c.try_wait().ok().flatten().is_none() {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }
}

/// A temporary directory removed when this guard goes.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh directory named after `tag`.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("synackt-{}-{n}-{tag}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create a temporary directory");
        TempDir(p)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// synack's address with `port`.
pub fn synack_addr(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(SYNACK_IP), port)
}

impl Ns {
    /// The mean size of the packets the TUN interface carried, from the
    /// kernel's counters: (synack → kernel, kernel → synack), in bytes.
    pub fn tun_packet_sizes(&self) -> (f64, f64) {
        let out =
            ip(&["-n", self.name(), "-s", "link", "show", "dev", TUN_NAME]).expect("ip -s link");
        let text = String::from_utf8_lossy(&out.stdout);
        // "RX:  bytes packets ..." then a line of figures; the same for TX.
        let mean = |label: &str| -> f64 {
            let mut lines = text
                .lines()
                .skip_while(|l| !l.trim_start().starts_with(label));
            lines.next();
            let figures: Vec<f64> = lines
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            match figures[..] {
                [bytes, packets, ..] if packets > 0.0 => bytes / packets,
                _ => panic!("no {label} counters in: {text}"),
            }
        };
        // The interface receives what synack writes.
        (mean("RX:"), mean("TX:"))
    }
}

/// The kernel's address with `port`.
pub fn kernel_addr(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(KERNEL_IP), port)
}

/// Opens the TUN interface from inside `ns` (so it belongs there), gives
/// the kernel side its address, and starts a synack stack on the device
/// that `wrap` makes of it (a tap, an impairment, or the TUN itself).
pub fn tun_stack(
    ns: &Ns,
    wrap: impl FnOnce(Tun) -> Box<dyn Device> + Send + 'static,
) -> StackGuard {
    tun_stack_with(ns, EndpointConfig::default(), wrap)
}

/// [`tun_stack`] with an endpoint configuration.
pub fn tun_stack_with(
    ns: &Ns,
    config: EndpointConfig,
    wrap: impl FnOnce(Tun) -> Box<dyn Device> + Send + 'static,
) -> StackGuard {
    tun_stack_at(
        ns,
        (IpAddr::V4(KERNEL_IP), 24),
        IpAddr::V4(SYNACK_IP),
        config,
        wrap,
    )
}

/// [`tun_stack`] with the kernel's address and prefix and synack's
/// address (IPv6 ones, say).
pub fn tun_stack_at(
    ns: &Ns,
    kernel: (IpAddr, u8),
    ours: IpAddr,
    config: EndpointConfig,
    wrap: impl FnOnce(Tun) -> Box<dyn Device> + Send + 'static,
) -> StackGuard {
    open_stack(ns, kernel, ours, config, false, wrap)
}

/// [`tun_stack_at`] on a TUN device with offloads: segments of up to
/// 64 KiB each way.
pub fn tun_stack_offloaded(
    ns: &Ns,
    kernel: (IpAddr, u8),
    ours: IpAddr,
    config: EndpointConfig,
) -> StackGuard {
    open_stack(ns, kernel, ours, config, true, plain)
}

fn open_stack(
    ns: &Ns,
    kernel: (IpAddr, u8),
    ours: IpAddr,
    config: EndpointConfig,
    offload: bool,
    wrap: impl FnOnce(Tun) -> Box<dyn Device> + Send + 'static,
) -> StackGuard {
    StackGuard(ns.run(move || {
        let tun = Tun::open(&TunConfig {
            name: TUN_NAME.into(),
            kernel_addr: kernel,
            mtu: 1500,
            offload,
        })
        .unwrap_or_else(|e| panic!("open TUN: {e}"));
        Stack::new(wrap(tun), config, &[ours]).unwrap_or_else(|e| panic!("start the stack: {e}"))
    }))
}

/// A stack that is shut down (its driver stopped, its device closed) when
/// this guard goes, even if sockets still hold handles to it.
pub struct StackGuard(pub Stack);

impl std::ops::Deref for StackGuard {
    type Target = Stack;
    fn deref(&self) -> &Stack {
        &self.0
    }
}

impl Drop for StackGuard {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// A plain TUN device for [`tun_stack`].
pub fn plain(tun: Tun) -> Box<dyn Device> {
    Box::new(tun)
}
