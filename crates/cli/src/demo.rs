//! `synack demo`: TCP at work between two synack endpoints on a simulated
//! link. Everything shown is computed by `synack::demo`; this file parses
//! the flags, draws the progress bar and writes the files.

use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use synack::demo::{self, Options, Progress, Scenario};
use synack::viz::Lang;

/// When to colour the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When standard output is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour standard output.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Auto => std::io::stdout().is_terminal(),
            ColorChoice::Always => true,
            ColorChoice::Never => false,
        }
    }
}

/// Arguments of `synack demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// What to play: transfer (handshake, data, close), handshake, close,
    /// lost-syn, old-duplicate-syn, half-close, simultaneous-open,
    /// simultaneous-close, reset, refused, syn-flood, zero-window.
    #[arg(long, default_value = "transfer", value_parser = parse_scenario)]
    pub scenario: Scenario,
    /// Bytes the transfer moves.
    #[arg(long, default_value_t = demo::DEFAULT_BYTES)]
    pub bytes: u64,
    /// Link settings replacing the defaults key by key, each direction,
    /// e.g. `delay=50ms,loss=0.05,reorder=0.01` (keys: rate, delay, jitter,
    /// queue, loss, burst, reorder, dup, corrupt). Default
    /// `rate=50mbit,delay=10ms,loss=0.01` (loss only for `transfer`).
    #[arg(long, value_name = "SPEC")]
    pub impair: Option<String>,
    /// The seed of every random choice (the same seed replays the same
    /// packets); random when not given.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Absolute sequence numbers instead of relative ones.
    #[arg(long)]
    pub absolute: bool,
    /// Draw lost segments and retransmissions of the transfer, and every
    /// option of every segment.
    #[arg(long, short)]
    pub verbose: bool,
    /// Language of the narration: en or zh.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: Lang,
    /// Do not write demo.pcap and demo.svg.
    #[arg(long)]
    pub no_files: bool,
    /// Colour: auto (when standard output is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    Scenario::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!("unknown scenario `{s}`; one of: {}", names.join(", "))
    })
}

pub(crate) fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language `{s}`; en or zh"))
}

/// A seed from the clock and the process, when none is given.
fn fresh_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (t ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000
}

pub fn run(args: DemoArgs) -> Result<(), String> {
    let options = Options {
        scenario: args.scenario,
        bytes: args.bytes,
        impair: args.impair,
        seed: args.seed.unwrap_or_else(fresh_seed),
        absolute: args.absolute,
        verbose: args.verbose,
        lang: args.lang,
    };
    // Fail on a bad spec before anything is drawn.
    options.link()?;
    let bar = progress_bar(options.bytes, options.scenario == Scenario::Transfer);
    let mut on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_length(p.total.max(1));
            bar.set_position(p.acked);
            bar.set_message(format!("simulated {:.2} s", p.now.micros() as f64 / 1e6));
        }
    };
    let result = demo::run(&options, &mut on_progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let demo = result?;
    print!("{}", demo.render_text(args.color.enabled()));
    if !args.no_files {
        std::fs::write("demo.pcap", &demo.pcap).map_err(|e| format!("demo.pcap: {e}"))?;
        std::fs::write("demo.svg", demo.render_svg()).map_err(|e| format!("demo.svg: {e}"))?;
        println!();
        println!(
            "{}",
            options.lang.pick(
                "Wrote demo.pcap (every packet, open it in Wireshark) and demo.svg (the ladder).",
                "已写入 demo.pcap（所有报文，可用 Wireshark 打开）和 demo.svg（时序图）。"
            )
        );
    }
    Ok(())
}

/// A progress bar on standard error, only when it is a terminal and there
/// is a transfer to follow.
fn progress_bar(total: u64, transfer: bool) -> Option<ProgressBar> {
    if !transfer || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total.max(1));
    let style =
        ProgressStyle::with_template("  {bar:40.cyan/blue} {bytes:>9}/{total_bytes:9} {msg}")
            .map(|s| s.progress_chars("█▉▊▋▌▍▎▏ "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}
