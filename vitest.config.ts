import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers and child processes; two cores, so keep parallelism modest.
    pool: 'forks',
    // Instance processes started by tests log at this level (a corpus import warns per broken message).
    env: { COFFER_LOG_LEVEL: process.env.COFFER_LOG_LEVEL ?? 'error' },
    maxWorkers: 2,
  },
});
