import { request, type Dispatcher } from 'undici';
import type { HealthCheckConfig } from '../config/target.js';
import type { HealthMonitor } from './monitor.js';

/** What a probe reads of a target (dispatch's `TargetRuntime` is one): its config and its health monitor. */
export interface ProbedTarget {
  readonly config: { readonly enabled: boolean; readonly health_check?: HealthCheckConfig };
  readonly health: Pick<HealthMonitor, 'recordProbe'>;
}

/** Run one active health check of a target now; the result feeds its monitor. Never throws. */
export async function probeTarget(target: ProbedTarget, http: Dispatcher, userAgent: string): Promise<{ ok: boolean; detail: string }> {
  const check = target.config.health_check;
  if (!check) return { ok: true, detail: 'no health_check configured; health is passive only' };
  const started = performance.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), check.timeout);
  let ok = false;
  let detail: string;
  try {
    const res = await request(check.url, { dispatcher: http, method: check.method, headers: { 'user-agent': userAgent }, signal: controller.signal });
    await res.body.dump();
    ok = check.expect_status.includes(res.statusCode);
    detail = `status ${res.statusCode}`;
  } catch (err) {
    const e = err as { name?: string; code?: string };
    detail = controller.signal.aborted ? 'timed out' : `network error: ${e.code ?? e.name ?? 'unknown'}`;
  } finally {
    clearTimeout(timer);
  }
  target.health.recordProbe(ok, performance.now() - started, detail);
  return { ok, detail };
}

/**
 * Background probes for every target that has a `health_check`: never on the
 * request path; timers are unref'd and all cleared by the returned stop function.
 */
export function startProbes(targets: Iterable<ProbedTarget>, http: Dispatcher, userAgent: string): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const target of targets) {
    const check = target.config.health_check;
    if (!check || !target.config.enabled) continue;
    const timer = setInterval(() => void probeTarget(target, http, userAgent), check.interval);
    timer.unref();
    timers.push(timer);
  }
  return () => timers.forEach((t) => clearInterval(t));
}
