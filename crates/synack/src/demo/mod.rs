//! `synack demo`: a client and a server, each a full synack endpoint, on a
//! simulated link, playing the cases textbooks draw.
//!
//! [`run`] builds the network of a [`Scenario`], runs it on the virtual
//! clock (every segment and state change reported by the stack), and
//! returns a [`Demo`]: the connection's packets and states, the ladder
//! diagrams, the transfer summary, a pcap capture and an SVG picture.
//!
//! ```no_run
//! use synack::demo::{run, Options, Scenario};
//! let demo = run(&Options::new(Scenario::Handshake), &mut |_| {}).unwrap();
//! print!("{}", demo.render_text(false));
//! ```

mod assemble;
mod host;
mod narration;
mod run;
mod scenario;
mod script;
mod summary;

use std::fmt::Write as _;

use sim::LinkSpec;

use crate::viz::ladder::{self, Phase};
use crate::viz::text::{self, Paint, TextOptions};
use crate::viz::width::wrap;
use crate::viz::{Conversation, Detail, Ladder, Lang, Timeline, View};

pub use run::Progress;
pub use scenario::{Scenario, CLIENT, PORT, SERVER};
pub use summary::{fmt_bytes, fmt_rate, Summary};

/// The link when `--impair` says nothing: 20 ms RTT (10 ms each way) at
/// 50 Mbit/s, and 1 % loss for the bulk transfer.
pub const DEFAULT_LINK: &str = "rate=50mbit,delay=10ms,loss=0.01";

/// The bytes the transfer moves by default: 4 MiB.
pub const DEFAULT_BYTES: u64 = 4 << 20;

/// What to play and how to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The scenario.
    pub scenario: Scenario,
    /// Bytes to transfer (the `transfer` scenario).
    pub bytes: u64,
    /// Link settings overriding [`DEFAULT_LINK`] key by key (the
    /// simulator's text form, applied to each direction).
    pub impair: Option<String>,
    /// The seed of every random choice.
    pub seed: u64,
    /// Absolute sequence numbers.
    pub absolute: bool,
    /// Draw lost segments and retransmissions of the transfer, and every
    /// option of every segment.
    pub verbose: bool,
    /// The language of the narration.
    pub lang: Lang,
}

impl Options {
    /// The defaults for a scenario, with seed 1.
    pub fn new(scenario: Scenario) -> Options {
        Options {
            scenario,
            bytes: DEFAULT_BYTES,
            impair: None,
            seed: 1,
            absolute: false,
            verbose: false,
            lang: Lang::En,
        }
    }

    /// The link spec text: the defaults with `impair`'s keys replacing
    /// theirs (random loss only for the bulk transfer unless asked).
    pub fn link_text(&self) -> String {
        let mut pairs: Vec<(String, String)> = DEFAULT_LINK
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k != "loss" || self.scenario.lossy_by_default())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for kv in self.impair.iter().flat_map(|s| s.split(',')) {
            let kv = kv.trim();
            if kv.is_empty() {
                continue;
            }
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            match pairs.iter_mut().find(|(pk, _)| pk == k) {
                Some(p) => p.1 = v.to_string(),
                None => pairs.push((k.to_string(), v.to_string())),
            }
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The link spec.
    pub fn link(&self) -> Result<LinkSpec, String> {
        self.link_text()
            .parse()
            .map_err(|e| format!("--impair: {e}"))
    }
}

/// A part of the demo's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    /// A ladder diagram under a heading.
    Ladder {
        /// The heading.
        heading: String,
        /// The diagram.
        ladder: Ladder,
    },
    /// The transfer in numbers.
    Summary {
        /// The heading.
        heading: String,
        /// The numbers.
        summary: Summary,
    },
}

/// A played scenario.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The options it was played with.
    pub options: Options,
    /// The link spec used, as text.
    pub link: String,
    /// The connection's packets, with their fates and remarks.
    pub conversation: Conversation,
    /// Both sides' states over time.
    pub timeline: Timeline,
    /// What to show, in order.
    pub sections: Vec<Section>,
    /// Facts worth a line after the diagrams (cookies sent, …).
    pub facts: Vec<String>,
    /// Every packet sent, as a pcap file (raw IP).
    pub pcap: Vec<u8>,
    names: [&'static str; 2],
}

/// Plays a scenario. `progress` is called now and then while the
/// simulation runs (a bulk transfer takes a moment).
pub fn run(options: &Options, progress: &mut dyn FnMut(Progress)) -> Result<Demo, String> {
    let link = options.link()?;
    let setup = scenario::setup(options.scenario, options.bytes);
    let ran = run::simulate(&setup, &link, options.seed, progress);
    let order = assemble::wire_order(&ran);
    let pcap = assemble::pcap_bytes(&order);
    let packets = assemble::packets(&ran, &order);
    let conversation = assemble::conversation(&ran, packets)
        .ok_or_else(|| "the demo's connection sent nothing".to_string())?;
    let timeline = assemble::timeline(&ran, &conversation);
    let mut demo = Demo {
        options: options.clone(),
        link: options.link_text(),
        conversation,
        timeline,
        sections: Vec::new(),
        facts: Vec::new(),
        pcap,
        names: setup.names,
    };
    let lang = options.lang;
    let draw = setup.draw;
    let transfer = if options.verbose && draw.transfer == Detail::Hidden {
        Detail::Notable
    } else {
        draw.transfer
    };
    let view = View {
        handshake: draw.handshake,
        transfer,
        close: draw.close,
        absolute: options.absolute || setup.absolute,
    };
    let full = demo.ladder(&view);
    if draw.summary {
        demo.sections.push(Section::Ladder {
            heading: narration::heading_open(lang).to_string(),
            ladder: full.part(&[Phase::Open]),
        });
        if transfer != Detail::Hidden {
            demo.sections.push(Section::Ladder {
                heading: format!(
                    "{} ({})",
                    narration::heading_transfer(lang),
                    lang.pick("losses and retransmissions", "丢失与重传")
                ),
                ladder: full.part(&[Phase::Transfer]),
            });
        }
        let client = ran.net.host(ran.client).peer();
        if let (Some(start), Some(end), Some(status)) = (
            client.script.connected_at,
            client.script.done_at,
            client.script.status_at_done,
        ) {
            let links = [
                ran.net.link_stats(ran.net.uplink(ran.client)),
                ran.net.link_stats(ran.net.uplink(ran.server)),
            ];
            demo.sections.push(Section::Summary {
                heading: narration::heading_transfer(lang).to_string(),
                summary: Summary::new(options.bytes, start, end, &status, links),
            });
        }
        demo.sections.push(Section::Ladder {
            heading: narration::heading_close(lang).to_string(),
            ladder: full.part(&[Phase::Close]),
        });
    } else {
        demo.sections.push(Section::Ladder {
            heading: narration::title(options.scenario, lang).to_string(),
            ladder: full,
        });
    }
    demo.facts = facts(&ran, options);
    Ok(demo)
}

/// Lines about what the endpoints counted, where the scenario is about it.
fn facts(ran: &run::Ran, options: &Options) -> Vec<String> {
    let lang = options.lang;
    let server = ran.net.host(ran.server).peer();
    let client = ran.net.host(ran.client).peer();
    let mut out = Vec::new();
    let st = server.ep.stats();
    if options.scenario == Scenario::SynFlood {
        let spoofed = ran.flooder.map_or(0, |f| ran.net.host(f).sent().len());
        out.push(format!(
            "{}: {} · {}: {} · {}: {}",
            lang.pick("spoofed SYNs", "伪造的 SYN"),
            spoofed,
            lang.pick("SYN cookies sent", "发出的 SYN cookie"),
            st.syn_cookies_sent,
            lang.pick("connections rebuilt from a cookie", "由 cookie 重建的连接"),
            st.syn_cookies_accepted
        ));
    }
    let end = |s: &script::Script| {
        s.ended
            .map(|r| r.describe().to_string())
            .unwrap_or_else(|| lang.pick("still open", "仍然打开").to_string())
    };
    let names = ["client", "server"];
    let ends = [end(&client.script), end(&server.script)];
    if options.scenario != Scenario::SimultaneousOpen {
        out.push(format!(
            "{}: {} {} · {} {}",
            lang.pick("the applications saw", "应用看到的结果"),
            names[0],
            ends[0],
            names[1],
            if server.script.conn.is_some() {
                ends[1].as_str()
            } else {
                lang.pick("(no connection)", "（没有连接）")
            }
        ));
    }
    out
}

impl Demo {
    /// The connection as one ladder.
    pub fn ladder(&self, view: &View) -> Ladder {
        ladder::build(&self.conversation, &self.timeline, self.names, view)
    }

    /// Every ladder the demo draws, in order.
    pub fn ladders(&self) -> impl Iterator<Item = &Ladder> {
        self.sections.iter().filter_map(|s| match s {
            Section::Ladder { ladder, .. } => Some(ladder),
            _ => None,
        })
    }

    /// The whole output for a terminal: narration, diagrams, summary and
    /// the states' meanings, at most [`text::WIDTH`] columns.
    pub fn render_text(&self, color: bool) -> String {
        let o = &self.options;
        let lang = o.lang;
        let p = Paint(color);
        let opts = TextOptions {
            color,
            lang,
            verbose: o.verbose,
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} · {} {} · {} {}",
            p.bold("synack demo"),
            p.bold(&format!("--scenario {}", o.scenario)),
            lang.pick("seed", "种子"),
            o.seed,
            lang.pick("link", "链路"),
            self.link
        );
        out.push('\n');
        let title = narration::title(o.scenario, lang);
        let _ = writeln!(out, "{}", p.heading(title));
        for l in wrap(narration::intro(o.scenario, lang), text::WIDTH) {
            let _ = writeln!(out, "{l}");
        }
        let absolute = self.ladders().any(|l| l.absolute);
        for l in wrap(narration::reading_guide(lang, absolute), text::WIDTH) {
            let _ = writeln!(out, "{}", p.dim(&l));
        }
        for (i, s) in self.sections.iter().enumerate() {
            out.push('\n');
            match s {
                Section::Ladder { heading, ladder } => {
                    if self.sections.len() > 1 {
                        let _ = writeln!(out, "{}\n", p.heading(&format!("{}. {heading}", i + 1)));
                    }
                    out.push_str(&text::render(ladder, &opts));
                }
                Section::Summary { heading, summary } => {
                    let _ = writeln!(out, "{}\n", p.heading(&format!("{}. {heading}", i + 1)));
                    out.push_str(&summary.render(lang, color));
                }
            }
        }
        out.push('\n');
        for f in &self.facts {
            for l in wrap(f, text::WIDTH) {
                let _ = writeln!(out, "{l}");
            }
        }
        let mut states = Vec::new();
        for l in self.ladders() {
            for s in l.states() {
                if !states.contains(&s) {
                    states.push(s);
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(lang.pick("The states in these diagrams:", "图中出现的状态："))
        );
        out.push_str(&text::legend(&states, lang, color));
        out
    }
}

impl Demo {
    /// Every ladder as one SVG picture.
    pub fn render_svg(&self) -> String {
        let ladders: Vec<(String, &Ladder)> = self
            .sections
            .iter()
            .filter_map(|s| match s {
                Section::Ladder { heading, ladder } => Some((heading.clone(), ladder)),
                _ => None,
            })
            .collect();
        let title = format!(
            "synack demo --scenario {} (seed {})",
            self.options.scenario, self.options.seed
        );
        crate::viz::svg::render(&title, &ladders, self.options.lang)
    }
}
