//! Peak memory of each function process. Under `cargo lambda watch` every function runs as a process
//! of its own, named after its binary; `VmHWM` in `/proc/<pid>/status` is its peak resident set since
//! it started (the budget in README.md: 32 MB per function).

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The seven functions, by binary name.
pub const FUNCTIONS: &[&str] = &[
    "auth",
    "dishes",
    "orders",
    "payments",
    "admin",
    "paystack-webhook",
    "notifier",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionMemory {
    pub function: String,
    /// Processes found (more than one with `cargo lambda watch --concurrency`).
    pub processes: usize,
    /// The largest `VmHWM` among them, in MiB.
    pub peak_mib: f64,
    /// The largest current `VmRSS`, in MiB.
    pub rss_mib: f64,
}

/// `VmHWM` and `VmRSS` in KiB from the text of `/proc/<pid>/status`.
pub fn parse_status(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The parent pid from the text of `/proc/<pid>/stat` (the field after the parenthesised name,
/// which may itself hold spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn processes() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The memory of every function process. With `root`, only processes descended from it (the dev
/// script that started this stack) count, so another stack on the machine is left out.
pub fn function_memory(root: Option<u32>) -> Vec<FunctionMemory> {
    let pids = processes();
    let allowed: Option<HashSet<u32>> = root.map(|root| {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        for &pid in &pids {
            if let Some(ppid) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .as_deref()
                .and_then(parse_ppid)
            {
                children.entry(ppid).or_default().push(pid);
            }
        }
        let mut found = HashSet::from([root]);
        let mut queue = vec![root];
        while let Some(pid) = queue.pop() {
            for &child in children.get(&pid).into_iter().flatten() {
                if found.insert(child) {
                    queue.push(child);
                }
            }
        }
        found
    });
    let mut by_function: HashMap<&str, FunctionMemory> = HashMap::new();
    for pid in pids {
        if allowed.as_ref().is_some_and(|set| !set.contains(&pid)) {
            continue;
        }
        let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
            continue;
        };
        // A binary rebuilt while its process runs reads as `<path> (deleted)`.
        let Some(name) = exe
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.trim_end_matches(" (deleted)"))
        else {
            continue;
        };
        let Some(function) = FUNCTIONS.iter().find(|f| **f == name) else {
            continue;
        };
        // Without a root to go by, only binaries cargo built count (a profile directory holds them).
        let built_by_cargo = exe
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|dir| dir == "release" || dir == "debug");
        if allowed.is_none() && !built_by_cargo {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let (peak, rss) = parse_status(&status);
        let entry = by_function.entry(function).or_insert(FunctionMemory {
            function: function.to_string(),
            processes: 0,
            peak_mib: 0.0,
            rss_mib: 0.0,
        });
        entry.processes += 1;
        entry.peak_mib = entry.peak_mib.max(mib(peak.unwrap_or(0)));
        entry.rss_mib = entry.rss_mib.max(mib(rss.unwrap_or(0)));
    }
    FUNCTIONS
        .iter()
        .filter_map(|f| by_function.remove(f))
        .collect()
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_give_the_peak_and_current_resident_set() {
        let status =
            "Name:\tpayments\nVmPeak:\t  123456 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status(status), (Some(20_480), Some(10_240)));
        assert_eq!(parse_status("Name:\tx\n"), (None, None));
        assert_eq!(mib(20_480), 20.0);
    }

    #[test]
    fn the_parent_pid_follows_the_name_even_with_spaces_in_it() {
        assert_eq!(parse_ppid("4242 (auth) S 4200 4242 4200 0 -1"), Some(4200));
        assert_eq!(parse_ppid("77 (odd (name) x) R 1 77 77"), Some(1));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn this_process_is_not_a_function() {
        let own = std::process::id();
        assert!(function_memory(Some(own)).is_empty());
    }
}
