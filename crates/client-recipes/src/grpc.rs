//! A loopback gRPC server for the tonic recipe, and the one call it answers, without generated
//! code: `/recipes.Greeter/Hello` takes raw bytes and answers `hello, <them>`. The server is
//! hyper's HTTP/2 over tokio-rustls, with the loopback CA's certificate, on a thread of its own;
//! [`Loopback::start_grpc`] starts it for a recipe. Built on [`crate::loopback`], which knows
//! nothing of gRPC.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ServerConfig;
use test_pki::Ca;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::{Status, client::Grpc, transport::Channel};

use crate::loopback::{Loopback, runtime};

/// The method the server answers.
pub const HELLO: &str = "/recipes.Greeter/Hello";

impl Loopback {
    /// Start a gRPC server instead ([`serve`]), over HTTP/2.
    pub fn start_grpc() -> Self {
        Self::serving(serve)
    }
}

/// Start the server, certified by `ca` for `localhost`; it runs until the process exits.
pub fn serve(ca: &Ca) -> SocketAddr {
    let leaf = ca.server_leaf();
    let mut config = ServerConfig::builder_with_provider(test_pki::provider())
        .with_safe_default_protocol_versions()
        .expect("default versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain.clone(), leaf.key())
        .expect("the loopback leaf");
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    listener.set_nonblocking(true).expect("non-blocking");
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(answer);
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// `hello, <name>` for the one method; `UNIMPLEMENTED` (12) for any other.
async fn answer(request: Request<Incoming>) -> Result<Response<Unary>, Infallible> {
    let known = request.uri().path() == HELLO;
    let body = request.into_body().collect().await.map(|b| b.to_bytes());
    let mut message = body.unwrap_or_default();
    let reply = if known && message.len() >= 5 {
        message.advance(5); // the gRPC frame's flag and length
        let mut reply = b"hello, ".to_vec();
        reply.extend_from_slice(&message);
        Some(reply)
    } else {
        None
    };
    let status = if reply.is_some() { "0" } else { "12" };
    let response = Response::builder()
        .header("content-type", "application/grpc")
        .body(Unary::new(reply, status))
        .expect("a valid response");
    Ok(response)
}

/// A unary gRPC response body: the message as one frame, then the trailers.
pub struct Unary {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl Unary {
    fn new(message: Option<Vec<u8>>, status: &'static str) -> Self {
        let data = message.map(|message| {
            let mut framed = Vec::with_capacity(5 + message.len());
            framed.put_u8(0);
            framed.put_u32(u32::try_from(message.len()).expect("a small message"));
            framed.extend_from_slice(&message);
            Bytes::from(framed)
        });
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static(status));
        Self {
            data,
            trailers: Some(trailers),
        }
    }
}

impl Body for Unary {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }
}

/// Messages as raw bytes: the codec of a call made without generated code.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut message = vec![0; src.remaining()];
        src.copy_to_slice(&mut message);
        Ok(Some(message))
    }
}

/// Call `/recipes.Greeter/Hello` with `name` over `channel`.
///
/// # Errors
/// The call's status.
pub async fn hello(channel: Channel, name: &str) -> Result<String, Status> {
    let mut grpc = Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|err| Status::unavailable(err.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(HELLO);
    let response = grpc
        .unary(
            tonic::Request::new(name.as_bytes().to_vec()),
            path,
            RawCodec,
        )
        .await?;
    String::from_utf8(response.into_inner()).map_err(|err| Status::internal(err.to_string()))
}
