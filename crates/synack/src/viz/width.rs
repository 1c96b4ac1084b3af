//! Display width of text in a terminal: CJK characters take two columns,
//! everything this crate prints otherwise one (ANSI colour sequences none).

/// Whether `c` is drawn two columns wide (CJK ideographs, kana, Hangul,
/// full-width forms and CJK punctuation).
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// The number of terminal columns `s` takes, ignoring ANSI escape
/// sequences.
pub fn width(s: &str) -> usize {
    let mut w = 0;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            if c.is_ascii_alphabetic() {
                esc = false;
            }
            continue;
        }
        if c == '\x1b' {
            esc = true;
            continue;
        }
        w += if is_wide(c) { 2 } else { 1 };
    }
    w
}

/// `s` followed by spaces up to `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let n = width(s);
    let mut out = String::with_capacity(s.len() + w.saturating_sub(n));
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(n)));
    out
}

/// Spaces then `s`, `w` columns in all.
pub fn pad_left(s: &str, w: usize) -> String {
    let n = width(s);
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(n)).collect();
    out.push_str(s);
    out
}

/// Splits plain text (no escape sequences) into lines of at most `w`
/// columns, at spaces when there are any, anywhere between wide
/// characters.
pub fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0;
        for word in split_words(para) {
            let ww = width(&word);
            if line_w + ww > w && !line.trim().is_empty() {
                lines.push(line.trim_end().to_string());
                line = String::new();
                line_w = 0;
                if word == " " {
                    continue;
                }
            }
            line_w += ww;
            line.push_str(&word);
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Words (runs of non-space, non-wide characters), single spaces and
/// single wide characters, so that lines break between any two wide
/// characters.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c == ' ' || is_wide(c) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_escapes() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("三次握手"), 8);
        assert_eq!(width("\x1b[1;32mOK\x1b[0m"), 2);
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad_left("ab", 4), "  ab");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("三次握手", 4), ["三次", "握手"]);
        assert!(wrap("a b", 10).len() == 1);
    }
}
