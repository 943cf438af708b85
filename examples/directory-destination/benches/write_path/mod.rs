//! The write-only path the benches compare against: `DestinationRunner<DirectoryDestination>`
//! configured, opened, fed whole batches with every ack checked, flushed and torn down.

use std::path::Path;

use conduit_connector::config::ConfigMap;
use conduit_connector::destination::DestinationRunner;
use conduit_connector::opencdc::Record;
use directory_destination::DirectoryDestination;

/// The config of a destination writing into `dir`, with `options` on top.
pub fn config(dir: &Path, options: &[(&str, &str)]) -> ConfigMap {
    let mut config = ConfigMap::new();
    config.insert("directory", dir.to_string_lossy().into_owned());
    for (k, v) in options {
        config.insert(*k, *v);
    }
    config
}

/// `records` in batches of `size` (the last one may be shorter), prepared before a clock starts.
pub fn batches(records: Vec<Record>, size: usize) -> Vec<Vec<Record>> {
    let mut records = records.into_iter();
    std::iter::from_fn(|| Some(records.by_ref().take(size).collect::<Vec<_>>()).filter(|b| !b.is_empty())).collect()
}

/// Configure, open (with `threads` write threads if given), write every batch, flush and tear
/// down; panics on any error or failed ack. Returns the number of acks.
pub async fn write(config: &ConfigMap, threads: Option<usize>, batches: Vec<Vec<Record>>) -> usize {
    let mut runner = DestinationRunner::<DirectoryDestination>::configure(config).await.expect("configure");
    if let Some(threads) = threads {
        runner.destination_mut().set_write_threads(threads);
    }
    runner.open().await.expect("open");
    let mut acked = 0;
    for batch in batches {
        for ack in runner.write(batch).await {
            assert!(ack.error.is_none(), "write failed: {:?}", ack.error);
            acked += 1;
        }
    }
    for ack in runner.flush().await {
        assert!(ack.error.is_none(), "write failed: {:?}", ack.error);
        acked += 1;
    }
    runner.teardown().await.expect("teardown");
    acked
}
