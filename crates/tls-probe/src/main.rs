#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod cli;
mod connect;
mod connection;
mod crl;
mod date;
mod explain;
mod facts;
mod handshake;
mod output;
mod peer;
mod revoked;
mod selftest;
mod status;
mod store;
mod table;
mod trust;
mod watch;
mod x509;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, SelftestArgs, StoreArgs};

fn main() -> ExitCode {
    // Usage errors exit 2 and --help exits 0, inside parse.
    let cli = Cli::parse();
    let status = match &cli.command {
        Some(Command::Store(args)) => store::run(args),
        Some(Command::Connect(args)) => connect::run(args),
        Some(Command::Watch(args)) => watch::run(args),
        Some(Command::Selftest(args)) => selftest::run(args),
        None => {
            let store = store::run(&StoreArgs::default());
            let _gone = output::write("\n");
            store.and(selftest::run(&SelftestArgs::default()))
        }
    };
    status.into()
}
