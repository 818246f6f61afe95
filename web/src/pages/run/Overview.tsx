// The run page's overview: state and where it ran, its config tree and summary.

import { Link } from "react-router-dom";
import type { Run } from "../../api/types";
import { formatDuration, formatTime } from "../../components/format";
import { StateBadge } from "../../components/StateBadge";
import type { MetricSummary } from "./api";
import { ConfigTree } from "./ConfigTree";
import { SummaryTable } from "./SummaryTable";

function forkOf(run: Run): { id: string; step: number | null } | null {
  const f = run.forked_from;
  return f ? { id: f.id, step: f.step ?? null } : null;
}

export function Overview({ run, metrics }: { run: Run; metrics: Record<string, MetricSummary> | undefined }) {
  const fork = forkOf(run);
  const base = `/${encodeURIComponent(run.entity)}/${encodeURIComponent(run.project)}`;
  const facts: [string, React.ReactNode][] = [
    ["State", <StateBadge state={run.state} />],
    ["Exit code", run.exit_code ?? "–"],
    ["Runtime", formatDuration(run.runtime) || "–"],
    ["Created", formatTime(run.created_at)],
    ["Created by", run.created_by ?? "–"],
    ["Host", run.host ?? "–"],
    ["Program", run.program ? <code>{run.program}</code> : "–"],
    ["Python", run.python ?? "–"],
    ["Group", run.group ?? "–"],
    ["Job type", run.job_type ?? "–"],
    ["Tags", run.tags?.length ? run.tags.map((t) => <span key={t} className="tag">{t}</span>) : "–"],
  ];
  if (fork) {
    facts.push(["Forked from", (
      <>
        <Link to={`${base}/runs/${encodeURIComponent(fork.id)}`}>{fork.id}</Link>
        {fork.step !== null && ` at step ${fork.step.toLocaleString()}`}
      </>
    )]);
  }
  return (
    <div className="run-overview">
      <section aria-labelledby="run-facts">
        <h2 id="run-facts" className="visually-hidden">Details</h2>
        <dl className="facts">
          {facts.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        {run.notes && (
          <>
            <h3>Notes</h3>
            <p className="notes">{run.notes}</p>
          </>
        )}
      </section>
      <section aria-labelledby="run-config">
        <h2 id="run-config">Config</h2>
        <ConfigTree config={run.config} />
      </section>
      <section aria-labelledby="run-summary">
        <h2 id="run-summary">Summary</h2>
        <SummaryTable summary={run.summary} metrics={metrics} />
      </section>
    </div>
  );
}
