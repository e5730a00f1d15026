// Kubernetes label selectors (`matchLabels` + `matchExpressions`) and an index that answers
// "which items does this selector select" without scanning every item: label key → value →
// items, so a selector with an equality/In/Exists requirement only looks at the items that can
// match it. Semantics as in apimachinery: requirements are ANDed, an empty selector selects
// everything, NotIn/DoesNotExist also match items without the key.
import type { Labels } from './objects';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  /** Sorted; empty for Exists/DoesNotExist. */
  values: string[];
}

export interface Selector {
  requirements: Requirement[];
  /** kubectl-style text: `app=web,tier in (a,b),!legacy`; `<all>` for the empty selector. */
  text: string;
}

/** A selector that the API server would have rejected; the message names the bad part. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

const operators = new Set<SelectorOperator>(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Compiles a `metav1.LabelSelector`; throws SelectorError on malformed input. */
export function compileSelector(raw: unknown): Selector {
  if (raw === null || raw === undefined) return { requirements: [], text: '<all>' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SelectorError(`selector is not a mapping: ${JSON.stringify(raw)}`);
  const r = raw as Record<string, unknown>;
  const reqs: Requirement[] = [];
  if (r.matchLabels !== undefined && r.matchLabels !== null) {
    if (typeof r.matchLabels !== 'object' || Array.isArray(r.matchLabels)) throw new SelectorError('matchLabels is not a mapping');
    for (const [key, value] of Object.entries(r.matchLabels as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new SelectorError(`matchLabels.${key} is not a string`);
      reqs.push({ key, operator: 'In', values: [value] });
    }
  }
  if (r.matchExpressions !== undefined && r.matchExpressions !== null) {
    if (!Array.isArray(r.matchExpressions)) throw new SelectorError('matchExpressions is not a list');
    r.matchExpressions.forEach((e, i) => {
      const x = (e ?? {}) as Record<string, unknown>;
      const at = `matchExpressions[${i}]`;
      if (typeof x.key !== 'string' || x.key === '') throw new SelectorError(`${at}.key is missing`);
      if (!operators.has(x.operator as SelectorOperator)) throw new SelectorError(`${at}.operator ${JSON.stringify(x.operator)} is not In, NotIn, Exists or DoesNotExist`);
      const op = x.operator as SelectorOperator;
      const values = x.values === undefined || x.values === null ? [] : x.values;
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new SelectorError(`${at}.values is not a list of strings`);
      if ((op === 'In' || op === 'NotIn') && values.length === 0) throw new SelectorError(`${at}: operator ${op} needs values`);
      if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) throw new SelectorError(`${at}: operator ${op} takes no values`);
      reqs.push({ key: x.key, operator: op, values: [...new Set(values as string[])].sort() });
    });
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements: reqs, text: reqs.length ? reqs.map(formatRequirement).join(',') : '<all>' };
}

/** A selector from a plain label map (Service `spec.selector`). */
export function selectorFromLabels(labels: Labels): Selector {
  return compileSelector({ matchLabels: labels });
}

function formatRequirement(r: Requirement): string {
  switch (r.operator) {
    case 'In':
      return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
    case 'NotIn':
      return `${r.key} notin (${r.values.join(',')})`;
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
  }
}

export function requirementMatches(r: Requirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.includes(labels[r.key]);
    case 'NotIn':
      return !has || !r.values.includes(labels[r.key]);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function matches(s: Selector, labels: Labels): boolean {
  for (const r of s.requirements) if (!requirementMatches(r, labels)) return false;
  return true;
}

/** The first requirement the labels fail, as text (for "why didn't it match" explanations). */
export function firstMismatch(s: Selector, labels: Labels): string | undefined {
  for (const r of s.requirements) if (!requirementMatches(r, labels)) return formatRequirement(r);
  return undefined;
}

/**
 * Items indexed by their labels. `select` narrows the candidates with the most selective
 * In/Exists requirement, then checks the whole selector on those only; selectors made only of
 * NotIn/DoesNotExist (or empty) can select nearly everything and so scan the items once.
 * Results keep the insertion order (deterministic).
 */
export class LabelIndex<T> {
  private readonly items: T[] = [];
  private readonly labels: Labels[] = [];
  private readonly byKeyValue = new Map<string, Map<string, number[]>>();
  private readonly byKey = new Map<string, number[]>();

  add(item: T, labels: Labels): void {
    const i = this.items.length;
    this.items.push(item);
    this.labels.push(labels);
    for (const [k, v] of Object.entries(labels)) {
      let values = this.byKeyValue.get(k);
      if (!values) this.byKeyValue.set(k, (values = new Map()));
      let list = values.get(v);
      if (!list) values.set(v, (list = []));
      list.push(i);
      let keyed = this.byKey.get(k);
      if (!keyed) this.byKey.set(k, (keyed = []));
      keyed.push(i);
    }
  }

  get size(): number {
    return this.items.length;
  }

  select(s: Selector): T[] {
    let best: number[] | undefined;
    for (const r of s.requirements) {
      let cand: number[] | undefined;
      if (r.operator === 'In') {
        const values = this.byKeyValue.get(r.key);
        if (r.values.length === 1) cand = values?.get(r.values[0]) ?? [];
        else {
          const merged: number[] = [];
          for (const v of r.values) merged.push(...(values?.get(v) ?? []));
          cand = merged.sort((a, b) => a - b);
        }
      } else if (r.operator === 'Exists') cand = this.byKey.get(r.key) ?? [];
      if (cand && (!best || cand.length < best.length)) best = cand;
      if (best && best.length === 0) return [];
    }
    const out: T[] = [];
    if (best) {
      for (const i of best) if (matches(s, this.labels[i])) out.push(this.items[i]);
    } else {
      for (let i = 0; i < this.items.length; i++) if (matches(s, this.labels[i])) out.push(this.items[i]);
    }
    return out;
  }
}
