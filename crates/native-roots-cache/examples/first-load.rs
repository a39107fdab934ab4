//! One first load of the system trust store, in a fresh process: `ours` (the default) through
//! `native_roots()`, or `baseline`, rustls-native-certs' `load_native_certs` into a
//! `RootCertStore` as a daemon without this crate does it. Timed from outside, pair by pair:
//! `farm-bench -n 31 --vs 'target/release/examples/first-load baseline' -- target/release/examples/first-load`
//! (with `SSL_CERT_FILE` and `SSL_CERT_DIR` unset, so both read the system store).

fn main() -> std::process::ExitCode {
    let anchors = match std::env::args().nth(1).as_deref() {
        Some("baseline") => {
            let loaded = rustls_native_certs::load_native_certs();
            let mut store = rustls::RootCertStore::empty();
            store.add_parsable_certificates(loaded.certs);
            store.len()
        }
        Some("ours") | None => match native_roots_cache::native_roots() {
            Ok(store) => store.len(),
            Err(err) => {
                eprintln!("{err}; {}", err.advice());
                return std::process::ExitCode::FAILURE;
            }
        },
        Some(other) => {
            eprintln!("usage: first-load [ours|baseline], not {other}");
            return std::process::ExitCode::from(2);
        }
    };
    println!("{anchors} anchors");
    std::process::ExitCode::SUCCESS
}
