// A run: overview (state, where it ran, config, summary, environment), charts, system metrics, media,
// files, console and lifecycle events, one tab each (`?tab=`), refreshed while the run is running. The
// SDK prints this page's URL.

import { useEffect, useState } from "react";
import { useParams, useSearchParams } from "react-router-dom";
import { useRun } from "../api/hooks";
import { Console } from "../components/console/Console";
import { errorText } from "../components/ErrorMessage";
import { Files } from "../components/files/Files";
import { MediaPanels } from "../components/files/Media";
import { StateBadge } from "../components/StateBadge";
import { MetadataTable } from "../components/system/MetadataTable";
import { SystemCharts } from "../components/system/SystemCharts";
import { useRunMetrics } from "./run/api";
import { Events } from "./run/Events";
import { Overview } from "./run/Overview";
import { RunCharts } from "./run/RunCharts";
import "./run/run.css";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "charts", label: "Charts" },
  { id: "system", label: "System" },
  { id: "media", label: "Media" },
  { id: "files", label: "Files" },
  { id: "console", label: "Console" },
  { id: "events", label: "Events" },
] as const;
type Tab = (typeof TABS)[number]["id"];

const LIVE_MS = 5000;

export default function RunPage() {
  const { entity = "", project = "", runId = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const tab: Tab = TABS.some((t) => t.id === params.get("tab")) ? (params.get("tab") as Tab) : "overview";
  const [live, setLive] = useState(false);
  const runQuery = useRun(entity, project, runId, live ? LIVE_MS : false);
  const state = runQuery.data?.state;
  useEffect(() => setLive(state === "running" || state === "preempting"), [state]);
  const metrics = useRunMetrics(entity, project, runId, live, tab === "overview" || tab === "charts");

  if (runQuery.isPending) return <p className="loading">Loading run…</p>;
  if (runQuery.isError) return <p className="error" role="alert">{errorText(runQuery.error)}</p>;
  const run = runQuery.data;

  const select = (next: Tab) => {
    // chart settings stay in the URL across tabs; the tab replaces the entry (back leaves the run)
    const p = new URLSearchParams(params);
    if (next === "overview") p.delete("tab");
    else p.set("tab", next);
    setParams(p, { replace: true });
  };
  const onKey = (e: React.KeyboardEvent) => {
    const at = TABS.findIndex((t) => t.id === tab);
    const by = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!by) return;
    const next = TABS[(at + by + TABS.length) % TABS.length].id;
    select(next);
    document.getElementById(`run-tab-${next}`)?.focus();
  };

  return (
    <div className="run-page">
      <header className="run-head">
        <h1>{run.name ?? run.id}</h1>
        <StateBadge state={run.state} />
        <span className="muted run-id">{run.id}</span>
      </header>
      <div role="tablist" aria-label="Run" className="tabs" onKeyDown={onKey}>
        {TABS.map((t) => (
          <button key={t.id} id={`run-tab-${t.id}`} role="tab" type="button" aria-selected={tab === t.id}
                  aria-controls={`run-panel-${t.id}`} tabIndex={tab === t.id ? 0 : -1} onClick={() => select(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`run-panel-${tab}`} aria-labelledby={`run-tab-${tab}`} className="tab-panel">
        {tab === "overview" && (
          <>
            <Overview run={run} metrics={metrics.data?.metrics} />
            <MetadataTable entity={entity} project={project} runId={runId} />
          </>
        )}
        {tab === "charts" && <RunCharts run={run} metrics={metrics.data?.metrics} live={live} />}
        {tab === "system" && <SystemCharts entity={entity} project={project} runId={runId} live={live} />}
        {tab === "media" && <MediaPanels entity={entity} project={project} runId={runId} />}
        {tab === "files" && <Files entity={entity} project={project} runId={runId} live={live} />}
        {tab === "console" && <Console entity={entity} project={project} runId={runId} live={live} />}
        {tab === "events" && <Events entity={entity} project={project} runId={runId} />}
      </div>
    </div>
  );
}
