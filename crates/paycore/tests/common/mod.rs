//! What the binary's process tests share: starting `paycore …` as a real process and
//! waiting for the line that names its address, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

pub struct Process {
    pub child: Child,
    pub url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `paycore ARGS…` with bootstrap key `key` and waits for the line starting with
/// `ready` naming its URL.
pub fn start(args: &[&str], ready: &str, key: &str) -> Process {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paycore"))
        .args(args)
        .env("PAYCORE_BOOTSTRAP_KEY", key)
        .env("PAYCORE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the process prints its address")
            .unwrap();
        if let Some(rest) = line.strip_prefix(ready) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Process { child, url }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `serve` arguments of a node of replicated shard `shard` on 127.0.0.1:`port`, its log on
/// `etcd`, with a lease of 2 s (short failovers for tests).
#[allow(dead_code)] // not every test binary starts replicated nodes
pub fn replicated_args(dir: &std::path::Path, port: u16, etcd: &str, shard: &str) -> Vec<String> {
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{listen}");
    let dir = dir.to_str().unwrap();
    [
        "serve",
        "--data-dir",
        dir,
        "--listen",
        &listen,
        "--public-url",
        &url,
        "--replicate",
        etcd,
        "--shard",
        shard,
        "--lease-s",
        "2",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Starts `paycore ARGS…` from owned arguments (see `start`).
#[allow(dead_code)]
pub fn start_owned(args: &[String], ready: &str, key: &str) -> Process {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    start(&args, ready, key)
}
