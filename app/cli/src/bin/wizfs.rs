//! `wizfs`: the administrator's command line (see the `wizfs_cli` library).

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = wizfs_cli::Cli::parse();
    let result = wizfs_cli::zfs_for(&cli.global).and_then(|zfs| {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        wizfs_cli::run(&cli, zfs, &mut out)
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wizfs: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
