//! The README's hyper-rustls recipe against a loopback HTTPS server:
//! `cargo run -p client-recipes --example hyper_rustls`.

use client_recipes::loopback::{Loopback, runtime};
use client_recipes::{Error, with_hyper_rustls};
use http_body_util::BodyExt;

fn main() -> Result<(), Error> {
    let server = Loopback::start();
    let client = with_hyper_rustls::client(&server.cache())?;
    let uri: http::Uri = server.url().parse()?;
    let body = runtime().block_on(async {
        let response = client.get(uri).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok::<_, Error>(format!("{status}, {}", String::from_utf8_lossy(&body)))
    })?;
    println!("hyper-rustls: {body}");
    Ok(())
}
