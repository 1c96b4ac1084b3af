//! Bounds-checked big-endian reads and writes shared by the packet views:
//! a view built with `new_unchecked` over a short buffer reads zeros and
//! ignores writes instead of panicking.

/// Reads byte `off`, or 0 when the buffer is too short. Views built with
/// `new_unchecked` over a short buffer read zeros instead of panicking.
pub(crate) fn read_u8(buf: &[u8], off: usize) -> u8 {
    buf.get(off).copied().unwrap_or(0)
}

/// Reads the big-endian `u16` at `off`, or 0 when the buffer is too short.
pub(crate) fn read_u16(buf: &[u8], off: usize) -> u16 {
    match buf.get(off..off.saturating_add(2)) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// Reads the big-endian `u32` at `off`, or 0 when the buffer is too short.
pub(crate) fn read_u32(buf: &[u8], off: usize) -> u32 {
    match buf.get(off..off.saturating_add(4)) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Reads `N` bytes at `off`, or zeros when the buffer is too short.
pub(crate) fn read_array<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    buf.get(off..off.saturating_add(N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

/// Writes byte `off`; does nothing when the buffer is too short.
pub(crate) fn write_u8(buf: &mut [u8], off: usize, value: u8) {
    if let Some(b) = buf.get_mut(off) {
        *b = value;
    }
}

/// Writes `bytes` at `off`; does nothing when the buffer is too short.
pub(crate) fn write_bytes(buf: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(off..off.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_helpers_tolerate_short_buffers() {
        let mut buf = [1u8, 2, 3];
        assert_eq!(read_u16(&buf, 1), 0x0203);
        assert_eq!(read_u16(&buf, 2), 0);
        assert_eq!(read_u32(&buf, 0), 0);
        assert_eq!(read_u16(&buf, usize::MAX), 0);
        assert_eq!(read_array::<2>(&buf, 2), [0, 0]);
        write_bytes(&mut buf, 2, &[9, 9]);
        write_u8(&mut buf, 3, 9);
        assert_eq!(buf, [1, 2, 3]);
    }
}
