// Elements the simulator does not model, evaluated both ways. A trace takes every not-understood
// rule one way (it does not match); this runs it again with each such rule taking the other way
// (it matches and takes effect), depth first over the rules met, so that every combination of
// ways the packet can meet is one "world". Whoever compares the worlds' results knows whether an
// unknown element decides the outcome — and which one — instead of trusting one guess.

/** One combination of ways, and what the packet met and did in it. */
export interface World<T> {
  /** The way taken at each not-understood element met (by key); absent keys were not met. */
  assumed: ReadonlyMap<string, boolean>;
  result: T;
}

export interface Worlds<T> {
  worlds: World<T>[];
  /** More combinations existed than `max`: those were not evaluated. */
  truncated: boolean;
}

/** The default bound on combinations: 6 independent unknown rules on one hop, fully. */
export const MAX_WORLDS = 64;

/**
 * Runs `run` once per combination. `run` gets the assumption for each key (undefined = not
 * decided yet: take the default way, "does not match") and returns its result and the keys it met,
 * in the order met. worlds[0] is the default world (every element taken as not matching).
 */
export function enumerateWorlds<T>(run: (assume: (key: string) => boolean | undefined) => { result: T; met: readonly string[] }, max = MAX_WORLDS): Worlds<T> {
  const worlds: World<T>[] = [];
  const todo: Map<string, boolean>[] = [new Map()];
  let truncated = false;
  while (todo.length) {
    const a = todo.shift()!;
    const { result, met } = run((k) => a.get(k));
    const assumed = new Map(a);
    const fresh: string[] = [];
    for (const k of met) {
      if (assumed.has(k)) continue;
      assumed.set(k, false);
      fresh.push(k);
    }
    worlds.push({ assumed, result });
    // Each fresh element taken the other way, with the ones met before it kept as in this world:
    // every combination is reached exactly once.
    for (let i = 0; i < fresh.length; i++) {
      if (worlds.length + todo.length >= max) {
        truncated = true;
        break;
      }
      const b = new Map(a);
      for (let j = 0; j < i; j++) b.set(fresh[j], false);
      b.set(fresh[i], true);
      todo.push(b);
    }
  }
  return { worlds, truncated };
}

/**
 * The elements that decide: taken as matching in a world whose outcome differs from the default
 * world's. `signature` sums up a world's outcome (equal signatures = same outcome).
 */
export function decidingElements<T>(ws: Worlds<T>, signature: (r: T) => string): string[] {
  const base = signature(ws.worlds[0].result);
  const out = new Set<string>();
  for (const w of ws.worlds.slice(1)) {
    if (signature(w.result) === base) continue;
    for (const [k, v] of w.assumed) if (v) out.add(k);
  }
  return [...out];
}
