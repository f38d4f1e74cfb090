//! paycore's benchmarks, run by `paycore bench [TARGET]`: each module measures one path the way
//! its users drive it and prints throughput and latency percentiles (BRIEF §8 has the targets).
//! They are a library of their own so the binary stays the CLI and the client; logging is set
//! up by the binary (`PAYCORE_LOG`).

pub mod accounting;
pub mod console;
pub mod cross_shard;
pub mod engine;
pub mod etcd;
pub mod failover;
pub mod hot;
pub mod http;
mod local_server;
pub mod payments;
mod processes;
pub mod reads;
pub mod recon;
pub mod store;
