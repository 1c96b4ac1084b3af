use core::fmt;

/// Why a packet could not be parsed or emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than a header or a length field says it is.
    Truncated,
    /// A field holds a value the protocol does not allow (a data offset
    /// below 5, an option with an impossible length, a wrong version, …).
    Malformed,
    /// The checksum does not verify.
    BadChecksum,
    /// A well-formed packet of a kind this crate does not handle (for
    /// example an IPv6 extension header it cannot skip).
    Unsupported,
    /// The output buffer is too small for what is being emitted, or the
    /// content does not fit its header (more than 40 bytes of TCP options).
    NoSpace,
}

/// The result of parsing or emitting.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::BadChecksum => "bad checksum",
            Error::Unsupported => "unsupported packet",
            Error::NoSpace => "no space to emit",
        })
    }
}

impl core::error::Error for Error {}
