//! `storehub`: serve, migrate, make API keys, run the demo.

/// mimalloc keeps each size of allocation on pages of its own and hands
/// emptied pages back to the system; glibc's malloc kept about half of an
/// idle hub's memory as freed fragments between live objects (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hub::cli::main()
}
