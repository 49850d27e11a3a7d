// Loopback mock targets for the benchmark: N node:http servers on 127.0.0.1,
// each on its own port (its own origin, so its own keep-alive pool, as real
// vendors are), answering 200 after a fixed delay.
//
// Run as a child process: `node bench/targets.js <count> <delayMs>`; prints one
// JSON line `{"urls": [...]}` once every server listens, answers the IPC
// message 'count' with `{received, connections}`, exits on SIGTERM.
import { once } from 'node:events';
import { createServer } from 'node:http';

/** Start `count` servers answering 200 after `delayMs`; resolves to their URLs and a close function. */
export async function startTargets(count, delayMs) {
  const servers = [];
  let received = 0;
  let connections = 0;
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        const answer = () => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
          res.end('ok');
        };
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
    server.on('connection', () => connections++);
    server.keepAliveTimeout = 120_000;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
  }
  return {
    urls: servers.map((s, i) => `http://127.0.0.1:${s.address().port}/hook/t${i + 1}`),
    received: () => received,
    connections: () => connections,
    close: () => Promise.all(servers.map((s) => (s.closeAllConnections(), new Promise((r) => s.close(r))))),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const [count = '1', delay = '0'] = process.argv.slice(2);
  const targets = await startTargets(Number(count), Number(delay));
  process.stdout.write(`${JSON.stringify({ urls: targets.urls })}\n`);
  // Over IPC (when the runner spawned us with one): answer how many requests arrived so far.
  process.on('message', (m) => {
    if (m === 'count') process.send?.({ received: targets.received(), connections: targets.connections() });
  });
  process.on('SIGTERM', () => {
    if (!process.send) process.stderr.write(`targets received ${targets.received()} requests\n`);
    void targets.close().then(() => process.exit(0));
  });
}
