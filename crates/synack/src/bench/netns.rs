//! Network namespaces for the rows that need the kernel on a TUN device
//! or a veth pair: made with `ip netns add`, deleted when dropped, and
//! entered by one thread at a time. Needs root.

use std::io;
use std::process::Command;

use crate::enter_netns;

/// A network namespace that is deleted when dropped.
pub(crate) struct Netns(pub(crate) String);

impl Netns {
    /// A fresh namespace named for `tag` and this process, with its
    /// loopback up.
    pub(crate) fn new(tag: &str) -> io::Result<Netns> {
        let name = format!("synack-bench-{tag}-{}", std::process::id());
        ip(&["netns", "add", &name])?;
        let ns = Netns(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Runs `f` on a thread inside this namespace.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        in_ns(&self.0, f)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

/// Runs `ip` with `args`; its complaint as the error.
pub(crate) fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Runs `f` on a thread inside namespace `ns`.
pub(crate) fn in_ns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter_netns(&ns)?;
        f()
    })
    .join()
    .map_err(|_| io::Error::other("thread panicked"))?
}
