import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that start tshark once per interface, or a real kernel's tools, took 55-70 s at load 15 on this 2-core
    // machine (session 46: four timed out at 60 s beside other work); alone they take seconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
