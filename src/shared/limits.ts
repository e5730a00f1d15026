// The limits on what one input may make netpath build, by one name everywhere. They keep a hostile
// or broken snapshot, dump or manifest from costing unbounded time and memory; a user with a large
// honest input raises them. Each error names the limit, the CLI flag and the VS Code setting that
// raise it, so the message is the documentation. (The byte caps on what a live cluster sends are
// src/cluster/limits.ts.) Pure: the engine builds these messages.

/** Limits of reading a snapshot, a dump or a manifest, and of parsing a dump's ipsets. */
export interface EngineLimits {
  /** Longest snapshot text accepted, in characters. */
  maxSnapshotChars?: number;
  /** Most problems collected and reported for one document; the rest is "… and more". */
  maxSnapshotProblems?: number;
  /** Deepest nesting of objects and arrays in a JSON or YAML document. */
  maxJsonDepth?: number;
  /** Most ipset elements (ranges and CIDRs expanded) across all sets of one `ipset save`. */
  ipsetElementBudget?: number;
}

export type EngineLimitName = keyof EngineLimits;

export interface LimitSpec {
  /** The CLI flag (every command that reads such input takes it). */
  flag: string;
  /** The VS Code setting (application scope: a workspace cannot raise it). */
  setting: string;
  default: number;
  /** What it bounds, for `--help`, the README and the setting's description. */
  summary: string;
}

export const engineLimits: Record<EngineLimitName, LimitSpec> = {
  maxSnapshotChars: {
    flag: '--max-snapshot-chars',
    setting: 'netpath.limits.maxSnapshotChars',
    default: 256 * 2 ** 20,
    summary: 'longest snapshot read whole (version 1), in characters',
  },
  maxSnapshotProblems: {
    flag: '--max-snapshot-problems',
    setting: 'netpath.limits.maxSnapshotProblems',
    default: 100,
    summary: 'most problems listed for an invalid snapshot or dump',
  },
  maxJsonDepth: {
    flag: '--max-json-depth',
    setting: 'netpath.limits.maxJsonDepth',
    default: 200,
    summary: 'deepest nesting of a snapshot, dump or YAML manifest',
  },
  ipsetElementBudget: {
    flag: '--ipset-element-budget',
    setting: 'netpath.limits.ipsetElementBudget',
    default: 500_000,
    summary: 'most ipset elements (CIDRs and ranges expanded) in one netns',
  },
};

export const engineLimitNames = Object.keys(engineLimits) as EngineLimitName[];

/**
 * Every limit a request to the server (VS Code's `netpath.limits.*` settings) may set: the engine's,
 * and the byte caps on what a live cluster sends (src/cluster/limits.ts, same names and flags).
 */
export interface RequestLimits extends EngineLimits {
  maxResponseBytes?: number;
  maxDumpBytes?: number;
}

export const requestLimitNames: (keyof RequestLimits)[] = [...engineLimitNames, 'maxResponseBytes', 'maxDumpBytes'];

/** Each limit's default (src/cluster/limits.ts says why the byte caps are what they are). */
export const limitDefaults: Required<RequestLimits> = {
  ...(Object.fromEntries(engineLimitNames.map((n) => [n, engineLimits[n].default])) as Required<EngineLimits>),
  maxResponseBytes: 64 * 2 ** 20,
  maxDumpBytes: 256 * 2 ** 20,
};

/** `the limit maxJsonDepth = 200 (raise it with --max-json-depth N, in VS Code the setting netpath.limits.maxJsonDepth)`. */
export function limitNamed(name: EngineLimitName, value: number | string): string {
  const s = engineLimits[name];
  return `the limit ${name} = ${value} (raise it with ${s.flag} N, in VS Code the setting ${s.setting})`;
}

/** The value of each limit: the caller's, else the default. */
export function withDefaults(limits: EngineLimits = {}): Required<EngineLimits> {
  const out = {} as Required<EngineLimits>;
  for (const name of engineLimitNames) out[name] = limits[name] ?? engineLimits[name].default;
  return out;
}

/**
 * A limit value given from outside (a flag, a setting, a request): a positive integer, else the
 * reason it is not. Integers up to 2^53 are accepted: raising a limit far is the user's choice.
 */
export function limitValueProblem(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? undefined : 'a positive integer';
}
