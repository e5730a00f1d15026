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
 * The elements that decide: those for which two worlds that differ only in that element's way
 * (every other element met in both taken the same way) have different outcomes. `signature`
 * sums up a world's outcome (equal signatures = same outcome).
 */
export function decidingElements<T>(ws: Worlds<T>, signature: (r: T) => string): string[] {
  const sig = ws.worlds.map((w) => signature(w.result));
  const out = new Set<string>();
  ws.worlds.forEach((w1, i) => {
    for (const [k, v] of w1.assumed) {
      if (!v || out.has(k)) continue;
      const twin = ws.worlds.findIndex((w2, j) => {
        if (w2.assumed.get(k) !== false || sig[j] === sig[i]) return false;
        for (const [x, y] of w2.assumed) if (x !== k && w1.assumed.has(x) && w1.assumed.get(x) !== y) return false;
        return true;
      });
      if (twin >= 0) out.add(k);
    }
  });
  return [...ws.worlds[0].assumed.keys(), ...ws.worlds.flatMap((w) => [...w.assumed.keys()])].filter((k, i, a) => out.has(k) && a.indexOf(k) === i);
}
