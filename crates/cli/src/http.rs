//! Just enough HTTP/1.1 for `serve --app http` and `get`: request and
//! response heads, Content-Length and chunked bodies, keep-alive.

use std::io::{self, BufRead, Read, Write};

/// A request or response head.
#[derive(Debug, Default)]
pub struct Head {
    /// The first line.
    pub start: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is chunked.
    pub fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The Content-Length, if given and valid.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }
}

/// The longest head we accept.
const MAX_HEAD: usize = 64 * 1024;

/// Reads a head; `None` at a clean end of stream before any byte.
pub fn read_head(r: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut head = Head::default();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line)?;
        if n == 0 {
            return if head.start.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated head",
                ))
            };
        }
        total += n;
        if total > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if head.start.is_empty() {
            if line.is_empty() {
                continue; // stray CRLF between requests
            }
            head.start = line.to_string();
        } else if line.is_empty() {
            return Ok(Some(head));
        } else if let Some((name, value)) = line.split_once(':') {
            head.headers
                .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
}

/// Reads a body per its head into `sink`; returns its length. A response
/// with neither length nor chunking runs to the end of the stream when
/// `until_eof`.
pub fn read_body(
    r: &mut impl BufRead,
    head: &Head,
    until_eof: bool,
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    if head.chunked() {
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            let size_hex = line.trim().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size_hex, 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        return Ok(total);
                    }
                }
            }
            copy_exact(r, size, &mut buf, sink)?;
            total += size;
            let mut crlf = String::new();
            r.read_line(&mut crlf)?;
        }
    }
    if let Some(len) = head.content_length() {
        copy_exact(r, len, &mut buf, sink)?;
        return Ok(len);
    }
    if until_eof {
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(total);
            }
            sink(&buf[..n]);
            total += n as u64;
        }
    }
    Ok(0)
}

fn copy_exact(
    r: &mut impl Read,
    mut left: u64,
    buf: &mut [u8],
    sink: &mut dyn FnMut(&[u8]),
) -> io::Result<()> {
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body cut short",
            ));
        }
        sink(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

/// Writes a response head.
pub fn write_response_head(
    w: &mut impl Write,
    status: &str,
    length: u64,
    close: bool,
    content_type: &str,
) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 {status}\r\nServer: synack\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_and_bodies() {
        let raw = b"POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
        let mut r = io::BufReader::new(&raw[..]);
        let h = read_head(&mut r).unwrap().unwrap();
        assert_eq!(h.start, "POST /sha256 HTTP/1.1");
        let mut body = Vec::new();
        assert_eq!(
            read_body(&mut r, &h, false, &mut |b| body.extend_from_slice(b)).unwrap(),
            5
        );
        assert_eq!(body, b"abcde");
        let h2 = read_head(&mut r).unwrap().unwrap();
        assert_eq!(h2.content_length(), Some(2));
        body.clear();
        read_body(&mut r, &h2, false, &mut |b| body.extend_from_slice(b)).unwrap();
        assert_eq!(body, b"hi");
        assert!(read_head(&mut r).unwrap().is_none());
    }
}
