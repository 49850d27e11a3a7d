/**
 * Deliveries being attempted or waiting for their turn in a lane, by id and by
 * lane (target and group key). The retry worker must not pick them, and an
 * accept must not supersede them under their feet.
 */
export class BusyDeliveries {
  /** Lane → its busy ids: one id as is (the common case: no Set per delivery), several in a Set. */
  private readonly lanes = new Map<string, string | Set<string>>();
  private readonly laneOf = new Map<string, string>();

  /** The lane key of a target and group key. */
  static lane(target: string, groupKey: string): string {
    return `${target}\u0000${groupKey}`;
  }

  get size(): number {
    return this.laneOf.size;
  }

  has(id: string): boolean {
    return this.laneOf.has(id);
  }

  /** Mark `id` busy in `lane`. Again for the same lane changes nothing (a new delivery is added before its commit and when it starts). */
  add(id: string, lane: string): void {
    this.laneOf.set(id, lane);
    const ids = this.lanes.get(lane);
    if (ids === id) return;
    if (ids === undefined) this.lanes.set(lane, id);
    else if (typeof ids === 'string') this.lanes.set(lane, new Set([ids, id]));
    else ids.add(id);
  }

  delete(id: string): void {
    const lane = this.laneOf.get(id);
    if (lane === undefined) return;
    this.laneOf.delete(id);
    const ids = this.lanes.get(lane);
    if (typeof ids === 'string') {
      if (ids === id) this.lanes.delete(lane);
    } else if (ids) {
      ids.delete(id);
      if (!ids.size) this.lanes.delete(lane);
    }
  }

  /** The busy ids of one lane. */
  inLane(lane: string): readonly string[] {
    const ids = this.lanes.get(lane);
    return ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];
  }
}
