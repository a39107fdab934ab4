//! The README's tokio-rustls recipe against a loopback HTTPS server:
//! `cargo run -p client-recipes --example tokio_rustls`.

use client_recipes::loopback::{Loopback, runtime};
use client_recipes::{Error, with_tokio_rustls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() -> Result<(), Error> {
    let server = Loopback::start();
    let cache = server.cache();
    let response = runtime().block_on(async {
        let mut tls = with_tokio_rustls::connect(&cache, server.host(), server.port()).await?;
        tls.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            .await?;
        let mut response = String::new();
        tls.read_to_string(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    })?;
    println!("tokio-rustls: {response}");
    Ok(())
}
