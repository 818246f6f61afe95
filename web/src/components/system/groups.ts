// System keys into charts: one chart per measure, a line per device where there are several
// (`system/gpu/<i>/util_percent` -> chart "gpu/util_percent", lines "GPU 0", "GPU 1", ...).

export interface ChartGroup {
  id: string;
  title: string;
  lines: { key: string; label: string }[];
}

const TITLES: Record<string, string> = {
  cpu_percent: "CPU utilization (%)",
  "cpu/percent": "CPU utilization per core (%)",
  "proc/cpu_percent": "Process CPU (%, 100 = one core)",
  "proc/rss_mb": "Process memory (RSS, MB)",
  "proc/threads": "Process threads",
  "proc/open_files": "Process open files",
  "proc/read_mb_s": "Process disk read (MB/s)",
  "proc/write_mb_s": "Process disk write (MB/s)",
  "memory/used_mb": "System memory used (MB)",
  "memory/available_mb": "System memory available (MB)",
  "memory/percent": "System memory used (%)",
  "disk/used_gb": "Disk used (GB, run directory's filesystem)",
  "disk/free_gb": "Disk free (GB, run directory's filesystem)",
  "disk/percent": "Disk used (%)",
  "disk/read_mb_s": "Disk read (MB/s)",
  "disk/write_mb_s": "Disk write (MB/s)",
  "network/recv_mb_s": "Network received (MB/s)",
  "network/sent_mb_s": "Network sent (MB/s)",
  "gpu/util_percent": "GPU utilization (%)",
  "gpu/memory_util_percent": "GPU memory bandwidth utilization (%)",
  "gpu/memory_used_mb": "GPU memory used (MB)",
  "gpu/memory_total_mb": "GPU memory total (MB)",
  "gpu/memory_percent": "GPU memory used (%)",
  "gpu/temp_c": "GPU temperature (°C)",
  "gpu/power_w": "GPU power (W)",
  "gpu/power_limit_w": "GPU power limit (W)",
  "gpu/power_percent": "GPU power (% of limit)",
  "gpu/sm_clock_mhz": "GPU SM clock (MHz)",
  "gpu/memory_clock_mhz": "GPU memory clock (MHz)",
};

const ORDER = ["cpu", "proc", "memory", "gpu", "disk", "network"];

function deviceLabel(kind: string, index: string): string {
  return kind === "cpu" ? `core ${index}` : `${kind.toUpperCase()} ${index}`;
}

export function groupKeys(keys: string[]): ChartGroup[] {
  const groups = new Map<string, ChartGroup>();
  for (const key of keys) {
    if (!key.startsWith("system/")) continue;
    const parts = key.slice("system/".length).split("/");
    let id = parts.join("/");
    let label = "this run";
    if (parts.length >= 3 && /^\d+$/.test(parts[1])) {
      id = [parts[0], ...parts.slice(2)].join("/");
      label = deviceLabel(parts[0], parts[1]);
    }
    const group = groups.get(id) ?? { id, title: TITLES[id] ?? id, lines: [] };
    group.lines.push({ key, label });
    groups.set(id, group);
  }
  const rank = (g: ChartGroup) => {
    const at = ORDER.indexOf(g.id.split(/[/_]/)[0]);
    return at < 0 ? ORDER.length : at;
  };
  const perDevice = (g: ChartGroup) => (g.lines.some((l) => l.label !== "this run") ? 1 : 0); // totals first
  const out = [...groups.values()].sort((a, b) => rank(a) - rank(b) || perDevice(a) - perDevice(b) || a.id.localeCompare(b.id));
  for (const g of out) g.lines.sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
  return out;
}

/** Seconds since the run started, as an axis label. */
export function formatRuntime(seconds: number): string {
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(seconds >= 36000 ? 0 : 1)}h`;
  if (seconds >= 60) return `${(seconds / 60).toFixed(seconds >= 600 ? 0 : 1)}m`;
  return `${+seconds.toFixed(1)}s`;
}
