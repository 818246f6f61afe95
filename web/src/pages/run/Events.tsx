// A run's lifecycle events: who created, stopped, rewound or forked it, and what the server did
// (crashed, preempted). Ingest bookkeeping is hidden unless asked for.

import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { errorText } from "../../components/ErrorMessage";
import { formatTime } from "../../components/format";
import { EVENTS_PAGE, fetchEvents, type RunEvent } from "./api";

const BOOKKEEPING = new Set(["metrics_applied"]);

const LABELS: Record<string, string> = {
  run_created: "created", run_finished: "finished", run_failed: "failed", run_killed: "stopped",
  run_rewound: "rewound", run_forked: "forked", run_crashed: "crashed", run_preempting: "preempting",
  run_preempted: "preempted", run_recovered: "recovered", ingest_quarantined: "batch quarantined",
};

function Details({ event, base }: { event: RunEvent; base: string }) {
  const p = event.payload ?? {};
  if (event.kind === "run_forked" && typeof p.parent === "string") {
    return <>from <Link to={`${base}/runs/${encodeURIComponent(p.parent)}`}>{p.parent}</Link> at step {String(p.step)}</>;
  }
  if (event.kind === "run_rewound") return <>to step {String(p.step)} ({String(p.hidden_points)} points hidden)</>;
  if (event.kind === "run_finished" || event.kind === "run_failed") return <>exit code {String(p.exit_code)}</>;
  if (event.kind === "run_killed") return <>was {String(p.previous_state)}</>;
  if (event.kind === "run_created") return null; // its payload is the run's own path
  const text = Object.keys(p).length ? JSON.stringify(p) : "";
  return <span className="muted">{text.length > 200 ? text.slice(0, 200) + "…" : text}</span>;
}

export function Events({ entity, project, runId }: { entity: string; project: string; runId: string }) {
  const [all, setAll] = useState(false);
  const query = useInfiniteQuery({
    queryKey: ["run-events", entity, project, runId],
    queryFn: ({ pageParam }) => fetchEvents(entity, project, runId, pageParam),
    initialPageParam: 0,
    // a full page may have more after it: ask from its last id
    getNextPageParam: (last) => (last.events.length === EVENTS_PAGE ? last.events[last.events.length - 1].id : undefined),
  });
  if (query.isPending) return <p className="loading">Loading events…</p>;
  if (query.isError) return <p className="error" role="alert">{errorText(query.error)}</p>;
  const events = query.data.pages.flatMap((p) => p.events).filter((e) => all || !BOOKKEEPING.has(e.kind));
  const base = `/${encodeURIComponent(entity)}/${encodeURIComponent(project)}`;
  return (
    <section className="run-events">
      <label className="inline">
        <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Show ingest events
      </label>
      <table>
        <thead>
          <tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">By</th><th scope="col">Details</th></tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id} data-kind={e.kind}>
              <td>{formatTime(e.created_at)}</td>
              <td>{LABELS[e.kind] ?? e.kind}</td>
              <td>{e.actor ?? <span className="muted">server</span>}</td>
              <td><Details event={e} base={base} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          Load more events
        </button>
      )}
    </section>
  );
}
