import { hostname } from 'node:os';

/**
 * This process's name in the logs, the metrics and the attempt history: the config's `replica`, else
 * `ALERTMUX_REPLICA`, else the host name (a pod's name in Kubernetes), so that replicas are told apart.
 */
export function replicaName(configured: string | undefined, env: NodeJS.ProcessEnv, host: () => string = hostname): string {
  return configured ?? (env['ALERTMUX_REPLICA'] || host());
}
