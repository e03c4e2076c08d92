//! `storehub`: serve, migrate, make API keys, run the demo.

fn main() -> std::process::ExitCode {
    hub::cli::main()
}
