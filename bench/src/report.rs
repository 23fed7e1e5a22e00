//! Markdown from the JSON lines of several runs: per scenario, target and concurrency the
//! median over runs of each figure; ratios of server operations per server CPU-second
//! against the peer (the measure that contention on a shared machine distorts least);
//! resident memory idle and at its peak.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::scenarios::ALL;
use crate::Line;

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

type Key = (String, String, usize);

fn group(lines: &[Line]) -> BTreeMap<Key, Vec<&Line>> {
    let mut groups: BTreeMap<Key, Vec<&Line>> = BTreeMap::new();
    for l in lines {
        let key = (l.scenario.clone(), l.target.clone(), l.concurrency);
        groups.entry(key).or_default().push(l);
    }
    groups
}

fn med(ls: &[&Line], f: impl Fn(&Line) -> f64) -> f64 {
    median(ls.iter().map(|l| f(l)).collect())
}

/// The whole report.
pub fn markdown(lines: &[Line]) -> String {
    let groups = group(lines);
    let mut out = String::new();
    let runs = lines.iter().map(|l| l.run).max().unwrap_or(0);
    let _ = writeln!(out, "Medians of {runs} run(s) per figure.\n");
    for scenario in ALL.iter().chain(&["inbox", "status"]) {
        let rows: Vec<_> = groups
            .iter()
            .filter(|((s, _, _), _)| s == scenario)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {scenario}\n");
        let approval = *scenario == "approval_flow";
        let _ = write!(
            out,
            "| target | conc. | ops/s | p50 ms | p90 ms | p99 ms | errors | server CPU ms/op | ops/CPU-s | other CPU (cores) |"
        );
        let _ = writeln!(
            out,
            "{}",
            if approval {
                " decision→redirect p50 / p90 ms |"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|{}",
            if approval { "---:|" } else { "" }
        );
        for ((_, target, c), ls) in rows {
            let _ = write!(
                out,
                "| {target} | {c} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {:.0} | {:.2} |",
                med(ls, |l| l.measured.throughput),
                med(ls, |l| l.measured.p50),
                med(ls, |l| l.measured.p90),
                med(ls, |l| l.measured.p99),
                ls.iter().map(|l| l.measured.errors).sum::<u64>(),
                med(ls, |l| l.measured.cpu_ms_per_op),
                med(ls, |l| l.measured.ops_per_cpu_s),
                med(ls, |l| l.measured.other_cores),
            );
            if approval {
                let _ = write!(
                    out,
                    " {:.1} / {:.1} |",
                    med(ls, |l| l.measured.secondary_p50.unwrap_or(0.0)),
                    med(ls, |l| l.measured.secondary_p90.unwrap_or(0.0)),
                );
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out);
    }
    ratios(&groups, &mut out);
    scale(&groups, &mut out);
    memory(lines, &mut out);
    errors(lines, &mut out);
    out
}

fn ratios(groups: &BTreeMap<Key, Vec<&Line>>, out: &mut String) {
    let peer: BTreeMap<(String, usize), f64> = groups
        .iter()
        .filter(|((_, t, _), _)| t == "peer")
        .map(|((s, _, c), ls)| ((s.clone(), *c), med(ls, |l| l.measured.ops_per_cpu_s)))
        .collect();
    if peer.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Server ops per server CPU-second: countersign / peer\n"
    );
    let _ = writeln!(out, "| scenario | conc. | countersign-sqlite | countersign-postgres | postgres incl. its backends | peer | sqlite ÷ peer | postgres ÷ peer | postgres incl. backends ÷ peer |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ((scenario, c), p) in &peer {
        let of = |t: &str| {
            groups
                .get(&(scenario.clone(), t.to_owned(), *c))
                .map(|ls| med(ls, |l| l.measured.ops_per_cpu_s))
        };
        let (s, g) = (of("countersign-sqlite"), of("countersign-postgres"));
        // Lines from before the backends were measured carry 0: shown as "–".
        let gdb = groups
            .get(&(scenario.clone(), "countersign-postgres".to_owned(), *c))
            .map(|ls| med(ls, |l| l.measured.ops_per_cpu_s_with_db))
            .filter(|v| *v > 0.0);
        let ratio = |v: Option<f64>| match v {
            Some(v) if *p > 0.0 => format!("{:.2}", v / p),
            _ => "–".into(),
        };
        let fig = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.0}"));
        let _ = writeln!(
            out,
            "| {scenario} | {c} | {} | {} | {} | {p:.0} | {} | {} | {} |",
            fig(s),
            fig(g),
            fig(gdb),
            ratio(s),
            ratio(g),
            ratio(gdb)
        );
    }
    let _ = writeln!(out);
}

/// Seeded against empty, same backend: the p50 ratio of each scale scenario.
fn scale(groups: &BTreeMap<Key, Vec<&Line>>, out: &mut String) {
    let seeded: Vec<_> = groups
        .iter()
        .filter(|((_, t, _), _)| t.ends_with("+seed"))
        .collect();
    if seeded.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Scale: 1,000,000 approvals, 10,000 clients, 100,000 users vs an empty database\n"
    );
    let _ = writeln!(out, "| scenario | target | conc. | p50 empty ms | p50 seeded ms | seeded ÷ empty | p99 empty ms | p99 seeded ms |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for ((scenario, target, c), ls) in seeded {
        let empty_target = target.trim_end_matches("+seed").to_owned();
        let Some(empty) = groups.get(&(scenario.clone(), empty_target.clone(), *c)) else {
            continue;
        };
        let (e50, s50) = (med(empty, |l| l.measured.p50), med(ls, |l| l.measured.p50));
        let _ = writeln!(
            out,
            "| {scenario} | {empty_target} | {c} | {e50:.2} | {s50:.2} | {:.2} | {:.2} | {:.2} |",
            if e50 > 0.0 { s50 / e50 } else { 0.0 },
            med(empty, |l| l.measured.p99),
            med(ls, |l| l.measured.p99),
        );
    }
    let _ = writeln!(out);
}

fn memory(lines: &[Line], out: &mut String) {
    let mut by_target: BTreeMap<&str, BTreeMap<u32, (f64, f64)>> = BTreeMap::new();
    for l in lines {
        let e = by_target
            .entry(&l.target)
            .or_default()
            .entry(l.run)
            .or_insert((l.rss_idle, 0.0));
        e.1 = e.1.max(l.rss_peak);
    }
    let _ = writeln!(out, "### Server memory (MiB; medians over runs)\n");
    let _ = writeln!(out, "| target | RSS idle (after set-up) | peak (VmHWM) |");
    let _ = writeln!(out, "|---|---:|---:|");
    for (target, runs) in by_target {
        let idle = median(runs.values().map(|v| v.0).collect());
        let peak = median(runs.values().map(|v| v.1).collect());
        let _ = writeln!(out, "| {target} | {idle:.1} | {peak:.1} |");
    }
    let _ = writeln!(out);
}

fn errors(lines: &[Line], out: &mut String) {
    let failed: Vec<_> = lines
        .iter()
        .filter(|l| l.measured.first_error.is_some())
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "### First error per failing phase\n");
    for l in failed {
        let e = l.measured.first_error.as_deref().unwrap_or_default();
        let e: String = e.chars().take(200).collect();
        let _ = writeln!(
            out,
            "- {} run {} {} c={}: {e}",
            l.target, l.run, l.scenario, l.concurrency
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
