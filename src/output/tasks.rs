//! The output files are written by independent tasks on a few threads.

use crate::round::Progress;
use anyhow::Result;

/// One piece of output work with its name (timed through [`Progress::task`]).
pub struct Task<'a> {
    pub name: String,
    pub run: Box<dyn FnOnce() -> Result<()> + Send + 'a>,
}

impl<'a> Task<'a> {
    pub fn new(name: impl Into<String>, run: impl FnOnce() -> Result<()> + Send + 'a) -> Self {
        Task {
            name: name.into(),
            run: Box::new(run),
        }
    }
}

/// Run independent tasks on up to as many threads as the machine has cores,
/// taking them in the order given (put the biggest first). Every task runs
/// even when one fails; the error returned is the first in task order, so a
/// run's message does not depend on thread timing.
pub fn run_tasks(tasks: Vec<Task<'_>>, progress: &dyn Progress) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(tasks.len());
    let n = tasks.len();
    let queue = std::sync::Mutex::new(tasks.into_iter().enumerate());
    let results: std::sync::Mutex<Vec<Option<anyhow::Error>>> =
        std::sync::Mutex::new((0..n).map(|_| None).collect());
    let work = || {
        loop {
            let next = match queue.lock() {
                Ok(mut q) => q.next(),
                Err(_) => None,
            };
            let Some((i, task)) = next else { break };
            let started = std::time::Instant::now();
            let result = (task.run)();
            progress.task(&task.name, started.elapsed());
            if let (Err(e), Ok(mut r)) = (result, results.lock()) {
                r[i] = Some(e);
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    let errors = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("内部错误：输出线程异常退出"))?;
    match errors.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
