//! `synack trace FILE.pcap`: the connections of a capture as ladder
//! diagrams, and optionally an SVG ladder and a time–sequence graph. The
//! work is done by `synack::viz`.

use std::path::PathBuf;

use clap::Args;
use synack::viz::text::{self, TextOptions};
use synack::viz::trace::{listing, trace, Traced};
use synack::viz::{graph, svg, Detail, Lang, View};

use crate::demo::{parse_lang, ColorChoice};

/// Ladders drawn at most when no connection is picked.
const MAX_DRAWN: usize = 10;

/// Arguments of `synack trace`.
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// A pcap or pcapng capture: Ethernet, raw IP or Linux cooked (SLL,
    /// SLL2), such as `demo.pcap` or one written by `tcpdump -w`.
    pub file: PathBuf,
    /// Draw only connection N (as numbered in the listing).
    #[arg(long, value_name = "N")]
    pub conn: Option<usize>,
    /// Write the ladder as SVG to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Write the time–sequence (Stevens) graph as SVG to FILE.
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,
    /// Absolute sequence numbers instead of relative ones.
    #[arg(long)]
    pub absolute: bool,
    /// Draw every segment (by default long runs of data are folded).
    #[arg(long)]
    pub all: bool,
    /// Show every option of every segment.
    #[arg(long, short)]
    pub verbose: bool,
    /// Language: en or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    /// Colour: auto (when standard output is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub fn run(args: TraceArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let (capture, conns) = trace(&bytes).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let color = args.color.enabled();
    let lang = args.lang;
    if conns.is_empty() {
        return Err(format!(
            "{}: no TCP segments ({} other records skipped)",
            args.file.display(),
            capture.skipped
        ));
    }
    let picked: Vec<(usize, &Traced)> = match args.conn {
        Some(n) if n >= 1 && n <= conns.len() => vec![(n, &conns[n - 1])],
        Some(n) => {
            return Err(format!(
                "--conn {n}: the capture has connections 1 to {}",
                conns.len()
            ))
        }
        None => conns.iter().enumerate().map(|(i, c)| (i + 1, c)).collect(),
    };
    let view = View {
        handshake: true,
        transfer: if args.all {
            Detail::Full
        } else {
            Detail::Notable
        },
        close: true,
        absolute: args.absolute,
    };
    let opts = TextOptions {
        color,
        lang,
        verbose: args.verbose,
    };
    if args.conn.is_none() {
        print!("{}", listing(&conns, lang, color));
        if capture.skipped > 0 {
            println!(
                "  ({} {})",
                capture.skipped,
                lang.pick(
                    "records skipped: not TCP over IP",
                    "条记录被跳过：不是 IP 上的 TCP"
                )
            );
        }
        println!();
    }
    let mut drawn = Vec::new();
    for (n, c) in picked.iter().take(MAX_DRAWN) {
        let ladder = c.ladder(&view);
        println!(
            "{} {n}: {} → {}\n",
            lang.pick("Connection", "连接"),
            c.conversation.left,
            c.conversation.right
        );
        print!("{}", text::render(&ladder, &opts));
        println!();
        drawn.push((format!("{} {n}", lang.pick("Connection", "连接")), ladder));
    }
    if picked.len() > MAX_DRAWN {
        println!(
            "{} {}",
            picked.len() - MAX_DRAWN,
            lang.pick(
                "more connections not drawn; pick one with --conn N",
                "条连接未画出；用 --conn N 选择"
            ),
        );
    }
    let states: Vec<_> = {
        let mut v = Vec::new();
        for (_, l) in &drawn {
            for s in l.states() {
                if !v.contains(&s) {
                    v.push(s);
                }
            }
        }
        v
    };
    print!("{}", text::legend(&states, lang, color));
    if let Some(path) = &args.svg {
        let refs: Vec<(String, &synack::viz::Ladder)> =
            drawn.iter().map(|(h, l)| (h.clone(), l)).collect();
        let title = format!("synack trace {}", args.file.display());
        std::fs::write(path, svg::render(&title, &refs, lang))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.graph {
        // The picked connection, or the one that carried the most data.
        let c = picked
            .iter()
            .max_by_key(|(_, c)| {
                let (a, b) = c.conversation.data_bytes();
                a + b
            })
            .map(|(_, c)| *c)
            .ok_or("no connection to graph")?;
        std::fs::write(path, graph::render(&c.conversation, lang))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
