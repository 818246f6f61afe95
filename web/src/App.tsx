import { lazy, Suspense, useEffect } from "react";
import { Route, Routes, useLocation } from "react-router-dom";
import { Layout } from "./components/Layout";
import { SessionGate } from "./components/SessionGate";
import Home from "./pages/Home";
import Login from "./pages/Login";
import Projects from "./pages/Projects";
import Runs from "./pages/Runs";
import { routeChanged } from "./perf";

// Charts (uPlot), the run page and settings load on demand: the runs table's bundle stays small.
const loadWorkspace = () => import("./pages/Workspace");
const loadRunPage = () => import("./pages/RunPage");
// The page a URL opens on starts loading with the app, not after the session check answers.
const opening = window.location.pathname;
if (/^\/[^/]+\/[^/]+\/runs\/[^/]+\/?$/.test(opening)) void loadRunPage();
else if (/^\/[^/]+\/[^/]+\/workspace\/?$/.test(opening)) void loadWorkspace();
const Workspace = lazy(loadWorkspace);
const RunPage = lazy(loadRunPage);
const Settings = lazy(() => import("./pages/Settings"));
const Sweeps = lazy(() => import("./pages/Sweeps"));
const Sweep = lazy(() => import("./pages/Sweep"));
const ArtifactCollections = lazy(() => import("./pages/Artifacts").then((m) => ({ default: m.ArtifactCollections })));
const ArtifactVersions = lazy(() => import("./pages/Artifacts").then((m) => ({ default: m.ArtifactVersions })));

function RouteTimer() {
  const location = useLocation();
  useEffect(routeChanged, [location.pathname]);
  return null;
}

export function App() {
  return (
    <Suspense fallback={<p className="loading">Loading…</p>}>
      <RouteTimer />
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route
          element={
            <SessionGate>
              <Layout />
            </SessionGate>
          }
        >
          <Route path="/" element={<Home />} />
          <Route path="/settings" element={<Settings />} />
          <Route path="/:entity" element={<Projects />} />
          <Route path="/:entity/:project" element={<Runs />} />
          <Route path="/:entity/:project/workspace" element={<Workspace />} />
          <Route path="/:entity/:project/runs/:runId" element={<RunPage />} />
          <Route path="/:entity/:project/sweeps" element={<Sweeps />} />
          <Route path="/:entity/:project/sweeps/:sweepId" element={<Sweep />} />
          <Route path="/:entity/:project/artifacts" element={<ArtifactCollections />} />
          <Route path="/:entity/:project/artifacts/:name" element={<ArtifactVersions />} />
          <Route path="*" element={<p className="empty">No page here.</p>} />
        </Route>
      </Routes>
    </Suspense>
  );
}
