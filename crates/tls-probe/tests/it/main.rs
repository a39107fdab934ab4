//! `tls-probe` run as an operator runs it: the built binary as a child process, with a trust
//! store of the test's own making (`SSL_CERT_FILE`) and loopback servers. No network.

mod cli;
mod common;
mod connect;
mod connect_crl;
mod store;
mod watch;
