//! A TCP proxy in front of MariaDB that a test can fail on purpose: refuse every connection (the
//! database is down), cut every open one, or cut one right after it sent `COMMIT` — the server
//! commits, the client never hears it, and the outcome is unknown to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Bytes read at a time from either side.
const CHUNK_BYTES: usize = 64 * 1024;

pub struct FaultyProxy {
    port: u16,
    state: Arc<State>,
}

struct State {
    upstream: SocketAddr,
    refusing: AtomicBool,
    cut_after_commit: AtomicBool,
    /// Every open connection ends when this moves.
    cuts: watch::Sender<u64>,
}

impl FaultyProxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (MariaDB over TCP).
    pub async fn start(upstream: SocketAddr) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("a bound port").port();
        let state = Arc::new(State { upstream, refusing: AtomicBool::new(false), cut_after_commit: AtomicBool::new(false), cuts: watch::channel(0).0 });
        let accepting = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accepting.refusing.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, accepting.clone()));
            }
        });
        FaultyProxy { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A MariaDB URL through the proxy, for the account tests use over TCP.
    pub fn database_url(&self, database: &str) -> String {
        format!("mysql://ispeaker:ispeaker@127.0.0.1:{}/{database}", self.port)
    }

    /// The database goes away: open connections are cut and new ones refused.
    pub fn go_down(&self) {
        self.state.refusing.store(true, Ordering::SeqCst);
        self.state.cuts.send_modify(|cuts| *cuts += 1);
    }

    pub fn come_back(&self) {
        self.state.refusing.store(false, Ordering::SeqCst);
    }

    /// The next `COMMIT` reaches the server, and its connection is cut before the answer
    /// comes back.
    pub fn cut_after_next_commit(&self) {
        self.state.cut_after_commit.store(true, Ordering::SeqCst);
    }
}

async fn forward(mut client: TcpStream, state: Arc<State>) {
    let Ok(mut server) = TcpStream::connect(state.upstream).await else { return };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let mut cuts = state.cuts.subscribe();
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let mut upstream = [0u8; CHUNK_BYTES];
    let mut downstream = [0u8; CHUNK_BYTES];
    loop {
        tokio::select! {
            read = from_client.read(&mut upstream) => {
                let Ok(count @ 1..) = read else { return };
                let sent = &upstream[..count];
                if to_server.write_all(sent).await.is_err() {
                    return;
                }
                let is_commit = sent.windows(6).any(|window| window.eq_ignore_ascii_case(b"COMMIT"));
                if is_commit && state.cut_after_commit.swap(false, Ordering::SeqCst) {
                    // Let the server read it before the connection goes.
                    let _ = to_server.flush().await;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    return;
                }
            }
            read = from_server.read(&mut downstream) => {
                let Ok(count @ 1..) = read else { return };
                if to_client.write_all(&downstream[..count]).await.is_err() {
                    return;
                }
            }
            _ = cuts.changed() => return,
        }
    }
}

/// A NATS server of the test's own, to kill at will.
pub struct PrivateNats {
    pub url: String,
    server: tokio::process::Child,
    data: std::path::PathBuf,
}

impl PrivateNats {
    pub async fn start() -> PrivateNats {
        PrivateNats::start_on(PrivateNats::free_port()).await
    }

    /// A port nothing listens on yet: for a client that connects before the server starts.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("a port").port()
    }

    pub async fn start_on(port: u16) -> PrivateNats {
        let data = std::env::temp_dir().join(format!("nats-{}", uuid::Uuid::now_v7().simple()));
        let binary = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .unwrap_or("nats-server");
        let server = tokio::process::Command::new(binary)
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server starts");
        let url = format!("127.0.0.1:{port}");
        for _ in 0..100 {
            if TcpStream::connect(&url).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        PrivateNats { url, server, data }
    }

    pub async fn kill(&mut self) {
        let _ = self.server.kill().await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
