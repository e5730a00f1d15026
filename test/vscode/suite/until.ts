// Waiting in the suites for what VS Code does a moment later (a tab opens, diagnostics arrive, a
// picker shows its items): one polling helper for every suite.

/** Polls `get` every 50 ms until it gives a value (not undefined, false or another falsy one); fails naming `what` after `ms`. */
export async function until<T>(what: string, get: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
