/** What the fallback check needs of a target. */
export interface FallbackRef {
  readonly name: string;
  readonly fallback?: string;
}

/** One problem with the `fallback` of a target. */
export interface FallbackProblem {
  /** The target whose `fallback` is wrong (for a cycle: each target on it). */
  targets: string[];
  message: string;
}

/**
 * The problems of the targets' `fallback` fields: a name that is not a target, a
 * target naming itself, and cycles of any length (a → b → a, a → b → c → a), each
 * reported once. A cycle would send a dead letter round for ever.
 */
export function fallbackProblemsOf(targets: readonly FallbackRef[]): FallbackProblem[] {
  const byName = new Map(targets.map((t) => [t.name, t]));
  const problems: FallbackProblem[] = [];
  for (const t of targets) {
    if (t.fallback === undefined) continue;
    if (t.fallback === t.name) problems.push({ targets: [t.name], message: `target "${t.name}": fallback names the target itself` });
    else if (!byName.has(t.fallback)) problems.push({ targets: [t.name], message: `target "${t.name}": fallback "${t.fallback}" is not a configured target` });
  }
  // Each chain is followed once; a cycle is reported from the first of its targets in config order.
  const done = new Set<string>();
  for (const start of targets) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let at: FallbackRef | undefined = start;
    while (at && !done.has(at.name) && !onPath.has(at.name)) {
      onPath.set(at.name, path.length);
      path.push(at.name);
      at = at.fallback === undefined || at.fallback === at.name ? undefined : byName.get(at.fallback);
    }
    if (at && onPath.has(at.name)) {
      const cycle = path.slice(onPath.get(at.name));
      if (cycle.length > 1) {
        const shown = [...cycle, cycle[0]].map((n) => `"${n}"`).join(' → ');
        problems.push({ targets: cycle, message: `targets ${shown}: fallback cycle (each names the next as its fallback)` });
      }
    }
    for (const name of path) done.add(name);
  }
  return problems;
}

/** The problems of the targets' `fallback` fields, one line each, naming the target(s). */
export function checkFallbacks(targets: readonly FallbackRef[]): string[] {
  return fallbackProblemsOf(targets).map((p) => p.message);
}
