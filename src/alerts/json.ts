/** JSON already made of a message, by the message object: messages are never mutated once built. */
const serialized = new WeakMap<object, string>();

/**
 * `JSON.stringify(msg)`, made once per message object however many targets
 * send it: the dispatcher serialises the group for the ledger, and every
 * webhook target that passes the whole group through reuses that text (a big
 * group to many targets was otherwise stringified once per target).
 */
export function messageJson(msg: object): string {
  let json = serialized.get(msg);
  if (json === undefined) {
    json = JSON.stringify(msg);
    serialized.set(msg, json);
  }
  return json;
}
