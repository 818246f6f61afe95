// The run's metadata in its overview: where and from what it ran (host, OS, Python, command,
// git, hardware), as the SDK recorded it at start.

import { errorText } from "../ErrorMessage";
import { formatValue } from "../format";
import { useRunMetadata } from "./api";
import "./system.css";

type Meta = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? "" : typeof v === "string" ? v : formatValue(v));

function command(m: Meta): string {
  const args = Array.isArray(m.args) ? m.args.map(String) : [];
  return [str(m.program), ...args].filter(Boolean).join(" ");
}

function gpus(m: Meta): string {
  const list = Array.isArray(m.gpus) ? (m.gpus as Meta[]) : [];
  if (list.length) {
    const names = list.map((g) => `${str(g.name)}${g.memory_mb ? ` (${Math.round(Number(g.memory_mb) / 1024)} GB)` : ""}`);
    return `${list.length} × ${[...new Set(names)].join(", ")}${m.gpu_driver ? `; driver ${str(m.gpu_driver)}` : ""}`;
  }
  return m.gpu_probe ? `none (${str(m.gpu_probe)})` : str(m.gpu_count);
}

/** Rows of the table, in reading order; keys shown here are not repeated under "Other". */
function rows(m: Meta): [string, string, string[]][] {
  const git = (m.git ?? {}) as Meta;
  const cpu = [str(m.cpu_model), m.cpu_count ? `${str(m.cpu_count)} logical` : "",
               m.cpu_count_physical ? `${str(m.cpu_count_physical)} physical` : ""].filter(Boolean).join(", ");
  return [
    ["Host", str(m.host), ["host"]],
    ["OS", str(m.os), ["os"]],
    ["Python", [str(m.python), str(m.python_implementation)].filter(Boolean).join(" "), ["python", "python_implementation"]],
    ["Executable", str(m.executable), ["executable"]],
    ["Command", command(m), ["program", "args"]],
    ["Working directory", str(m.cwd), ["cwd"]],
    ["Git commit", git.commit ? `${str(git.commit)}${git.dirty ? " (uncommitted changes)" : ""}` : "", ["git"]],
    ["Git branch", str(git.branch), []],
    ["Git remote", str(git.remote), []],
    ["CPU", cpu, ["cpu_model", "cpu_count", "cpu_count_physical"]],
    ["Memory", m.memory_total_mb ? `${(Number(m.memory_total_mb) / 1024).toFixed(1)} GB` : "", ["memory_total_mb"]],
    ["GPUs", gpus(m), ["gpus", "gpu_count", "gpu_driver", "gpu_probe", "cuda_driver"]],
    ["Saved code", str(m.code_path), ["code_path"]],
    ["PID", str(m.pid), ["pid"]],
  ];
}

export function MetadataTable({ entity, project, runId }: { entity: string; project: string; runId: string }) {
  const query = useRunMetadata(entity, project, runId);
  let body: React.ReactNode;
  if (query.isPending) body = <p className="loading">Loading…</p>;
  else if (query.isError) body = <p className="error" role="alert">{errorText(query.error)}</p>;
  else {
    const m = query.data.metadata;
    const table = rows(m);
    const shown = new Set(table.flatMap(([, , keys]) => keys).concat("started_at"));
    const other = Object.keys(m).filter((k) => !shown.has(k)).sort();
    const filled = table.filter(([, value]) => value);
    body = filled.length || other.length ? (
      <table className="summary-table metadata-table">
        <tbody>
          {filled.map(([label, value]) => (
            <tr key={label}><th scope="row">{label}</th><td><code>{value}</code></td></tr>
          ))}
          {other.map((k) => (
            <tr key={k}><th scope="row">{k}</th><td><code>{str(m[k])}</code></td></tr>
          ))}
        </tbody>
      </table>
    ) : <p className="muted">No metadata recorded (the SDK sends it at start unless <code>x_disable_meta</code> is set).</p>;
  }
  return (
    <section aria-labelledby="run-metadata" className="run-metadata">
      <h2 id="run-metadata">Environment</h2>
      {body}
    </section>
  );
}
