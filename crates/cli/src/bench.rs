//! `synack bench`: synack beside smoltcp, the kernel and memcpy.

use std::time::Duration;

use clap::Args;
use synack::bench::{self, Effort, ROWS};

/// Arguments of `synack bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Rows to run (names or groups: memcpy, bulk, churn, scale, mem, rss, tun);
    /// all when none is given.
    pub rows: Vec<String>,
    /// One JSON object per row instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Smaller transfers and shorter runs (for a quick look; the figures
    /// are noisier).
    #[arg(long)]
    pub quick: bool,
    /// Run synack alone, without its rivals (for profiling).
    #[arg(long)]
    pub synack_only: bool,
}

pub fn run(args: BenchArgs, meter: &dyn Fn() -> Option<isize>) -> Result<(), String> {
    for w in &args.rows {
        if !ROWS
            .iter()
            .any(|r| bench::selected(r, std::slice::from_ref(w)))
        {
            return Err(format!("unknown row {w}; rows: {}", ROWS.join(", ")));
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("synack bench: this is a debug build; use --release for meaningful figures");
    }
    let mut effort = if args.quick {
        Effort {
            bulk_bytes: 128 << 20,
            scale_bytes: 64 << 20,
            churn_time: Duration::from_secs(1),
            tun_bytes: 64 << 20,
            loss_time: Duration::from_secs(10),
            rivals: true,
        }
    } else {
        Effort::default()
    };
    effort.rivals = !args.synack_only;
    let mut rows = Vec::new();
    for name in ROWS.iter().filter(|r| bench::selected(r, &args.rows)) {
        let Some(row) = bench::run_row(name, &effort, meter) else {
            continue;
        };
        if args.json {
            println!("{}", row.json());
        } else {
            eprintln!("  {name} done");
        }
        rows.push(row);
    }
    if !args.json {
        print!("{}", bench::table(&rows));
    }
    Ok(())
}
