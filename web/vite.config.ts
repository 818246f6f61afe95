/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands inside the Python package, so the server (and its wheel) serve it.
export default defineConfig({
  plugins: [react()],
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
