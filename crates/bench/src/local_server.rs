//! A `paycore serve` server inside the bench's process, on a data directory of the bench's,
//! for the benches that load the HTTP API (http, payments, console).

use std::path::Path;

use paycore_engine::EngineConfig;
use paycore_money::Currency;
use paycore_server::{PaymentOptions, Server, ServerConfig, ServerError};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) struct LocalServer {
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl LocalServer {
    /// Binds a server on a free local port, its data in `dir`, admin key `key`, and serves
    /// it on `runtime`.
    pub(crate) fn start(
        runtime: &Runtime,
        dir: &Path,
        key: &str,
        payments: PaymentOptions,
    ) -> anyhow::Result<LocalServer> {
        let config = ServerConfig {
            engine: EngineConfig::new(dir),
            listen: "127.0.0.1:0".parse()?,
            currencies: vec![Currency::CNY],
            bootstrap_key: Some(key.into()),
            store: paycore_server::StoreUrl::default_in(dir),
            day_end_at: None,
            payments,
        };
        let server = runtime.block_on(Server::bind(config))?;
        let url = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Ok(LocalServer { url, stop, task })
    }

    /// Shuts the server down cleanly (final snapshot, engine stopped) and waits for it.
    pub(crate) fn stop(self, runtime: &Runtime) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        runtime.block_on(self.task)??;
        Ok(())
    }
}
