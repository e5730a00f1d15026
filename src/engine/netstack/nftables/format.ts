// A rule as `nft list ruleset` prints it, rebuilt from its JSON: the evidence a user can find in
// their own `nft -a list ruleset` output (with table, chain and handle). Names from the dump (sets,
// chains, interfaces, log prefixes, comments) are quoted as nft quotes them, never spliced raw.
import { constant, icmpField, NotModelled, type FieldType } from './expr';
import { isObj, type Json, type NftRule, type NftChain } from './model';

const quote = (s: string) => JSON.stringify(s);
/** nft prints identifiers bare when they are plain; anything else is quoted. */
const ident = (s: string) => (/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(s) ? s : quote(s));

function value(v: Json): string {
  if (v === null) return '';
  if (typeof v === 'string') return v.startsWith('@') ? `@${ident(v.slice(1))}` : /^[A-Za-z0-9_.:/-]+$/.test(v) ? v : quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(value).join(', ');
  const [k] = Object.keys(v);
  const a = v[k];
  switch (k) {
    case 'payload':
      return isObj(a) ? (a.protocol !== undefined ? `${a.protocol} ${a.field}` : `@${a.base},${a.offset},${a.len}`) : '?';
    case 'meta': {
      // nft prints these meta keys bare.
      const key = isObj(a) ? String(a.key) : '';
      return ['iifname', 'oifname', 'iif', 'oif'].includes(key) ? key : `meta ${key}`;
    }
    case 'ct':
      return isObj(a) ? `ct ${a.dir ? `${a.dir} ` : ''}${a.key}` : '?';
    case 'fib': {
      const flags = isObj(a) ? (Array.isArray(a.flags) ? a.flags.map(String) : [String(a.flags)]) : [];
      return isObj(a) ? `fib ${flags.join(' . ')} ${a.result}` : '?';
    }
    case 'numgen':
      return isObj(a) ? `numgen ${a.mode} mod ${a.mod}${a.offset ? ` offset ${a.offset}` : ''}` : '?';
    case 'prefix':
      return isObj(a) ? `${value(a.addr)}/${a.len}` : '?';
    case 'range':
      return Array.isArray(a) ? `${value(a[0])}-${value(a[1])}` : '?';
    case 'concat':
      return Array.isArray(a) ? a.map(value).join(' . ') : '?';
    case 'set':
      return Array.isArray(a) ? `{ ${a.map((e) => (Array.isArray(e) && e.length === 2 ? `${value(e[0])} : ${value(e[1])}` : value(e))).join(', ')} }` : value(a);
    case 'map':
      return isObj(a) ? `${value(a.key)} map ${value(a.data)}` : '?';
    case 'elem':
      return isObj(a) ? value(a.val) : '?';
    case '&': case '|': case '^': case '<<': case '>>':
      return Array.isArray(a) ? `${value(a[0])} ${k} ${Array.isArray(a[1]) ? `(${a[1].map(value).join(' | ')})` : typed(a[0], a[1])}` : '?';
    case 'jump': case 'goto':
      return isObj(a) ? `${k} ${ident(String(a.target))}` : k;
    case 'accept': case 'drop': case 'return': case 'continue':
      return k;
    default:
      return JSON.stringify(v);
  }
}

const isBinop = (v: Json) => isObj(v) && ['&', '|', '^', '<<', '>>'].some((k) => k in v);
const keyOf = (v: Json): string => (isObj(v) && isObj(v.meta) ? String(v.meta.key) : isObj(v) && isObj(v.ct) ? `ct ${v.ct.key}` : isObj(v) && isBinop(v) ? keyOf(Object.values(v)[0] instanceof Array ? (Object.values(v)[0] as Json[])[0] : null) : '');

/** A constant as nft prints it next to `left`: interface names quoted, marks in hex, flag lists comma-joined. */
function typed(left: Json, right: Json): string {
  const key = keyOf(left);
  if ((key === 'iifname' || key === 'oifname') && typeof right === 'string') return quote(right);
  if ((key === 'mark' || key === 'ct mark') && typeof right === 'number') return `0x${(right >>> 0).toString(16).padStart(8, '0')}`;
  if (Array.isArray(right)) return right.map(value).join(',');
  // fib's `exists` / `missing`, which JSON writes as true / false.
  if (typeof right === 'boolean') return right ? 'exists' : 'missing';
  return value(right);
}

/**
 * nft prints a range of ICMP types or codes by number (`icmp type 3-5`, `{ no-route, 3-4 }`), though
 * its JSON names the ends: the right side with such ranges made numbers, position by position.
 */
function icmpRanges(left: Json, right: Json): Json {
  const fields = (isObj(left) && Array.isArray(left.concat) ? left.concat : [left]).map(icmpField);
  if (!fields.some(Boolean)) return right;
  const num = (x: Json, t: FieldType): Json => {
    try {
      return constant(x, t) as number;
    } catch (e) {
      if (e instanceof NotModelled) return x;
      throw e;
    }
  };
  const one = (v: Json, t: FieldType | undefined): Json => (t && isObj(v) && Array.isArray(v.range) ? { range: v.range.map((x) => num(x, t)) } : v);
  const el = (e: Json): Json => {
    if (isObj(e) && isObj(e.elem)) return { elem: { ...e.elem, val: el(e.elem.val ?? null) } };
    if (fields.length > 1 && isObj(e) && Array.isArray(e.concat)) return { concat: e.concat.map((x, i) => one(x, fields[i])) };
    return one(e, fields[0]);
  };
  return isObj(right) && Array.isArray(right.set) ? { set: right.set.map(el) } : el(right);
}

function statement(e: Json): string {
  if (!isObj(e)) return JSON.stringify(e);
  const [k] = Object.keys(e);
  const a = e[k];
  const o = isObj(a) ? a : {};
  switch (k) {
    case 'match': {
      // nft leaves out `==` (and the implicit `in` of flags) except after a bit operation.
      const op = (o.op === '==' && !isBinop(o.left ?? null)) || o.op === 'in' ? '' : `${o.op} `;
      return `${value(o.left)} ${op}${typed(o.left ?? null, icmpRanges(o.left ?? null, o.right ?? null))}`;
    }
    case 'counter':
      return 'counter';
    case 'accept': case 'drop': case 'return': case 'continue': case 'jump': case 'goto':
      return value(e);
    case 'vmap':
      return `${value(o.key)} vmap ${value(o.data)}`;
    case 'reject':
      return o.type === 'tcp reset' ? 'reject with tcp reset' : o.expr !== undefined ? `reject with ${o.type} ${value(o.expr)}` : 'reject';
    case 'dnat': case 'snat': {
      const fam = typeof o.family === 'string' ? `${o.family} ` : '';
      const addr = o.addr !== undefined ? value(o.addr) : '';
      const port = o.port !== undefined ? `:${value(o.port)}` : '';
      const flags = Array.isArray(o.flags) ? ` ${o.flags.map(value).join(',')}` : typeof o.flags === 'string' ? ` ${o.flags}` : '';
      return `${k} ${fam}to ${addr}${port}${flags}`;
    }
    case 'masquerade': case 'redirect': {
      const port = o.port !== undefined ? ` to :${value(o.port)}` : '';
      const flags = Array.isArray(o.flags) ? ` ${o.flags.map(value).join(',')}` : typeof o.flags === 'string' ? ` ${o.flags}` : '';
      return `${k}${port}${flags}`;
    }
    case 'mangle':
      return `${value(o.key)} set ${typed(o.key ?? null, o.value ?? null)}`;
    case 'log':
      return `log${o.prefix !== undefined ? ` prefix ${quote(String(o.prefix))}` : ''}`;
    case 'limit':
      return `limit rate ${o.inv ? 'over ' : ''}${o.rate}${o.rate_unit && o.rate_unit !== 'packets' ? ` ${o.rate_unit}` : ''}/${o.per}${o.burst ? ` burst ${o.burst} packets` : ''}`;
    default:
      // Not modelled: its name alone when it has no arguments, else its JSON (shown, never dropped).
      return a === null ? k : JSON.stringify(e);
  }
}

/** The rule's statements as nft prints them (without location). */
export function formatRuleBody(r: NftRule): string {
  const body = r.expr.map(statement).join(' ');
  return r.comment !== undefined ? `${body} comment ${quote(r.comment)}` : body;
}

/** `table inet fw chain fwd handle 5: iifname "r0" udp dport 7 accept` */
export function formatRule(r: NftRule): string {
  return `table ${r.family} ${ident(r.table)} chain ${ident(r.chain)} handle ${r.handle}: ${formatRuleBody(r)}`;
}

/** Where a rule is: `table inet fw chain fwd handle 5`. */
export function ruleWhere(r: NftRule): string {
  return `table ${r.family} ${ident(r.table)} chain ${ident(r.chain)} handle ${r.handle}`;
}

/** A base chain's header: `table inet fw chain fwd { type filter hook forward priority 0; policy drop; }`. */
export function formatChain(c: NftChain): string {
  const b = c.base;
  const head = b ? ` { type ${b.type} hook ${b.hook}${b.devices.length ? ` devices = { ${b.devices.map(quote).join(', ')} }` : ''} priority ${b.prio}; policy ${b.policy}; }` : '';
  return `table ${c.family} ${ident(c.table)} chain ${ident(c.name)}${head}`;
}
