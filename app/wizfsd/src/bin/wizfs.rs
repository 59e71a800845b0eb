//! `wizfs`: the administrator's command line (see `wizfsd::cli`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = wizfsd::cli::Cli::parse();
    let result = wizfsd::cli::zfs_for(&cli).and_then(|zfs| {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        wizfsd::cli::run(&cli, zfs, &mut out)
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wizfs: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
