// Mocha root hooks. Tests never reach the network: publishers get an undici
// MockAgent or point at loopback servers that the tests start themselves.
export const mochaHooks = {};
