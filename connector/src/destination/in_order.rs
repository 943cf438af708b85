//! [`commit_in_order`]: parallel work, committed in order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Runs `stage(thread, i)` for every `i` in `0..n` on up to `threads` scoped threads and
/// `commit(i, staged)` on the calling thread in index order, each as soon as its stage is done.
/// `thread` (`0..threads`) numbers the thread running the stage, e.g. to index per-thread state.
///
/// This is the shape of a destination that prepares records in parallel but acknowledges a
/// prefix of the batch ([`WriteResult`](super::WriteResult)): stage the slow, independent part
/// (encode, write a temporary file, upload a part), commit the visible part (rename, publish)
/// in record order. It needs no async runtime; call it from blocking code (for example inside
/// `tokio::task::spawn_blocking`).
///
/// The first failure, of `stage(_, i)` or of `commit(i, _)`, stops the work: nothing above `i` is
/// committed, no stage above `i` starts once the failure is seen, and the values already staged
/// above `i` are dropped (their [`Drop`] can undo the work, e.g. remove a temporary file) before
/// this function returns `Err((i, error))`: exactly `i` values were committed. The number of
/// threads is `threads` clamped to `1..=n`; `n = 0` spawns none. A panic in `stage` or `commit`
/// is re-raised here once every thread has stopped.
///
/// ```
/// use conduit_connector::destination::commit_in_order;
///
/// let inputs = ["1", "2", "x", "4"];
/// let mut committed = Vec::new();
/// let result = commit_in_order(
///     inputs.len(),
///     2,
///     |_, i| inputs[i].parse::<u32>().map_err(|e| e.to_string()),
///     |_, n| {
///         committed.push(n);
///         Ok(())
///     },
/// );
/// assert_eq!(result, Err((2, "invalid digit found in string".to_owned())));
/// assert_eq!(committed, [1, 2]);
/// ```
pub fn commit_in_order<T: Send, E: Send>(
    n: usize,
    threads: usize,
    stage: impl Fn(usize, usize) -> Result<T, E> + Sync,
    mut commit: impl FnMut(usize, T) -> Result<(), E>,
) -> Result<(), (usize, E)> {
    let (next, stop) = (AtomicUsize::new(0), AtomicUsize::new(usize::MAX));
    let (stage, next, stop) = (&stage, &next, &stop);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for thread in 0..threads.max(1).min(n) {
            let sender = sender.clone();
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n || i > stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let staged = stage(thread, i);
                    if staged.is_err() {
                        stop.fetch_min(i, Ordering::Relaxed);
                    }
                    // Fails only once the committer has returned; the value is dropped here.
                    if sender.send((i, staged)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Values staged ahead of their turn; those behind a failure are dropped on return.
        let mut ahead: Vec<Option<Result<T, E>>> = (0..n).map(|_| None).collect();
        for i in 0..n {
            let staged = loop {
                if let Some(staged) = ahead.get_mut(i).and_then(Option::take) {
                    break staged;
                }
                match receiver.recv() {
                    Ok((j, staged)) => ahead[j] = Some(staged),
                    // Every index up to a failure gets staged, so only a panicking stage thread
                    // leaves one missing; `scope` re-raises its panic when it returns.
                    Err(mpsc::RecvError) => return Ok(()),
                }
            };
            if let Err(error) = staged.and_then(|staged| commit(i, staged)) {
                stop.fetch_min(i, Ordering::Relaxed);
                return Err((i, error));
            }
        }
        Ok(())
    })
}
