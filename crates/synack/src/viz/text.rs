//! The ladder as plain text, at most [`WIDTH`] columns, with ANSI colour
//! when asked:
//!
//! ```text
//!   time  client 10.0.0.1:49152                              server 10.0.0.2:80   time
//!         CLOSED                                                   LISTEN
//! 0.0000  SYN-SENT     ── SYN seq=0 win=65535 ─────────────────▶ SYN-RECEIVED 0.0100
//! ```
//!
//! Each row is one segment: the time it left one host and reached the
//! other, and the state each host entered because of it.

use std::fmt::Write as _;
use std::time::Duration;

use proto::conn::{Cause, State};
use wire::tcp::TcpFlags;
use wire::Instant;

use super::capture::Mark;
use super::infer::Side;
use super::ladder::{Arrow, Gap, Ladder, Row, StateRow};
use super::lang::Lang;
use super::width::{pad, pad_left, width, wrap};

/// The most columns any line takes.
pub const WIDTH: usize = 99;
const TIME: usize = 7;
const STATE: usize = 12;
const ARROW: usize = WIDTH - 2 * (TIME + 2 + STATE + 1) - 1;

/// How to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextOptions {
    /// ANSI colours.
    pub color: bool,
    /// The language of the words around the numbers.
    pub lang: Lang,
    /// Show every option of every segment (timestamps included).
    pub verbose: bool,
}

/// ANSI styles, or nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Bold.
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    /// Faint.
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
    /// A state name.
    pub fn state(self, s: &str) -> String {
        self.wrap("1;32", s)
    }
    /// A warning (loss, RST).
    pub fn red(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    /// Remarks.
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    /// Left-to-right arrows.
    pub fn right(self, s: &str) -> String {
        self.wrap("36", s)
    }
    /// Right-to-left arrows.
    pub fn left(self, s: &str) -> String {
        self.wrap("35", s)
    }
    /// A heading.
    pub fn heading(self, s: &str) -> String {
        self.wrap("1;4", s)
    }
}

/// A time in seconds in at most seven columns.
pub fn fmt_time(t: Instant) -> String {
    let s = t.micros() as f64 / 1e6;
    if s < 100.0 {
        format!("{s:.4}")
    } else if s < 10_000.0 {
        format!("{s:.2}")
    } else {
        format!("{s:.0}")
    }
}

/// A duration for people: `20 ms`, `1.5 s`, `60 s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1.0 {
        format!("{:.0} µs", d.as_micros())
    } else if ms < 1000.0 {
        format!("{} ms", trim_float(ms, 1))
    } else {
        format!("{} s", trim_float(ms / 1e3, 2))
    }
}

/// `x` with at most `digits` decimals, trailing zeros removed.
fn trim_float(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// What a gap folds, as both drawings label it: "N segments, X B →,
/// Y B ←" (a direction without data left out).
pub fn gap_traffic(g: &Gap, lang: Lang) -> String {
    let total = g.segments[0] + g.segments[1];
    let mut text = format!(
        "{} {}",
        fmt_count(total),
        lang.pick(if total == 1 { "segment" } else { "segments" }, "个报文段")
    );
    if g.bytes[0] > 0 {
        let _ = write!(text, ", {} B →", fmt_count(g.bytes[0]));
    }
    if g.bytes[1] > 0 {
        let _ = write!(text, ", {} B ←", fmt_count(g.bytes[1]));
    }
    text
}

/// "N retransmitted", if any segment of the gap was.
pub fn gap_retransmitted(g: &Gap, lang: Lang) -> Option<String> {
    (g.retransmissions > 0).then(|| {
        format!(
            "{} {}",
            fmt_count(g.retransmissions),
            lang.pick("retransmitted", "次重传")
        )
    })
}

/// A number with thousands separators.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The flags as Wireshark names them, comma-separated without spaces.
pub fn fmt_flags(f: TcpFlags) -> String {
    f.to_string().replace(", ", ",")
}

/// The main label of an arrow: flags, seq, ack, len, win.
pub fn arrow_label(a: &Arrow) -> String {
    let mut s = format!("{} seq={}", fmt_flags(a.flags), a.seq);
    if let Some(ack) = a.ack {
        let _ = write!(s, " ack={ack}");
    }
    if a.len > 0 {
        let _ = write!(s, " len={}", a.len);
    }
    if !a.flags.contains(TcpFlags::RST) {
        let _ = write!(s, " win={}", a.window);
    }
    s
}

/// The options of an arrow, as short words. Timestamps only on SYNs
/// unless `all`.
pub fn option_words(a: &Arrow, all: bool) -> Vec<String> {
    let o = &a.options;
    let mut out = Vec::new();
    if let Some(mss) = o.mss {
        out.push(format!("mss={mss}"));
    }
    if o.sack_permitted {
        out.push("sackOK".to_string());
    }
    if let Some(ts) = o.timestamps {
        if all || a.flags.contains(TcpFlags::SYN) {
            out.push(format!("TSval={} TSecr={}", ts.tsval, ts.tsecr));
        }
    }
    if let Some(ws) = o.window_scale {
        out.push(format!("wscale={ws}"));
    }
    for b in o.sack.as_slice() {
        out.push(format!("SACK={}-{}", b.start.0, b.end.0));
    }
    out
}

/// Draws the ladder.
pub fn render(l: &Ladder, o: &TextOptions) -> String {
    let p = Paint(o.color);
    let mut out = String::new();
    // Host names over the state columns.
    let name = |i: usize| {
        let peer = &l.peers[i];
        if peer.name.is_empty() {
            peer.addr.to_string()
        } else {
            format!("{} {}", peer.name, peer.addr)
        }
    };
    let (ln, rn) = (name(0), name(1));
    let inner = WIDTH - 2 * (TIME + 2);
    let gap = inner.saturating_sub(width(&ln) + width(&rn)).max(1);
    let _ = writeln!(
        out,
        "{}{}{}{}",
        " ".repeat(TIME + 2),
        p.bold(&ln),
        " ".repeat(gap),
        p.bold(&rn)
    );
    let t = o.lang.pick("time", "时间");
    let rule = "─".repeat(STATE);
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!(
            "{}  {} {} {}  {}",
            pad_left(t, TIME),
            rule,
            " ".repeat(ARROW),
            rule,
            pad_left(t, TIME)
        ))
    );
    let initial = [l.peers[0].initial, l.peers[1].initial];
    line(
        &mut out,
        None,
        Some(initial[0]),
        &" ".repeat(ARROW),
        Some(initial[1]),
        None,
        p,
    );
    for row in &l.rows {
        match row {
            Row::Arrow(a) => arrow_rows(&mut out, a, o),
            Row::State(s) => state_row(&mut out, s, o),
            Row::Gap(g) => gap_row(&mut out, g, o),
        }
    }
    out
}

/// One line: times, states and the middle (already `ARROW` columns wide).
fn line(
    out: &mut String,
    lt: Option<Instant>,
    ls: Option<State>,
    middle: &str,
    rs: Option<State>,
    rt: Option<Instant>,
    p: Paint,
) {
    let time = |t: Option<Instant>| pad_left(&t.map(fmt_time).unwrap_or_default(), TIME);
    let state = |s: Option<State>| p.state(&pad(s.map_or("", |s| s.name()), STATE));
    let _ = writeln!(
        out,
        "{}  {} {} {}  {}",
        time(lt),
        state(ls),
        middle,
        state(rs),
        time(rt)
    )
    .map(|_| ());
    // Trailing spaces are noise in snapshots and pipes.
    while out.ends_with(" \n") {
        out.truncate(out.len() - 2);
        out.push('\n');
    }
}

/// A line of remarks under an arrow, in the arrow column.
fn extra_line(out: &mut String, text: &str) {
    let _ = writeln!(out, "{}{}", " ".repeat(TIME + 2 + STATE + 1), text);
}

fn arrow_rows(out: &mut String, a: &Arrow, o: &TextOptions) {
    let p = Paint(o.color);
    let mut label = arrow_label(a);
    let mut extras: Vec<String> = Vec::new();
    if width(&label) > ARROW - 6 {
        if let Some(pos) = label.rfind(" win=") {
            extras.push(label[pos + 1..].to_string());
            label.truncate(pos);
        }
    }
    let mark_words: Vec<String> = a
        .marks
        .iter()
        .map(|m| o.lang.mark(*m).to_string())
        .collect();
    extras.extend(option_words(a, o.verbose));
    let marks = if mark_words.is_empty() {
        String::new()
    } else {
        format!(" [{}]", mark_words.join(", "))
    };
    let in_line = width(&label) + width(&marks) <= ARROW - 6;
    let shown = if in_line {
        format!("{label}{marks}")
    } else {
        label.clone()
    };
    let rightward = a.from == Side::Left;
    let fill = ARROW.saturating_sub(width(&shown) + 4);
    let body = if rightward {
        if a.lost {
            format!("── {shown} {}✗  ", "─".repeat(fill.saturating_sub(2)))
        } else {
            format!("── {shown} {}▶", "─".repeat(fill))
        }
    } else if a.lost {
        format!("  ✗{} {shown} ──", "─".repeat(fill.saturating_sub(2)))
    } else {
        format!("◀{} {shown} ──", "─".repeat(fill))
    };
    let body = if a.lost || a.flags.contains(TcpFlags::RST) {
        p.red(&body)
    } else if rightward {
        p.right(&body)
    } else {
        p.left(&body)
    };
    let (lt, rt) = match a.from {
        Side::Left => (Some(a.sent), a.arrived),
        Side::Right => (a.arrived, Some(a.sent)),
    };
    line(out, lt, a.states[0], &body, a.states[1], rt, p);
    let indent = "   ";
    let mut text = String::new();
    let marks_below = !in_line && !mark_words.is_empty();
    if marks_below {
        text.push_str(&format!("[{}] ", mark_words.join(", ")));
    }
    text.push_str(&extras.join(" "));
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    for (i, l) in wrap(text, ARROW - indent.len()).into_iter().enumerate() {
        let l = if i == 0 && marks_below {
            let close = l.find("] ").map_or(l.len(), |k| k + 1);
            let (m, rest) = l.split_at(close.min(l.len()));
            let m = if a.lost { p.red(m) } else { p.yellow(m) };
            format!("{m}{}", p.dim(rest))
        } else {
            p.dim(&l)
        };
        extra_line(out, &format!("{indent}{l}"));
    }
}

fn state_row(out: &mut String, s: &StateRow, o: &TextOptions) {
    let p = Paint(o.color);
    let lang = o.lang;
    let text = match (s.cause, s.after) {
        (Some(Cause::TimeWaitExpired), Some(d)) => format!(
            "{} {}",
            lang.pick("2·MSL wait over after", "2·MSL 等待结束，历时"),
            fmt_duration(d)
        ),
        (Some(c), Some(d)) if d > Duration::ZERO => {
            format!(
                "{} ({} {})",
                lang.cause(c),
                lang.pick("after", "历时"),
                fmt_duration(d)
            )
        }
        (Some(c), _) => lang.cause(c).to_string(),
        (None, _) => String::new(),
    };
    let text = format!("┄┄ {text} ┄┄");
    let middle = match s.side {
        Side::Left => pad(&text, ARROW),
        Side::Right => pad_left(&text, ARROW),
    };
    let middle = p.dim(&middle);
    match s.side {
        Side::Left => line(out, Some(s.at), Some(s.to), &middle, None, None, p),
        Side::Right => line(out, None, None, &middle, Some(s.to), Some(s.at), p),
    }
}

fn gap_row(out: &mut String, g: &Gap, o: &TextOptions) {
    let p = Paint(o.color);
    let lang = o.lang;
    let mut text = format!("⋮ {}", gap_traffic(g, lang));
    let span = g.to.saturating_since(g.from);
    if span > Duration::ZERO {
        let _ = write!(text, ", {}", fmt_duration(span));
    }
    let mut second = Vec::new();
    second.extend(gap_retransmitted(g, lang));
    if g.lost > 0 {
        second.push(format!(
            "{} {}",
            fmt_count(g.lost),
            lang.pick("lost", "个丢失")
        ));
    }
    let text = if second.is_empty() {
        text
    } else {
        format!("{text} ({})", second.join(", "))
    };
    let mut lines = wrap(&text, ARROW - 2);
    let first = lines.remove(0);
    let middle = p.dim(&pad(&format!("  {first}"), ARROW));
    line(out, None, g.states[0], &middle, g.states[1], None, p);
    for l in lines {
        extra_line(out, &p.dim(&format!("    {l}")));
    }
}

/// The states that appear, each with what it means.
pub fn legend(states: &[State], lang: Lang, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    for s in states {
        let _ = writeln!(
            out,
            "  {} {}",
            p.state(&pad(s.name(), STATE + 1)),
            lang.explain_state(*s)
        );
    }
    out
}

/// A mark's legend line, for remarks that need explaining.
pub fn mark_word(m: Mark, lang: Lang) -> &'static str {
    lang.mark(m)
}
