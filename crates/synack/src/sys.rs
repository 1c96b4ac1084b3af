//! Most of the unsafe code of synack (the rest is one call into an AVX2
//! function in `fast_checksum.rs`): a handful of Linux system calls (TUN
//! setup, eventfd, poll, network namespaces), each wrapped in a safe
//! function that checks its result.
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

/// `TUNSETIFF` (`_IOW('T', 202, int)`).
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;
/// Every packet read or written is preceded by a `virtio_net_hdr`.
const IFF_VNET_HDR: libc::c_short = 0x4000;
/// `TUNSETOFFLOAD` (`_IOW('T', 208, unsigned int)`).
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
/// The offloads synack takes from the kernel: checksums left partial, and
/// TCP segments over IPv4 and IPv6 larger than the MTU.
const TUN_F_CSUM: libc::c_uint = 0x01;
const TUN_F_TSO4: libc::c_uint = 0x02;
const TUN_F_TSO6: libc::c_uint = 0x04;

/// `struct ifreq` as TUNSETIFF reads it: a name and the flags.
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Opens `/dev/net/tun` and attaches it to the TUN interface `name`
/// (created if absent), without packet information headers, non-blocking.
/// With `offload`, every packet carries a `virtio_net_hdr` and the kernel
/// may hand over partial checksums and TCP segments of up to 64 KiB
/// (`TUNSETOFFLOAD`). Returns the file and the interface's actual name.
pub fn open_tun(name: &str, offload: bool) -> io::Result<(File, String)> {
    if name.len() >= libc::IFNAMSIZ {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long (15 bytes at most)",
        ));
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open("/dev/net/tun")
        .map_err(|e| permission_hint(e, "open /dev/net/tun"))?;
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: IFF_TUN | IFF_NO_PI | if offload { IFF_VNET_HDR } else { 0 },
        _pad: [0; 22],
    };
    for (dst, &src) in req.name.iter_mut().zip(name.as_bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: the fd is open; `req` is a properly sized, initialised ifreq
    // that lives across the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req as *mut IfReq) };
    if rc < 0 {
        return Err(permission_hint(io::Error::last_os_error(), "TUNSETIFF"));
    }
    if offload {
        let features = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        // SAFETY: the fd is an attached TUN file; TUNSETOFFLOAD takes its
        // argument by value.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETOFFLOAD as _, features) };
        if rc < 0 {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("TUNSETOFFLOAD: {}", io::Error::last_os_error()),
            ));
        }
    }
    let actual: Vec<u8> = req
        .name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok((file, String::from_utf8_lossy(&actual).into_owned()))
}

/// Adds a clear hint to permission errors: TUN needs root or CAP_NET_ADMIN.
pub fn permission_hint(e: io::Error, what: &str) -> io::Error {
    if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{what}: {e} (a TUN device needs root or CAP_NET_ADMIN)"),
        )
    } else {
        io::Error::new(e.kind(), format!("{what}: {e}"))
    }
}

/// Reads one packet from `fd` into `head` and then `tail` (one `readv`):
/// the bytes read in all.
pub fn read_split(fd: RawFd, head: &mut [u8], tail: &mut [u8]) -> io::Result<usize> {
    let iov = [
        libc::iovec {
            iov_base: head.as_mut_ptr().cast(),
            iov_len: head.len(),
        },
        libc::iovec {
            iov_base: tail.as_mut_ptr().cast(),
            iov_len: tail.len(),
        },
    ];
    // SAFETY: both iovecs describe live, writable buffers of their stated
    // lengths, borrowed mutably for the length of the call.
    let n = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Writes `head` and then `tail` to `fd` as one packet (one `writev`).
pub fn write_split(fd: RawFd, head: &[u8], tail: &[u8]) -> io::Result<usize> {
    let iov = [
        libc::iovec {
            iov_base: head.as_ptr() as *mut libc::c_void,
            iov_len: head.len(),
        },
        libc::iovec {
            iov_base: tail.as_ptr() as *mut libc::c_void,
            iov_len: tail.len(),
        },
    ];
    // SAFETY: both iovecs describe live buffers of their stated lengths;
    // writev only reads through them.
    let n = unsafe { libc::writev(fd, iov.as_ptr(), 2) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// An eventfd: a counter other threads bump to wake a `poll`.
#[derive(Debug)]
pub struct EventFd(OwnedFd);

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: plain syscall; the result is checked before use.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Wakes whoever polls this fd.
    pub fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to an open eventfd. A
        // failure (counter saturated) still leaves it readable: ignore it.
        unsafe {
            libc::write(
                self.0.as_raw_fd(),
                &one as *const u64 as *const libc::c_void,
                8,
            );
        }
    }

    /// Resets the counter after a wake-up.
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN when not set.
        unsafe {
            libc::read(
                self.0.as_raw_fd(),
                &mut v as *mut u64 as *mut libc::c_void,
                8,
            );
        }
    }

    pub fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// Waits until one of `fds` is readable or `timeout` passes (`None`:
/// forever). Returns which fds are readable.
pub fn poll_readable(fds: &[RawFd], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // ppoll, not poll: a timeout in microseconds rather than rounded up
    // to whole milliseconds, so timers (a delayed ACK, a pacing gap, an
    // impaired link's release) fire when they are due.
    let ts = timeout.map(|t| libc::timespec {
        tv_sec: t.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(t.subsec_nanos() as i32),
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    loop {
        // SAFETY: `pfds` is a live, correctly sized array of pollfd; `ts_ptr`
        // is null or points at `ts`, which outlives the call.
        let rc = unsafe {
            libc::ppoll(
                pfds.as_mut_ptr(),
                pfds.len() as libc::nfds_t,
                ts_ptr,
                std::ptr::null(),
            )
        };
        if rc >= 0 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(pfds
        .iter()
        .map(|p| p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0)
        .collect())
}

/// Moves the calling thread into the network namespace `name` (as made by
/// `ip netns add NAME`). Sockets and TUN devices it then creates live
/// there.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let path = format!("/var/run/netns/{name}");
    let file = File::open(&path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
    // SAFETY: a valid namespace fd; setns only changes this thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        return Err(permission_hint(io::Error::last_os_error(), "setns"));
    }
    Ok(())
}

/// Sets the congestion control of TCP socket `fd` (`TCP_CONGESTION`, by
/// its Linux name: `cubic`, `reno`, `bbr`).
pub fn set_congestion_control(fd: RawFd, name: &str) -> io::Result<()> {
    // SAFETY: `name` outlives the call and its length is passed with it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the process runs with root's effective user id.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// SIGINT and SIGTERM, blocked so that one thread can wait for them.
#[derive(Debug)]
pub struct TermSignals {
    set: libc::sigset_t,
}

impl TermSignals {
    /// Blocks SIGINT and SIGTERM in the calling thread and in the threads
    /// it starts afterwards (call it first in `main`).
    pub fn block() -> io::Result<TermSignals> {
        // SAFETY: sigset_t is plain data; the calls initialise and fill it
        // and install it as this thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            Ok(TermSignals { set })
        }
    }

    /// Waits for SIGINT or SIGTERM; returns the signal number.
    pub fn wait(&self) -> io::Result<i32> {
        let mut sig: libc::c_int = 0;
        // SAFETY: waits on the set built in `block`; `sig` is a live int.
        let rc = unsafe { libc::sigwait(&self.set, &mut sig) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(sig)
    }
}

/// CPU time this thread has used so far (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
