/** How unlikely a run of failures must be, for a target that still succeeds, before it counts as down. */
const BAD_LUCK = 1e-6;

/**
 * Whether a target whose last `run` outcomes all failed is down (dead, hanging, in an outage), rather than
 * flaky and unlucky. `least` is the shortest run that can mean down; `count` and `failures` describe the
 * sliding window, the run included.
 *
 * With no success in the window, `least` failures in a row are down. With successes in it, the run must also be
 * longer than bad luck explains: a target that fails a share r of its requests fails k in a row with
 * probability r^k, so the run must reach ln(1e-6) / ln(r). r is the failure ratio before the run, with one
 * success and one failure added so that a few samples never read as a perfect target: 20 in a row at 50%,
 * 9 after three successes, `least` after many successes. A flaky target stays up however high its ratio; a
 * dead one is down after `least` failures, or at the latest once its last success has left the window.
 */
export function isDown(run: number, least: number, count: number, failures: number): boolean {
  if (run < least) return false;
  if (failures >= count) return true;
  const ratio = (failures - run + 1) / (count - run + 2);
  return run >= Math.log(BAD_LUCK) / Math.log(ratio);
}
