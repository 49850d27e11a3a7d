// The raw baseline: the least a Node fan-out receiver can do. Parse the JSON
// body, POST it to every target at once over a keep-alive undici Agent, answer
// 200 with one status per target. No validation, no storage, no retries, no
// metrics, no logs: the practical limit of Node on this machine. Requests go
// straight through `agent.dispatch` with a handler that collects the answer,
// the cheapest way undici offers and the way alertmux sends (src/publishers/http.ts),
// so the transport is the same on both sides.
//
// With --sequential it POSTs to the targets one after another instead: the
// reference that parallel fan-out is measured against (what N targets cost
// when each waits for the one before it).
//
// Usage: node bench/raw-receiver.js --listen 127.0.0.1:PORT --targets URL,URL,... [--sequential]
import { once } from 'node:events';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';

const { values } = parseArgs({ options: { listen: { type: 'string' }, targets: { type: 'string' }, sequential: { type: 'boolean' } } });
const targets = (values.targets ?? '').split(',').filter(Boolean);
const [host, port] = (values.listen ?? '127.0.0.1:0').split(':');
// The same Agent settings as alertmux's src/main.ts, so the transport is equal.
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

/** POST `body` to `url`; resolves to the status code, 0 on a transport error. */
function post(url, body) {
  const { origin, pathname, search } = new URL(url);
  return new Promise((resolve) => {
    let status = 0;
    agent.dispatch(
      { origin, path: pathname + search, method: 'POST', headers: { 'content-type': 'application/json' }, body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode;
        },
        onResponseData() {},
        onResponseEnd: () => resolve(status),
        onResponseError: () => resolve(0),
      },
    );
  });
}

/** POST `body` to each target after the previous one answered. */
async function postInTurn(body) {
  const statuses = [];
  for (const url of targets) statuses.push(await post(url, body));
  return statuses;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const body = JSON.stringify(msg);
    const statuses = values.sequential ? await postInTurn(body) : await Promise.all(targets.map((url) => post(url, body)));
    const out = JSON.stringify({ groupKey: msg.groupKey, statuses });
    res.writeHead(statuses.every((s) => s >= 200 && s < 300) ? 200 : 202, { 'content-type': 'application/json' });
    res.end(out);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), host);
await once(server, 'listening');
process.stdout.write(`listening ${server.address().port}\n`);
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void agent.close().then(() => process.exit(0)));
});
