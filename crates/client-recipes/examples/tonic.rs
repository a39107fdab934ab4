//! The README's tonic 0.14 recipe against a loopback gRPC server:
//! `cargo run -p client-recipes --example tonic`.

use client_recipes::loopback::{Loopback, runtime};
use client_recipes::{Error, grpc, with_tonic};

fn main() -> Result<(), Error> {
    let server = Loopback::start_grpc();
    let cache = server.cache();
    let reply = runtime().block_on(async {
        let channel = with_tonic::channel(&cache, &server.url()).await?;
        Ok::<_, Error>(grpc::hello(channel, "tonic 0.14").await?)
    })?;
    println!("tonic 0.14: {reply}");
    Ok(())
}
