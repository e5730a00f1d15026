// The flags that raise (or lower) the engine's limits on one input (src/shared/limits.ts): one
// named flag per limit, the same on every command that reads such input, and named in the error
// of the limit it raises.
import { UsageError } from './command';
import { echoed } from '../shared/display';
import { engineLimitNames, engineLimits, type EngineLimitName, type EngineLimits } from '../shared/limits';

export const limitFlagOptions = Object.fromEntries(engineLimitNames.map((n) => [engineLimits[n].flag.slice(2), { type: 'string' }])) as Record<string, { type: 'string' }>;

const width = Math.max(...engineLimitNames.map((n) => engineLimits[n].flag.length)) + 2;

const short = (n: number) => (n % 2 ** 20 === 0 ? `${n / 2 ** 20}M` : String(n));

/** The `--help` block: every limit, what it bounds, its default. */
export const limitFlagsUsage = engineLimitNames
  .map((n) => `  ${`${engineLimits[n].flag} N`.padEnd(width + 2)}${engineLimits[n].summary} (default ${short(engineLimits[n].default)})`)
  .join('\n');

/** `N`, or `N` with K, M or G (×1024, as the byte-size flags): a positive integer. */
function limitValue(flag: string, text: string): number {
  const m = /^(\d{1,15})([kmg])?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** (m[2] ? 'kmg'.indexOf(m[2].toLowerCase()) + 1 : 0) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer (K, M, G multiply by 1024), not "${echoed(text)}"`);
  return n;
}

/** The limits the flags set (absent = the default). */
export function limitsFromFlags(values: Record<string, unknown>): EngineLimits {
  const out: EngineLimits = {};
  for (const name of engineLimitNames as EngineLimitName[]) {
    const flag = engineLimits[name].flag;
    const v = values[flag.slice(2)];
    if (v !== undefined) out[name] = limitValue(flag, String(v));
  }
  return out;
}
