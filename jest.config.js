// ts-jest in ESM mode: sources are ESM TypeScript with ".js" import specifiers.
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The conformance suite drives a whole cluster of its own: `npm run conformance` (jest.conformance.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/conformance/'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
  testTimeout: 60000,
};
