// Test tiers: unit (pure functions, wiring under mocks), policies, integration (real CLI and servers).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // `npm run test:coverage` (CI of every merge): line coverage of what a release runs, the program
    // (index.ts, components/) and the policy pack (policies/), by the unit and policy tests, as
    // istanbul's json-summary in coverage/coverage-summary.json, which the Deploy workflow downloads
    // from that CI run and `npm run evidence` records (gates-coverage). The operator scripts
    // (scripts/) run as child processes in the integration tests, where v8 cannot see them: they
    // are not part of the figure.
    coverage: {
      provider: "v8",
      include: ["index.ts", "components/**/*.ts", "policies/**/*.ts"],
      exclude: ["test/**", "**/*.d.ts"],
      reporter: ["json-summary", "text-summary"],
      reportsDirectory: "coverage",
    },
    projects: [
      // A few unit tests spawn a script through ts-node or run a program under mocks: seconds each, more on a busy machine.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node", testTimeout: 30_000 } },
      { test: { name: "policies", include: ["test/policies/**/*.test.ts"], environment: "node" } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          // Each file drives the real CLI against real servers; they share the local servers.
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 15 * 60_000,
        },
      },
    ],
  },
});
