// How deeply a parsed JSON or YAML value nests, checked without recursion (the depth is what is
// in question), and the path to the first value too deep, for the message.
import { echoed } from '../../shared/display';

/** The path of a value nested deeper than `limit`, or undefined. Iterative: depth is what it checks. */
export function jsonDepthOver(root: unknown, limit: number): string | undefined {
  // Fast pass without paths (this runs on every snapshot part, most of it before the JIT has
  // optimized anything: plain loops, no closure call per value); the path only once one is too deep.
  if (root === null || typeof root !== 'object') return undefined;
  const values: object[] = [root];
  const depths: number[] = [0];
  let deep: object | undefined;
  while (values.length) {
    const v = values.pop()!;
    const depth = depths.pop()!;
    if (depth >= limit) {
      deep = v;
      break;
    }
    // (Object.values, not for…in: native, where a cold for…in steps through each key in bytecode.)
    const xs: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (x !== null && typeof x === 'object') {
        values.push(x);
        depths.push(depth + 1);
      }
    }
  }
  return deep === undefined ? undefined : pathTo(root, deep, limit);
}

/** The path from `root` to `target` (found within `limit` levels). */
function pathTo(root: unknown, target: object, limit: number): string {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: root, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === target) return echoed(path.replace(/^\./, ''), 120) || '(root)'; // 200 levels of `[0]` say no more than 120 characters
    if (v === null || typeof v !== 'object' || depth >= limit) continue;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, path: path + segment(k, false) });
  }
  return '(root)';
}

/** One step of a path: `.key`, `["odd key"]` or `[index]`. */
export function segment(key: string, inArray: boolean): string {
  if (inArray) return `[${key}]`;
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
