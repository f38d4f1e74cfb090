//! The benches' `paycore serve` and `paycore router` processes (this binary, started as a
//! child): a replicated node of one shard, or the router in front of the shards, each waited
//! for until it prints its address and killed (SIGKILL) when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::Context;

pub struct Node {
    child: Child,
    pub url: String,
}

/// A replicated node: `serve --replicate ETCD --shard SHARD`, a standby when asked.
pub struct NodeSpec<'a> {
    pub dir: &'a Path,
    pub port: u16,
    pub etcd: &'a str,
    pub shard: &'a str,
    pub lease_s: u64,
    pub standby: bool,
    /// The bootstrap admin key.
    pub key: &'a str,
}

impl Node {
    pub fn start(spec: &NodeSpec) -> anyhow::Result<Node> {
        let url = format!("http://127.0.0.1:{}", spec.port);
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["serve", "--data-dir"])
            .arg(spec.dir)
            .args(["--listen", &format!("127.0.0.1:{}", spec.port)])
            .args(["--public-url", &url, "--replicate", spec.etcd])
            .args([
                "--shard",
                spec.shard,
                "--lease-s",
                &spec.lease_s.to_string(),
            ])
            .env("PAYCORE_BOOTSTRAP_KEY", spec.key);
        if spec.standby {
            command.arg("--standby");
        }
        let child = spawn_until(command, "paycore listening on ")?;
        Ok(Node { child, url })
    }

    /// `paycore router --listen 127.0.0.1:PORT --etcd ETCD --api-key KEY`.
    pub fn router(port: u16, etcd: &str, key: &str) -> anyhow::Result<Node> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["router", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--etcd", etcd, "--api-key", key]);
        let child = spawn_until(command, "paycore router listening on ")?;
        Ok(Node {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

/// Starts `command` and waits for its stdout line starting with `ready`.
fn spawn_until(mut command: Command, ready: &str) -> anyhow::Result<Child> {
    command
        .env("PAYCORE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    loop {
        let line = lines
            .next()
            .context("the process ended before listening")??;
        if line.starts_with(ready) {
            break;
        }
    }
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(child)
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
