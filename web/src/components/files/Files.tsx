// A run's files tab: every file (run.save, run.dir, media) with its size and a download link.

import { errorText } from "../ErrorMessage";
import { formatTime } from "../format";
import { fileUrl, useRunFiles } from "./api";
import "./files.css";

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function Files({ entity, project, runId, live }: {
  entity: string; project: string; runId: string; live: boolean;
}) {
  const query = useRunFiles(entity, project, runId, live);
  if (query.isPending) return <p className="loading">Loading files…</p>;
  if (query.isError) return <p className="error" role="alert">{errorText(query.error)}</p>;
  const files = query.data.files;
  if (!files.length) return <p className="muted">This run has no files. Save some with run.save("path").</p>;
  const total = files.reduce((sum, f) => sum + f.size, 0);
  return (
    <section className="run-files" aria-label="Files">
      <p className="muted">{files.length} files, {formatBytes(total)}</p>
      <table>
        <thead><tr><th>Name</th><th>Size</th><th>Updated</th><th>SHA-256</th></tr></thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.name}>
              <td>
                {f.uploaded
                  ? <a href={fileUrl(entity, project, runId, f.name)} download>{f.name}</a>
                  : <span title="recorded; its bytes are still being uploaded">{f.name} (uploading)</span>}
              </td>
              <td className="num">{formatBytes(f.size)}</td>
              <td>{formatTime(f.updated_at)}</td>
              <td className="digest" title={f.digest}>{f.digest.slice(0, 12)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
