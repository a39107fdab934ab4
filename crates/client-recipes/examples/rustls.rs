//! The README's rustls recipe against a loopback HTTPS server:
//! `cargo run -p client-recipes --example rustls`.

use client_recipes::loopback::{Loopback, http_get};
use client_recipes::{Error, with_rustls};

fn main() -> Result<(), Error> {
    let server = Loopback::start();
    let tls = with_rustls::connect(&server.cache(), server.host(), server.port())?;
    println!("rustls: {}", http_get(tls)?);
    Ok(())
}
