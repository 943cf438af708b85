//! The rate-limit middleware (`sdk.rate.perSecond`, `sdk.rate.burst`): chunk
//! timing on paused tokio time, burst defaulting and the effective batch size.

use std::time::Duration;

use conduit_connector::Config;
use conduit_connector::destination::{Batch, BoxError, Destination, DestinationRunner, WriteResult};
use conduit_connector::middleware::RateLimiter;
use conduit_connector::opencdc::{Change, Data, Operation, Position, Record};
use tokio::time::Instant;

/// No parameters of its own.
#[derive(Debug, Config)]
struct NoConfig {}

/// Remembers when each write call came and how many records it had.
#[derive(Debug, Default)]
struct Clock {
    calls: Vec<(Instant, usize)>,
}

impl Destination for Clock {
    type Config = NoConfig;

    async fn configure(_: NoConfig) -> Result<Self, BoxError> {
        Ok(Clock::default())
    }

    async fn write(&mut self, batch: Batch<'_>) -> WriteResult {
        self.calls.push((Instant::now(), batch.len()));
        WriteResult::All
    }
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            position: Position::from(format!("p{i}")),
            operation: Operation::Create,
            key: Some(Data::Raw(vec![b'k'])),
            payload: Change { before: None, after: Some(Data::Raw(vec![b'v'])) },
            ..Record::default()
        })
        .collect()
}

async fn open(config: &[(&str, &str)]) -> DestinationRunner<Clock> {
    let mut runner = DestinationRunner::<Clock>::configure(config).await.expect("configure");
    runner.open().await.expect("open");
    runner
}

/// The write calls as (milliseconds since `start`, records).
fn timeline(runner: &DestinationRunner<Clock>, start: Instant) -> Vec<(u128, usize)> {
    runner.destination().calls.iter().map(|(at, n)| (at.duration_since(start).as_millis(), *n)).collect()
}

#[track_caller]
fn assert_timeline(got: &[(u128, usize)], want: &[(u128, usize)]) {
    const TOLERANCE_MS: u128 = 10;
    assert_eq!(got.len(), want.len(), "calls {got:?}, expected {want:?}");
    for ((g_ms, g_n), (w_ms, w_n)) in got.iter().zip(want) {
        assert_eq!(g_n, w_n, "chunk sizes: got {got:?}, expected {want:?}");
        assert!(g_ms.abs_diff(*w_ms) <= TOLERANCE_MS, "chunk times: got {got:?}, expected {want:?} (±10 ms)");
    }
}

#[tokio::test(start_paused = true)]
async fn rate_8_burst_2_writes_chunks_of_two_at_0_and_250ms_then_250_and_500ms_later() {
    let mut runner = open(&[("sdk.rate.perSecond", "8"), ("sdk.rate.burst", "2")]).await;
    let start = Instant::now();
    assert_eq!(runner.write(records(4)).await.len(), 4);
    assert_timeline(&timeline(&runner, start), &[(0, 2), (250, 2)]);

    let second = Instant::now();
    assert_eq!(second.duration_since(start), Duration::from_millis(250), "the first call returns after its last chunk");
    assert_eq!(runner.write(records(4)).await.len(), 4);
    let calls = timeline(&runner, second);
    assert_timeline(&calls[2..], &[(250, 2), (500, 2)]);
}

#[tokio::test(start_paused = true)]
async fn rate_limit_with_burst_zero_defaults_the_burst_to_the_rounded_up_rate() {
    // 2.5/s → burst 3: 7 records go as 3, 3, 1.
    let mut runner = open(&[("sdk.rate.perSecond", "2.5")]).await;
    let start = Instant::now();
    assert_eq!(runner.write(records(7)).await.len(), 7);
    assert_timeline(&timeline(&runner, start), &[(0, 3), (1200, 3), (1600, 1)]);
}

#[test]
fn burst_defaults_to_ceil_rate_and_rate_zero_means_no_limiter() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    rt.block_on(async {
        assert_eq!(RateLimiter::new(1.23, 0).unwrap().burst(), 2);
        assert_eq!(RateLimiter::new(8.0, 0).unwrap().burst(), 8);
        assert_eq!(RateLimiter::new(0.2, 0).unwrap().burst(), 1);
        assert_eq!(RateLimiter::new(8.0, 5).unwrap().burst(), 5);
        assert!(RateLimiter::new(0.0, 3).is_none());
        assert!(RateLimiter::new(f64::NAN, 3).is_none());
    });
}

#[tokio::test(start_paused = true)]
async fn batch_size_bigger_than_burst_is_capped_at_the_burst() {
    let mut runner = open(&[("sdk.rate.perSecond", "100"), ("sdk.rate.burst", "2"), ("sdk.batch.size", "5")]).await;
    let start = Instant::now();
    let mut acks = Vec::new();
    for r in records(5) {
        acks.extend(runner.write(vec![r]).await);
    }
    assert_eq!(acks.len(), 5);
    assert_timeline(&timeline(&runner, start), &[(0, 2), (20, 2), (40, 1)]);
}

#[tokio::test(start_paused = true)]
async fn rate_zero_is_a_passthrough() {
    let mut runner = open(&[("sdk.rate.perSecond", "0"), ("sdk.rate.burst", "1")]).await;
    let start = Instant::now();
    assert_eq!(runner.write(records(50)).await.len(), 50);
    assert_timeline(&timeline(&runner, start), &[(0, 50)]);
}

#[tokio::test(start_paused = true)]
async fn idle_time_refills_the_bucket_up_to_the_burst_only() {
    let mut runner = open(&[("sdk.rate.perSecond", "10"), ("sdk.rate.burst", "2")]).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let start = Instant::now();
    assert_eq!(runner.write(records(6)).await.len(), 6);
    assert_timeline(&timeline(&runner, start), &[(0, 2), (200, 2), (400, 2)]);
}

#[tokio::test]
async fn negative_rate_or_burst_is_rejected_at_configure() {
    let err = DestinationRunner::<Clock>::configure([("sdk.rate.perSecond", "-2"), ("sdk.rate.burst", "-1")])
        .await
        .expect_err("negative values are invalid");
    let text = err.to_string();
    assert!(text.contains("sdk.rate.burst") && text.contains("sdk.rate.perSecond"), "{text}");
}

/// `check` accepts any rate above -1 (as Go's validation does); a tiny positive rate used to
/// panic in `Duration::from_secs_f64` on the first wait. Now the wait is clamped: the records
/// are written, the second one after a wait tokio treats as "far in the future".
#[tokio::test(start_paused = true)]
async fn a_tiny_rate_waits_instead_of_panicking() {
    for rate in ["1e-20", "5e-324", "1e-300"] {
        let mut runner = open(&[("sdk.rate.perSecond", rate), ("sdk.rate.burst", "1")]).await;
        let start = Instant::now();
        let acks = runner.write(records(2)).await;
        assert_eq!(acks.len(), 2, "rate {rate}");
        assert!(acks.iter().all(|a| a.error.is_none()), "rate {rate}: {acks:?}");
        let calls = timeline(&runner, start);
        assert_eq!(calls[0], (0, 1), "rate {rate}: the first record goes at once");
        assert!(calls[1].0 > 365 * 24 * 3600 * 1000, "rate {rate}: the second waits (virtually) for years: {calls:?}");
    }
}

/// An infinite rate (`Inf`, as Go's `ParseFloat` spells it) means no limit, like Go's `rate.Inf`.
#[tokio::test(start_paused = true)]
async fn an_infinite_rate_is_a_passthrough() {
    let mut runner = open(&[("sdk.rate.perSecond", "+Inf")]).await;
    let start = Instant::now();
    assert_eq!(runner.write(records(10)).await.len(), 10);
    assert_timeline(&timeline(&runner, start), &[(0, 10)]);
}

/// The longest duration Go can parse as `sdk.batch.delay` is accepted and does not overflow
/// the deadline: the batch waits until flushed.
#[tokio::test(start_paused = true)]
async fn the_longest_batch_delay_does_not_overflow() {
    let mut runner = open(&[("sdk.batch.delay", "2562047h47m16.854775807s"), ("sdk.batch.size", "3")]).await;
    assert!(runner.write(records(2)).await.is_empty(), "waits for the batch");
    assert_eq!(runner.write(records(1)).await.len(), 3, "the size still flushes");
    assert!(runner.write(records(1)).await.is_empty());
    assert_eq!(runner.flush().await.len(), 1);
}
