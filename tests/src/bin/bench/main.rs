//! `bench`: the load generator, the baselines and the runner behind
//! `scripts/bench.sh`. Every scenario runs the hub (the release `storehub`
//! binary, as users run it) and its baseline alternately, A B A B, and
//! measures both in the same run; see BENCHMARKS.md.

mod broadcast;
mod clients;
mod create;
mod fanout;
mod fleet;
mod idle;
mod measure;
mod push;
mod raw;
mod server;
mod timers;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Storehub benchmarks: hub against bare baselines, side by side"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// A few minutes: smaller counts and shorter phases.
    Quick,
    /// The sizes.
    Full,
}

#[derive(Subcommand)]
enum Command {
    /// Run every scenario and write JSON + Markdown results.
    Run {
        #[arg(long, value_enum, default_value = "quick")]
        mode: Mode,
        /// The release `storehub` binary.
        #[arg(long, default_value = "target/release/storehub")]
        hub: PathBuf,
        #[arg(long, default_value = "target/bench")]
        out: PathBuf,
        /// Rounds of A B per scenario.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Only scenarios whose name contains this.
        #[arg(long)]
        only: Option<String>,
        /// PostgreSQL server for the PostgreSQL variants.
        #[arg(
            long,
            env = "STOREHUB_BENCH_POSTGRES_URL",
            default_value = "postgres://postgres@127.0.0.1:5432"
        )]
        postgres: String,
    },
    /// The baseline: a bare tokio-tungstenite server (4 KiB read buffers).
    WsServer {
        #[arg(long)]
        bind: String,
    },
    /// WebSocket clients in this process (the runner spreads them over
    /// processes and source addresses); reports live counts on stdout.
    WsClients {
        #[arg(long)]
        url: String,
        #[arg(long)]
        count: usize,
        /// Local address to connect from, e.g. 127.0.0.3.
        #[arg(long)]
        source: String,
        /// Store codes to subscribe to, one per client in turn.
        #[arg(long, value_delimiter = ',')]
        stores: Vec<String>,
        /// Record the lateness of `load` frames (see `report` on stdin).
        #[arg(long)]
        measure: bool,
        /// Every Nth client stops reading once subscribed (0: none).
        #[arg(long, default_value_t = 0)]
        stall_every: usize,
    },
    /// The timers baseline: a tokio `DelayQueue` with COUNT entries due at
    /// 20,000 per second; prints its figures as one JSON line.
    DelayQueue {
        #[arg(long)]
        count: u64,
        /// Fill the queue and report its memory only.
        #[arg(long)]
        no_fire: bool,
    },
    /// The fan-out baseline: a bare tokio-tungstenite broadcast server that
    /// coalesces writes; `load RATE SECONDS BYTES` on stdin runs a phase.
    WsBroadcast {
        #[arg(long)]
        bind: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    hub::startup::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Run {
                mode,
                hub,
                out,
                rounds,
                only,
                postgres,
            } => {
                let plan = measure::Plan {
                    mode,
                    hub,
                    out,
                    rounds,
                    only,
                    postgres,
                };
                measure::run_all(plan).await
            }
            Command::WsServer { bind } => server::serve(&bind).await,
            Command::WsClients {
                url,
                count,
                source,
                stores,
                measure,
                stall_every,
            } => {
                let behaviour = clients::Behaviour {
                    measure,
                    stall_every,
                };
                clients::hold(&url, count, &source, &stores, behaviour).await
            }
            Command::WsBroadcast { bind } => broadcast::serve(&bind).await,
            Command::DelayQueue { count, no_fire } => {
                let fire = if no_fire {
                    timers::Fire::No
                } else {
                    timers::Fire::Yes
                };
                timers::delay_queue(count, fire).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}
