// A run's summary (the last value of each metric, or what the run set) with each metric's
// min/max/count from `/metrics` when it has history.

import { formatValue } from "../../components/format";
import type { MetricSummary } from "./api";

export function SummaryTable({ summary, metrics }: {
  summary: Record<string, unknown>;
  metrics: Record<string, MetricSummary> | undefined;
}) {
  const keys = Object.keys(summary ?? {}).filter((k) => !k.startsWith("_")).sort();
  if (!keys.length) return <p className="muted">No summary yet.</p>;
  return (
    <table className="summary-table">
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
          <th scope="col">Min</th>
          <th scope="col">Max</th>
          <th scope="col">Points</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => {
          const m = metrics?.[key];
          return (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td>{formatValue(summary[key])}</td>
              <td>{m ? formatValue(m.min) : ""}</td>
              <td>{m ? formatValue(m.max) : ""}</td>
              <td>{m ? m.count.toLocaleString() : ""}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
