// The settings every chart of a page shares: x-axis, smoothing, log scale.

import { STEP_METRIC_AXIS, type ChartSettings } from "./types";

const SYSTEM_AXES = [
  { value: STEP_METRIC_AXIS, label: "Step metric, else step" },
  { value: "_step", label: "Step" },
  { value: "_runtime", label: "Relative time (runtime)" },
  { value: "_timestamp", label: "Wall time" },
];

export function ChartControls({ settings, onChange, metrics }: {
  settings: ChartSettings;
  onChange: (next: ChartSettings) => void;
  /** Metrics offered as x-axes besides the system ones. */
  metrics: string[];
}) {
  return (
    <div className="chart-controls">
      <label>
        X-axis
        <select value={settings.xAxis} onChange={(e) => onChange({ ...settings, xAxis: e.target.value })}>
          {SYSTEM_AXES.map((a) => <option key={a.value} value={a.value}>{a.label}</option>)}
          {metrics.length > 0 && (
            <optgroup label="Metric">
              {metrics.map((m) => <option key={m} value={m}>{m}</option>)}
            </optgroup>
          )}
        </select>
      </label>
      <label>
        Smoothing
        <input type="range" min={0} max={0.99} step={0.01} value={settings.smoothing}
               onChange={(e) => onChange({ ...settings, smoothing: Number(e.target.value) })} />
        <output>{settings.smoothing.toFixed(2)}</output>
      </label>
      <label>
        <input type="checkbox" checked={settings.logScale}
               onChange={(e) => onChange({ ...settings, logScale: e.target.checked })} />
        Log scale
      </label>
    </div>
  );
}

/** Settings kept in the URL (`?x=&smooth=&log=1`): a shared link shows the same charts. No `x`:
 * each chart's step metric (`define_metric`), else `_step`. */
export function settingsFromParams(params: URLSearchParams): ChartSettings {
  const smoothing = Number(params.get("smooth") ?? 0);
  return {
    xAxis: params.get("x") || STEP_METRIC_AXIS,
    smoothing: Number.isFinite(smoothing) ? Math.min(0.99, Math.max(0, smoothing)) : 0,
    logScale: params.get("log") === "1",
  };
}

export function settingsToParams(settings: ChartSettings, params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(params);
  const set = (key: string, value: string | null) => (value === null ? next.delete(key) : next.set(key, value));
  set("x", settings.xAxis === STEP_METRIC_AXIS ? null : settings.xAxis);
  set("smooth", settings.smoothing > 0 ? String(settings.smoothing) : null);
  set("log", settings.logScale ? "1" : null);
  return next;
}
