/// <reference types="vitest/config" />
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";

// Swagger UI's files (npm `swagger-ui-dist`) next to the app's, in `<outDir>/swagger-ui/`: the
// server's /docs serves them itself (server/docs.py), so the API docs load without internet.
function swaggerUi(): Plugin {
  let outDir = "";
  return {
    name: "trackwell-swagger-ui",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const from: string = createRequire(import.meta.url)("swagger-ui-dist").getAbsoluteFSPath();
      const to = join(outDir, "swagger-ui");
      mkdirSync(to, { recursive: true });
      for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
        copyFileSync(join(from, name), join(to, name));
      }
    },
  };
}

// The build lands inside the Python package, so the server (and its wheel) serve it.
export default defineConfig({
  plugins: [react(), swaggerUi()],
  base: "/",
  build: {
    outDir: "../src/trackwell/server/ui/dist",
    emptyOutDir: true,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` against a local `trackwell server` on its default port
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
