// test/global-setup — vitest globalSetup: compile once (npm run build) before any test file runs, so
// tests that spawn `node dist/src/cli/main.js` or read dist/ see the current sources.
// Register in vitest.config.ts: test: { globalSetup: ['test/global-setup.ts'], ... }
import { ensureBuilt } from './scenario/dist.js';

export default function setup(): void {
  ensureBuilt();
}
