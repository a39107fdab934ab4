//! The README's ureq 3 recipe against a loopback HTTPS server:
//! `cargo run -p client-recipes --example ureq`.

use client_recipes::loopback::Loopback;
use client_recipes::{Error, with_ureq};

fn main() -> Result<(), Error> {
    let server = Loopback::start();
    let agent = with_ureq::agent(&server.cache())?;
    let body = agent
        .get(server.url())
        .call()?
        .body_mut()
        .read_to_string()?;
    println!("ureq 3: {body}");
    Ok(())
}
