import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router-dom";

// Charts (uPlot) and the run page load on demand: the runs table's bundle stays small.
const Workspace = lazy(() => import("./pages/Workspace"));
const RunPage = lazy(() => import("./pages/RunPage"));

export function App() {
  return (
    <Suspense fallback={<p className="loading">Loading…</p>}>
      <Routes>
        <Route path="/login" element={<p>Login</p>} />
        <Route path="/settings" element={<p>Settings</p>} />
        <Route path="/:entity/:project/workspace" element={<Workspace />} />
        <Route path="/:entity/:project/runs/:runId" element={<RunPage />} />
        <Route path="/:entity/:project" element={<p>Runs</p>} />
        <Route path="/:entity" element={<p>Projects</p>} />
        <Route path="/" element={<p>Home</p>} />
      </Routes>
    </Suspense>
  );
}
