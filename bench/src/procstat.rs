//! What the kernel says about the server and the machine (proc(5)): a process's CPU time
//! (`/proc/PID/stat` utime + stime), its resident set now and at its peak
//! (`/proc/PID/status` VmRSS, VmHWM), and the whole machine's busy time (`/proc/stat`),
//! so each phase can report the CPU other processes took from it.

use std::fs;

use anyhow::{anyhow, Context, Result};

/// Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`, 100 on Linux).
const TICKS: f64 = 100.0;

/// CPU seconds (user + system) used so far by `pid` (or `self`).
pub fn cpu_seconds(pid: &str) -> Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&stat)
}

/// utime + stime of a `/proc/PID/stat` line, in seconds (fields 14 and 15; the command
/// name in parentheses may itself contain spaces, so count from its closing one).
pub fn parse_stat(stat: &str) -> Result<f64> {
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| anyhow!("no command name in stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')' come field 3 (state) onwards: utime is field 14, i.e. index 11 here.
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    Ok((utime + stime) / TICKS)
}

/// `(VmRSS, VmHWM)` of `pid` in MiB.
pub fn rss_mib(pid: &str) -> Result<(f64, f64)> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status)
}

/// `(VmRSS, VmHWM)` in MiB from a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> Result<(f64, f64)> {
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name}"))?;
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| anyhow!("empty {name}"))?
            .parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Busy CPU seconds of the whole machine (all cores: everything but idle and iowait).
pub fn machine_busy_seconds() -> Result<f64> {
    let stat = fs::read_to_string("/proc/stat")?;
    parse_machine(&stat)
}

/// Busy seconds from the `cpu` line of `/proc/stat`.
pub fn parse_machine(stat: &str) -> Result<f64> {
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| anyhow!("no cpu line"))?;
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    // user nice system idle iowait irq softirq steal (guest is already in user).
    let busy: f64 = values
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Ok(busy / TICKS)
}

/// CPU seconds of every process whose command line contains `needle`: the PostgreSQL
/// backends serving one database (their process title names it, e.g.
/// `postgres: postgres csbench_1_2 127.0.0.1(5000) idle`).
pub fn cpu_of_matching(needle: &str) -> f64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmd| matches_title(&cmd, needle))
        })
        .filter_map(|pid| cpu_seconds(&pid).ok())
        .sum()
}

/// Whether a `/proc/PID/cmdline` (NUL-separated) names `needle` as a whole word.
pub fn matches_title(cmdline: &[u8], needle: &str) -> bool {
    let text = String::from_utf8_lossy(cmdline).replace('\0', " ");
    text.starts_with("postgres:") && text.split_whitespace().any(|w| w == needle)
}

/// CPU readings at one instant: server, driver, machine.
#[derive(Clone, Copy)]
pub struct Sample {
    /// The server's CPU seconds.
    pub server: f64,
    /// CPU seconds of the server's PostgreSQL backends (0 on SQLite and for the peer).
    pub db: f64,
    /// This driver's CPU seconds.
    pub driver: f64,
    /// The machine's busy seconds.
    pub machine: f64,
}

impl Sample {
    /// Reads them all now; `db` names the server's PostgreSQL database, if any.
    pub fn take(server_pid: u32, db: Option<&str>) -> Result<Sample> {
        Ok(Sample {
            server: cpu_seconds(&server_pid.to_string())?,
            db: db.map_or(0.0, cpu_of_matching),
            driver: cpu_seconds("self")?,
            machine: machine_busy_seconds()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_times_past_a_command_with_spaces() {
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1 1 1";
        assert!((parse_stat(stat).unwrap_or(0.0) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn reads_rss_and_peak() {
        let status = "Name:\tx\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n";
        let (rss, hwm) = parse_status(status).unwrap_or_default();
        assert!((rss - 10.0).abs() < 1e-9 && (hwm - 20.0).abs() < 1e-9);
    }

    #[test]
    fn recognises_the_backends_of_one_database() {
        let title = b"postgres: postgres csbench_1_2 127.0.0.1(5000) idle\0";
        assert!(matches_title(title, "csbench_1_2"));
        assert!(!matches_title(title, "csbench_1"));
        assert!(!matches_title(b"psql\0-d\0csbench_1_2\0", "csbench_1_2"));
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 0 100 9999 9999 0 0 0 0 0\ncpu0 1 1 1 1\n";
        assert!((parse_machine(stat).unwrap_or(0.0) - 2.0).abs() < 1e-9);
    }
}
