// The conformance suite (test/conformance/, `npm run conformance`): one test per upstream
// codename against one cluster, started by global-setup unless CONFORMANCE_KUBECONFIG names one.
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/test/conformance'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/conformance/global-setup.mjs',
  globalTeardown: '<rootDir>/test/conformance/global-teardown.mjs',
  testTimeout: 300000,
};
