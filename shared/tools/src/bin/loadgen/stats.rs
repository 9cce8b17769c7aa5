//! Quantiles of measured delays, and resident memory and open files read from `/proc`.

use anyhow::Context as _;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often resident memory is sampled under load.
pub const MEMORY_SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// p50, p95, p99 and max of `values`, in milliseconds.
pub fn summary(values: &mut [Duration]) -> String {
    if values.is_empty() {
        return "no data".into();
    }
    values.sort();
    let at = |q: f64| quantile(values, q).as_secs_f64() * 1000.0;
    format!("p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms", at(0.5), at(0.95), at(0.99), at(1.0))
}

/// The `q` quantile of sorted `values` (nearest rank).
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default()
}

/// The services whose memory is watched: name and process id (`--pids users=1,orders=2`).
#[derive(Clone, Default)]
pub struct Services(pub Vec<(String, u32)>);

impl Services {
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut services = vec![];
        for pair in list.split(',').filter(|p| !p.is_empty()) {
            let (name, pid) = pair.split_once('=').context("--pids takes name=pid,…")?;
            services.push((name.to_owned(), pid.parse().context("a process id is a number")?));
        }
        Ok(Self(services))
    }

    /// Resident memory of `name` now, in KiB.
    pub fn rss_kib(&self, name: &str) -> Option<u64> {
        let pid = self.0.iter().find(|(n, _)| n == name)?.1;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
    }

    /// Open file descriptors of `name` now.
    pub fn open_fds(&self, name: &str) -> Option<usize> {
        let pid = self.0.iter().find(|(n, _)| n == name)?.1;
        Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
    }

    /// `users 12.3 MiB 31 fds, orders …` now.
    pub fn describe_with_fds(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, _)| match (self.rss_kib(name), self.open_fds(name)) {
                (Some(kib), Some(fds)) => format!("{name} {:.1} MiB {fds} fds", kib as f64 / 1024.0),
                _ => format!("{name} gone"),
            })
            .collect();
        parts.join(", ")
    }

    /// `users 12.3 MiB, orders …` now.
    pub fn describe_now(&self) -> String {
        self.describe(|name| self.rss_kib(name))
    }

    fn describe(&self, kib: impl Fn(&str) -> Option<u64>) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(name, _)| match kib(name) {
                Some(kib) => format!("{name} {:.1} MiB", kib as f64 / 1024.0),
                None => format!("{name} gone"),
            })
            .collect();
        parts.join(", ")
    }

    /// Samples every service every `every` until the returned guard is finished; the peaks.
    pub fn watch_peaks(&self, every: Duration) -> PeakWatch {
        let peaks: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
        let (services, seen) = (self.clone(), peaks.clone());
        let task = tokio::spawn(async move {
            loop {
                for (name, _) in &services.0 {
                    if let Some(kib) = services.rss_kib(name) {
                        let mut seen = seen.lock().expect("unwrap: no panics while held");
                        let peak = seen.entry(name.clone()).or_default();
                        *peak = (*peak).max(kib);
                    }
                }
                tokio::time::sleep(every).await;
            }
        });
        PeakWatch { services: self.clone(), peaks, task }
    }
}

/// Peak resident memory seen while it ran.
pub struct PeakWatch {
    services: Services,
    peaks: Arc<Mutex<BTreeMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PeakWatch {
    pub fn finish(self) -> String {
        self.task.abort();
        let peaks = self.peaks.lock().expect("unwrap: no panics while held").clone();
        self.services.describe(|name| peaks.get(name).copied())
    }
}

/// The platform's own services, whose CPU per order has a target together.
const SERVICES: [&str; 4] = ["users", "orders", "kitchen", "gateway"];

/// `850 µs`, or `1.25 ms` from a millisecond up.
pub fn micros(us: f64) -> String {
    if us >= 1000.0 { format!("{:.2} ms", us / 1000.0) } else { format!("{us:.0} µs") }
}

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on Linux whatever the
/// kernel's own tick rate).
const USER_HZ: u64 = 100;

/// CPU time (user + system) spent by process `pid` and every process below it — live
/// children, and those it has reaped — in microseconds. PostgreSQL's backends are children of
/// its postmaster, so the postmaster's pid stands for the whole server.
pub fn cpu_micros(pid: u32) -> Option<u64> {
    let stats = process_stats();
    let (_, own) = stats.get(&pid)?;
    let mut total = *own;
    let mut below = vec![pid];
    while let Some(parent) = below.pop() {
        for (child, (ppid, ticks)) in &stats {
            if *ppid == parent {
                total += ticks;
                below.push(*child);
            }
        }
    }
    Some(total * 1_000_000 / USER_HZ)
}

/// Every process: pid → (parent pid, utime + stime + cutime + cstime in ticks).
fn process_stats() -> BTreeMap<u32, (u32, u64)> {
    let mut stats = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return stats };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let Some((_, rest)) = text.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        // After ')': state, ppid, …; utime, stime, cutime, cstime are fields 14–17 of the line.
        stats.insert(pid, (number(1) as u32, number(11) + number(12) + number(13) + number(14)));
    }
    stats
}

/// CPU time of every watched process at one moment (`--pids`, plus loadgen itself).
pub struct CpuSnapshot(BTreeMap<String, u64>);

impl Services {
    pub fn cpu_snapshot(&self) -> CpuSnapshot {
        let mut cpu: BTreeMap<String, u64> =
            self.0.iter().filter_map(|(name, pid)| Some((name.clone(), cpu_micros(*pid)?))).collect();
        if let Some(own) = cpu_micros(std::process::id()) {
            cpu.insert("loadgen".into(), own);
        }
        CpuSnapshot(cpu)
    }

    /// `CPU use: kitchen 35 % of a core, …; all 180 % of 200 %` between two snapshots `elapsed`
    /// apart: whether a run had the machine to itself or queued for it.
    pub fn cpu_use(&self, before: &CpuSnapshot, after: &CpuSnapshot, elapsed: Duration) -> String {
        let micros = elapsed.as_micros().max(1) as f64;
        let mut total = 0.0;
        let parts: Vec<String> = after
            .0
            .iter()
            .filter_map(|(name, now)| {
                let share = now.saturating_sub(*before.0.get(name)?) as f64 / micros * 100.0;
                total += share;
                Some(format!("{name} {share:.0} %"))
            })
            .collect();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) * 100;
        format!("CPU use (% of one core): {}; together {total:.0} % of {cores} %", parts.join(", "))
    }

    /// CPU time the four services spent between two snapshots, in microseconds.
    pub fn services_micros(before: &CpuSnapshot, after: &CpuSnapshot) -> f64 {
        SERVICES.iter().filter_map(|name| Some(after.0.get(*name)?.saturating_sub(*before.0.get(*name)?) as f64)).sum()
    }

    /// `CPU per order: users 80 µs, …; the four services 900 µs; broker …` between two
    /// snapshots, `orders` orders apart. The four services are summed, as their target is.
    pub fn cpu_per_order(&self, before: &CpuSnapshot, after: &CpuSnapshot, orders: usize) -> String {
        if orders == 0 {
            return "CPU per order: no orders".into();
        }
        let per_order = |name: &str| -> Option<f64> {
            Some(after.0.get(name)?.saturating_sub(*before.0.get(name)?) as f64 / orders as f64)
        };
        let services = SERVICES;
        let mut parts: Vec<String> = vec![];
        let mut sum = 0.0;
        for name in services {
            if let Some(us) = per_order(name) {
                sum += us;
                parts.push(format!("{name} {}", micros(us)));
            }
        }
        let mut line = format!("CPU per order: {}; services together {}", parts.join(", "), micros(sum));
        let others: Vec<String> = after
            .0
            .keys()
            .filter(|name| !services.contains(&name.as_str()))
            .filter_map(|name| Some(format!("{name} {}", micros(per_order(name)?))))
            .collect();
        if !others.is_empty() {
            line.push_str(&format!("; {}", others.join(", ")));
        }
        line
    }
}
