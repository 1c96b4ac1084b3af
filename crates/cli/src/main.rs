//! `synack`: watch TCP work (demo, trace) and use the stack for real.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod connect;
mod demo;
mod get;
mod http;
mod serve;
mod trace;
mod tunargs;

/// Counts live heap bytes for `synack bench`'s memory rows.
#[global_allocator]
static HEAP: synack::bench::CountingAlloc = synack::bench::CountingAlloc::new();

/// A userspace TCP/IP stack you can watch.
#[derive(Parser)]
#[command(name = "synack", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show TCP at work on a simulated link: handshake, transfer, close.
    Demo(demo::DemoArgs),
    /// Draw the connections of a pcap capture as ladder diagrams.
    Trace(trace::TraceArgs),
    /// Serve echo, discard or HTTP on a TUN interface.
    Serve(serve::ServeArgs),
    /// Connect to a server on the kernel side: stdin to it, its answer to stdout.
    Connect(connect::ConnectArgs),
    /// Fetch a URL from a server on the kernel side.
    Get(get::GetArgs),
    /// Measure synack beside smoltcp, the kernel and memcpy.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Connect(args) => connect::run(args),
        Command::Get(args) => get::run(args),
        Command::Bench(args) => bench::run(args, &|| HEAP.live()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack: {e}");
            ExitCode::FAILURE
        }
    }
}
