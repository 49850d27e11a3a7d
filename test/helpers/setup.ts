// Mocha root hooks. Tests never reach the network: publishers get an undici
// MockAgent or point at loopback servers that the tests start themselves.
import { takeCoverage } from 'node:v8';

export const mochaHooks = {
  // npm test runs files in parallel worker processes, which the pool kills 1 s after asking them to stop: a worker
  // still writing its coverage at exit then loses it (c8 saw 86% instead of 97%). Each worker writes what its file
  // covered once the file is done (c8 merges the pieces).
  afterAll(): void {
    if (process.env['NODE_V8_COVERAGE']) takeCoverage();
  },
};
