import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One lab, two cores and emulated guests: test files run one at a time.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Verifies every FakeRunner after each test (unused stubs fail it).
          setupFiles: ['test/support/setup.ts'],
        },
      },
      {
        test: {
          // The built CLI and real tools without a daemon: libvirt's test driver, virt-xml-validate, virt-install, genisoimage.
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
