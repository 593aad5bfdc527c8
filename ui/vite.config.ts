import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package so the worker serves it and a wheel carries it.
const outDir = fileURLToPath(new URL("../padit_stream/ui_dist", import.meta.url));

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the console works behind a proxy that mounts the worker under a prefix.
  base: "./",
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 600 },
  server: {
    // `npm run dev` against a local worker (make run) without CORS.
    proxy: { "/api": "http://127.0.0.1:6066" },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
