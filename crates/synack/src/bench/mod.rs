//! `synack bench`: synack side by side with its rivals in the same run —
//! smoltcp (with the `rivals` feature), the Linux kernel, and memcpy as the
//! line no stack can cross. Ratios matter more than absolute figures on a
//! shared machine.

mod alloc;
mod bulk;
mod churn;
mod cpu_clock;
mod kernel_path;
mod loss;
mod mem;
mod memcpy;
mod netns;
mod pair;
mod rounds;
#[cfg(feature = "rivals")]
mod smol;
#[cfg(feature = "rivals")]
mod smol_sim;
mod tun;

use std::fmt::Write as _;
use std::time::Duration;

pub use alloc::CountingAlloc;

/// One row: synack's figure and each rival's.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row's name (`bulk-1500`, `churn`, …).
    pub bench: String,
    /// The unit of every figure.
    pub unit: &'static str,
    /// synack's figure; `None` when it could not be measured here.
    pub synack: Option<f64>,
    /// Each rival's figure.
    pub rivals: Vec<(&'static str, f64)>,
    /// A remark printed under the table (how it was measured).
    pub note: Option<String>,
    /// Further figures of the row (a model, a fraction of the link rate,
    /// spurious retransmissions, …), each for synack and the rivals.
    pub extras: Vec<Extra>,
}

/// A further figure of a row: in JSON `"key": {"synack": v, RIVAL: w}`
/// after the usual fields, in the table a line under the row.
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    /// The name (`spurious_pct`, `jain`, `completion_ms`, …).
    pub key: &'static str,
    /// synack's figure.
    pub synack: Option<f64>,
    /// Each rival's figure (or a reference figure, such as `model`).
    pub rivals: Vec<(&'static str, f64)>,
}

impl Row {
    fn new(bench: &str, unit: &'static str, synack: Option<f64>) -> Row {
        Row {
            bench: bench.to_string(),
            unit,
            synack,
            rivals: Vec::new(),
            note: None,
            extras: Vec::new(),
        }
    }

    fn extra(mut self, extra: Extra) -> Row {
        self.extras.push(extra);
        self
    }

    fn rival(mut self, name: &'static str, value: Option<f64>) -> Row {
        if let Some(v) = value {
            self.rivals.push((name, v));
        }
        self
    }

    fn note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }

    /// The row as one JSON object: `{"bench", "unit", "synack", "rivals",
    /// "ratio"}`; the ratio is synack / rival.
    pub fn json(&self) -> String {
        let num = |v: f64| {
            if v.is_finite() {
                format!("{v:.6}")
            } else {
                "null".into()
            }
        };
        let mut s = format!(
            "{{\"bench\": \"{}\", \"unit\": \"{}\", \"synack\": {}, \"rivals\": {{",
            self.bench,
            self.unit,
            self.synack.map_or("null".into(), num)
        );
        for (i, (name, v)) in self.rivals.iter().enumerate() {
            let _ = write!(
                s,
                "{}\"{name}\": {}",
                if i > 0 { ", " } else { "" },
                num(*v)
            );
        }
        s.push_str("}, \"ratio\": {");
        for (i, (name, v)) in self.rivals.iter().enumerate() {
            let ratio = self.synack.map_or("null".into(), |x| num(x / v));
            let _ = write!(s, "{}\"{name}\": {ratio}", if i > 0 { ", " } else { "" });
        }
        s.push('}');
        for e in &self.extras {
            let _ = write!(
                s,
                ", \"{}\": {{\"synack\": {}",
                e.key,
                e.synack.map_or("null".into(), num)
            );
            for (name, v) in &e.rivals {
                let _ = write!(s, ", \"{name}\": {}", num(*v));
            }
            s.push('}');
        }
        s.push('}');
        s
    }
}

/// The names `synack bench` knows, in the order it runs them.
pub const ROWS: &[&str] = &[
    "memcpy",
    "bulk-1500",
    "bulk-65535",
    "churn",
    "scale-0",
    "scale-1000",
    "scale-10000",
    "scale-100000",
    "mem-established",
    "mem-timewait",
    "mem-halfopen",
    "rss-1m",
    "tun-to-kernel",
    "tun-from-kernel",
    "loss-0",
    "loss-0.1",
    "loss-1",
    "loss-3",
    "burst",
    "reorder-2",
    "tail-loss",
    "bloat",
    "shallow",
    "fairness",
];

/// The rows of `synack bench loss`: loss recovery and congestion control
/// over simulated paths (`loss.rs`).
pub const LOSS_ROWS: &[&str] = &[
    "loss-0",
    "loss-0.1",
    "loss-1",
    "loss-3",
    "burst",
    "reorder-2",
    "tail-loss",
    "bloat",
    "shallow",
    "fairness",
];

/// Whether `name` is selected by `wanted` (empty: everything; a prefix
/// like `scale` or `mem` selects its group; `loss` selects every row of
/// [`LOSS_ROWS`]).
pub fn selected(name: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || wanted.iter().any(|w| {
            name == w
                || name.starts_with(&format!("{w}-"))
                || (w == "loss" && LOSS_ROWS.contains(&name))
        })
}

/// How much work each row does.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Bytes moved by the bulk rows (the figure: 1 GiB).
    pub bulk_bytes: u64,
    /// Bytes moved by the scale rows.
    pub scale_bytes: u64,
    /// How long the churn row runs per stack.
    pub churn_time: Duration,
    /// Bytes moved each way by the TUN rows.
    pub tun_bytes: u64,
    /// Simulated duration of the bulk transfers of the loss rows (the
    /// issue's figure: 30 s).
    pub loss_time: Duration,
    /// Whether to run the rivals too (off only for profiling synack alone).
    pub rivals: bool,
}

impl Default for Effort {
    fn default() -> Self {
        Effort {
            bulk_bytes: 1 << 30,
            scale_bytes: 256 << 20,
            churn_time: Duration::from_secs(5),
            tun_bytes: 256 << 20,
            loss_time: Duration::from_secs(30),
            rivals: true,
        }
    }
}

/// Runs one row by name; `meter` reads the live heap (for the memory
/// rows).
pub fn run_row(name: &str, effort: &Effort, meter: &dyn Fn() -> Option<isize>) -> Option<Row> {
    // Rivals run only when asked for; `None` leaves them out of the row.
    let rival = |f: &dyn Fn() -> Option<f64>| if effort.rivals { f() } else { None };
    let row = match name {
        "memcpy" => Row::new(name, "Gbit/s", Some(memcpy::bandwidth(effort.bulk_bytes))).note(
            "memcpy: two copies of every byte (into a 1 MiB ring and out), as a stack must do",
        ),
        "bulk-1500" | "bulk-65535" => {
            let mtu: u16 = if name == "bulk-1500" { 1500 } else { 65535 };
            // Every round moves the row's full amount (smoltcp runs faster
            // over longer transfers: a third would understate it).
            let bytes = effort.bulk_bytes;
            let [ours, smol, copy] = rounds::interleaved([
                &|| Some(bulk::synack(mtu, bytes, 0)),
                &|| rival(&|| smoltcp_bulk(mtu, bytes, 0)),
                &|| rival(&|| Some(memcpy::bandwidth(bytes))),
            ]);
            Row::new(name, "Gbit/s", ours)
                .rival("smoltcp", smol)
                .rival("memcpy", copy)
                .note("bulk: the stacks take turns over 3 rounds of the full amount each; each figure is its median")
        }
        "churn" => {
            let time = effort.churn_time;
            let [ours, smol, kernel] = rounds::interleaved([
                &|| Some(churn::synack(time)),
                &|| rival(&|| smoltcp_churn(time)),
                &|| rival(&|| churn::kernel(time).ok()),
            ]);
            Row::new(name, "conn/s", ours)
                .rival("smoltcp", smol)
                .rival("kernel", kernel)
                .note("churn: synack's client holds TIME-WAIT (an MSL of 1 s, over 256 addresses) for every connection, where smoltcp's loop aborts its one reused socket out of TIME-WAIT; synack's loop polls, as smoltcp's does, with connection events off (conn::Config::events); 3 interleaved rounds, medians")
        }
        _ if name.starts_with("scale-") => {
            let n: usize = name["scale-".len()..].parse().ok()?;
            let bytes = effort.scale_bytes;
            // The target compares N idle connections with none. Taken in
            // separate rows, a change of the machine's speed between them
            // went straight into that ratio; so each row also runs N = 0,
            // taking turns with N, and prints the ratio of the medians.
            let [ours, none] = rounds::interleaved([
                &|| Some(bulk::synack(1500, bytes, n)),
                &|| (n > 0).then(|| bulk::synack(1500, bytes, 0)),
            ]);
            let row = Row::new(name, "Gbit/s", ours)
                .rival("smoltcp", rival(&|| smoltcp_bulk(1500, bytes, n)))
                .note("scale: synack takes 3 turns with N idle connections and 3 without, medians; pct_of_scale_0 is their ratio; smoltcp runs once");
            if n == 0 {
                row
            } else {
                row.extra(Extra {
                    key: "pct_of_scale_0",
                    synack: ours.zip(none).map(|(with, without)| 100.0 * with / without),
                    rivals: Vec::new(),
                })
            }
        }
        "mem-established" => Row::new(name, "bytes", mem::established(meter, 10_000))
            .note("mem: heap growth per connection end (counting allocator), 10 000 of each"),
        "mem-timewait" => Row::new(name, "bytes", mem::time_wait(meter, 10_000)),
        "mem-halfopen" => Row::new(name, "bytes", mem::half_open(meter, 10_000)),
        "rss-1m" => Row::new(name, "MiB", mem::rss_with(1_000_000))
            .note("rss-1m: resident size of this process with 1 000 000 established connections (both ends)"),
        "tun-to-kernel" | "tun-from-kernel" => {
            if !tun::available() {
                return Some(Row::new(name, "Gbit/s", None).note(
                    "tun rows: skipped (they need root and /dev/net/tun)",
                ));
            }
            let dir = if name == "tun-to-kernel" {
                tun::Direction::ToKernel
            } else {
                tun::Direction::FromKernel
            };
            let bytes = effort.tun_bytes;
            let report = |what: &str, r: std::io::Result<f64>| {
                r.map_err(|e| eprintln!("{name} ({what}): {e}")).ok()
            };
            // Wall-clock rows over real devices swing with the machine's
            // load: each stack takes turns, as in the bulk rows.
            let [ours, plain, smol, veth] = rounds::interleaved([
                &|| report("synack", tun::synack_kernel(bytes, dir, true)),
                &|| report("synack, no offload", tun::synack_kernel(bytes, dir, false)),
                &|| rival(&|| smoltcp_tun(bytes, dir)),
                &|| rival(&|| report("veth", tun::kernel_veth(bytes))),
            ]);
            Row::new(name, "Gbit/s", ours)
                .rival("smoltcp", smol)
                .rival("kernel", veth)
                .extra(Extra {
                    key: "no_offload",
                    synack: plain,
                    rivals: Vec::new(),
                })
                .note("tun: synack (and smoltcp) <-> the kernel over a TUN device; synack with the device's segmentation offloads (no_offload: without; smoltcp has none); kernel: the kernel to itself over veth; 3 interleaved rounds, medians")
        }
        _ if LOSS_ROWS.contains(&name) => loss::row(name, effort.loss_time, effort.rivals)?,
        _ => return None,
    };
    Some(row)
}

#[cfg(feature = "rivals")]
fn smoltcp_bulk(mtu: u16, total: u64, idle: usize) -> Option<f64> {
    smol::bulk(mtu, total, idle)
}

#[cfg(not(feature = "rivals"))]
fn smoltcp_bulk(_mtu: u16, _total: u64, _idle: usize) -> Option<f64> {
    None
}

#[cfg(feature = "rivals")]
fn smoltcp_tun(total: u64, dir: tun::Direction) -> Option<f64> {
    tun::smoltcp_kernel(total, dir)
        .map_err(|e| eprintln!("tun rows (smoltcp): {e}"))
        .ok()
}

#[cfg(not(feature = "rivals"))]
fn smoltcp_tun(_total: u64, _dir: tun::Direction) -> Option<f64> {
    None
}

#[cfg(feature = "rivals")]
fn smoltcp_churn(d: Duration) -> Option<f64> {
    smol::churn(d)
}

#[cfg(not(feature = "rivals"))]
fn smoltcp_churn(_d: Duration) -> Option<f64> {
    None
}

/// Renders rows as a table with ratios to each rival.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<16} {:>8} {:>12}  rivals (synack ÷ rival)",
        "row", "unit", "synack"
    );
    for r in rows {
        let v = r.synack.map_or("n/a".into(), |v| format!("{v:.3}"));
        let _ = write!(s, "{:<16} {:>8} {:>12} ", r.bench, r.unit, v);
        for (name, x) in &r.rivals {
            let ratio = r.synack.map_or("n/a".into(), |v| format!("{:.2}×", v / x));
            let _ = write!(s, " {name} {x:.3} ({ratio})");
        }
        s.push('\n');
        for e in &r.extras {
            let v = e.synack.map_or("n/a".into(), |v| format!("{v:.3}"));
            let _ = write!(s, "{:>16} {:>8} {:>12} ", "", e.key, v);
            for (name, x) in &e.rivals {
                let _ = write!(s, " {name} {x:.3}");
            }
            s.push('\n');
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for n in rows.iter().filter_map(|r| r.note.as_deref()) {
        if !seen.contains(&n) {
            seen.push(n);
            let _ = writeln!(s, "  {n}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_format() {
        let r = Row::new("churn", "conn/s", Some(200.0))
            .rival("kernel", Some(100.0))
            .rival("smoltcp", None);
        assert_eq!(
            r.json(),
            "{\"bench\": \"churn\", \"unit\": \"conn/s\", \"synack\": 200.000000, \
             \"rivals\": {\"kernel\": 100.000000}, \"ratio\": {\"kernel\": 2.000000}}"
        );
    }

    #[test]
    fn selection_by_group() {
        let w = vec!["scale".to_string()];
        assert!(selected("scale-1000", &w));
        assert!(!selected("bulk-1500", &w));
        assert!(selected("anything", &[]));
        let l = vec!["loss".to_string()];
        assert!(selected("loss-3", &l) && selected("fairness", &l) && selected("tail-loss", &l));
        assert!(!selected("churn", &l));
    }

    #[test]
    fn json_extras() {
        let r = Row::new("reorder-2", "Mbit/s", Some(90.0))
            .rival("smoltcp", Some(45.0))
            .extra(Extra {
                key: "spurious_pct",
                synack: Some(0.5),
                rivals: vec![("smoltcp", 4.0)],
            });
        assert_eq!(
            r.json(),
            "{\"bench\": \"reorder-2\", \"unit\": \"Mbit/s\", \"synack\": 90.000000, \
             \"rivals\": {\"smoltcp\": 45.000000}, \"ratio\": {\"smoltcp\": 2.000000}, \
             \"spurious_pct\": {\"synack\": 0.500000, \"smoltcp\": 4.000000}}"
        );
        assert!(table(&[r]).contains("spurious_pct"));
    }

    #[test]
    fn small_runs_move_every_byte() {
        // A bulk run at both MTUs and a short churn run complete.
        assert!(bulk::synack(1500, 4 << 20, 10) > 0.0);
        assert!(bulk::synack(65535, 4 << 20, 0) > 0.0);
        assert!(churn::synack(Duration::from_millis(50)) > 0.0);
    }
}
