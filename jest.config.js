/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault suite (kills processes, restarts its own Redis) runs on its own: npm run test:faults.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 120000,
  // Tests share the machine's Redis and PostgreSQL, each under its own prefix, schema and data
  // directory, so two suites run side by side (one per core): the whole run took ~48 min on one.
  maxWorkers: 2,
  // A handle a test forgot must not hold CI until its time limit; the warning still shows it.
  forceExit: true,
  // Bull Board's @fastify/static requires an ES-module-only release that Jest cannot require (see the helper).
  moduleNameMapper: { '^content-disposition$': '<rootDir>/test/helpers/content-disposition.cjs' },
};
