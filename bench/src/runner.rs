//! One bounded phase of load: `concurrency` workers loop over one operation on a
//! single-threaded runtime (the driver owns one core), a warm-up, then a measured
//! window; operations completing inside the window are counted and timed, and the
//! server's CPU time, the driver's and the rest of the machine's are read at both ends.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::procstat::{self, Sample};

/// How long a phase lasts and how many operations it may run at most.
#[derive(Clone, Copy)]
pub struct Bounds {
    /// Unmeasured warm-up.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
    /// At most this many operations in the whole phase.
    pub max_ops: u64,
}

/// No operation may take longer than this (the phase ends even if the server hangs).
const OP_TIMEOUT: Duration = Duration::from_secs(15);

/// A worker: one simulated browser or API client with its own connection(s).
pub trait Worker {
    /// Runs the operation once; may return a secondary latency (approval_flow's
    /// decision-to-redirect).
    async fn once(&mut self) -> Result<Option<Duration>>;
}

/// What a phase measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Measured {
    /// Operations completed in the window.
    pub ops: u64,
    /// Failed operations in the window.
    pub errors: u64,
    /// Window length, seconds.
    pub secs: f64,
    /// Operations per second.
    pub throughput: f64,
    /// Latency percentiles, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// Server CPU seconds in the window.
    pub server_cpu: f64,
    /// Server operations per server CPU-second.
    pub ops_per_cpu_s: f64,
    /// Server CPU milliseconds per operation.
    pub cpu_ms_per_op: f64,
    /// CPU seconds of the server's PostgreSQL backends in the window.
    pub db_cpu: f64,
    /// Operations per CPU-second of the server and its PostgreSQL backends together.
    pub ops_per_cpu_s_with_db: f64,
    /// Cores the driver used (should stay well under 1).
    pub driver_cores: f64,
    /// Cores everything else on the machine used.
    pub other_cores: f64,
    /// Secondary latency percentiles (approval_flow: decision → redirect), ms.
    pub secondary_p50: Option<f64>,
    /// 90th percentile of the secondary latency, ms.
    pub secondary_p90: Option<f64>,
    /// The first error seen, for the log.
    pub first_error: Option<String>,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<f64>,
    secondary: Vec<f64>,
    errors: u64,
    started: u64,
    first_error: Option<String>,
}

/// The value at quantile `q` of sorted `v` (nearest rank), 0 when empty.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((v.len() as f64) * q).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// What a phase watches: the server's process, and its PostgreSQL database if any.
pub struct Watched {
    /// The server's pid.
    pub pid: u32,
    /// Its PostgreSQL database's name (whose backends' CPU is counted too).
    pub db: Option<String>,
}

/// Runs one phase with `workers` against the server `watched`.
pub async fn phase<W: Worker + 'static>(
    workers: Vec<W>,
    bounds: Bounds,
    watched: &Watched,
) -> Measured {
    let (pid, db) = (watched.pid, watched.db.as_deref());
    let tally = Rc::new(RefCell::new(Tally::default()));
    let start = Instant::now();
    let window_start = start + bounds.warmup;
    let window_end = window_start + bounds.measure;
    let local = tokio::task::LocalSet::new();
    for mut worker in workers {
        let tally = tally.clone();
        local.spawn_local(async move {
            loop {
                let began = Instant::now();
                {
                    let mut t = tally.borrow_mut();
                    if began >= window_end || t.started >= bounds.max_ops {
                        break;
                    }
                    t.started += 1;
                }
                let result = tokio::time::timeout(OP_TIMEOUT, worker.once()).await;
                let done = Instant::now();
                let in_window = done >= window_start && done <= window_end;
                let failed = !matches!(result, Ok(Ok(_)));
                if in_window {
                    let mut t = tally.borrow_mut();
                    match result {
                        Ok(Ok(secondary)) => {
                            t.latencies.push((done - began).as_secs_f64() * 1000.0);
                            if let Some(s) = secondary {
                                t.secondary.push(s.as_secs_f64() * 1000.0);
                            }
                        }
                        Ok(Err(e)) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| format!("{e:#}"));
                        }
                        Err(_) => {
                            t.errors += 1;
                            t.first_error.get_or_insert_with(|| "timed out".into());
                        }
                    }
                }
                if failed {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        });
    }
    let samples = local.run_until(async {
        tokio::time::sleep_until(window_start.into()).await;
        let a = (Instant::now(), Sample::take(pid, db));
        tokio::time::sleep_until(window_end.into()).await;
        let b = (Instant::now(), Sample::take(pid, db));
        (a, b)
    });
    let ((ta, a), (tb, b)) = samples.await;
    local.await;
    let t = tally.take();
    summarise(t, (tb - ta).as_secs_f64(), a.ok(), b.ok())
}

fn summarise(mut t: Tally, secs: f64, a: Option<Sample>, b: Option<Sample>) -> Measured {
    t.latencies.sort_by(f64::total_cmp);
    t.secondary.sort_by(f64::total_cmp);
    let ops = t.latencies.len() as u64;
    let (server_cpu, db_cpu, driver, machine) = match (a, b) {
        (Some(a), Some(b)) => (
            b.server - a.server,
            (b.db - a.db).max(0.0),
            b.driver - a.driver,
            b.machine - a.machine,
        ),
        _ => (0.0, 0.0, 0.0, 0.0),
    };
    let secondary = !t.secondary.is_empty();
    Measured {
        ops,
        errors: t.errors,
        secs,
        throughput: ops as f64 / secs.max(1e-9),
        p50: quantile(&t.latencies, 0.5),
        p90: quantile(&t.latencies, 0.9),
        p99: quantile(&t.latencies, 0.99),
        server_cpu,
        ops_per_cpu_s: if server_cpu > 0.0 {
            ops as f64 / server_cpu
        } else {
            0.0
        },
        cpu_ms_per_op: if ops > 0 {
            server_cpu * 1000.0 / ops as f64
        } else {
            0.0
        },
        db_cpu,
        ops_per_cpu_s_with_db: if server_cpu + db_cpu > 0.0 {
            ops as f64 / (server_cpu + db_cpu)
        } else {
            0.0
        },
        driver_cores: driver / secs.max(1e-9),
        other_cores: ((machine - server_cpu - db_cpu - driver) / secs.max(1e-9)).max(0.0),
        secondary_p50: secondary.then(|| quantile(&t.secondary, 0.5)),
        secondary_p90: secondary.then(|| quantile(&t.secondary, 0.9)),
        first_error: t.first_error,
    }
}

/// RSS now and at its peak, MiB (zeros when the process is gone).
pub fn rss(pid: u32) -> (f64, f64) {
    procstat::rss_mib(&pid.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[7.0], 0.9), 7.0);
        assert_eq!(quantile(&[], 0.9), 0.0);
    }
}
