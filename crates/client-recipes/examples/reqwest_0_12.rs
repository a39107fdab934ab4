//! The README's reqwest 0.12 recipe against a loopback HTTPS server:
//! `cargo run -p client-recipes --example reqwest_0_12`.

use client_recipes::loopback::{Loopback, runtime};
use client_recipes::{Error, with_reqwest_0_12};

fn main() -> Result<(), Error> {
    let server = Loopback::start();
    let client = with_reqwest_0_12::client(&server.cache())?;
    let request = client.get(server.url()).send();
    let body = runtime().block_on(async { request.await?.error_for_status()?.text().await })?;
    println!("reqwest 0.12: {body}");
    Ok(())
}
