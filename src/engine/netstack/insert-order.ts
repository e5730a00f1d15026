// The final order of a list built by inserts at positions (`iptables -I CHAIN n`, or an append),
// computed in O(n log n) instead of splicing each item in (O(n²): 100k `-I` rules took 11 s).

/**
 * Items inserted one by one, item k at 0-based position `pos[k]` among the k items inserted before
 * it (0 ≤ pos[k] ≤ k; pos[k] = k appends). Returns the resulting list. Read backwards: the last
 * item sits at its position in the final list; without it, the one before sits at its position
 * among the remaining slots, and so on — so item k takes the (pos[k]+1)-th still-free slot, found
 * by descending a Fenwick tree of free-slot counts.
 */
export function placeInserts<T>(items: readonly T[], pos: readonly number[]): T[] {
  const n = items.length;
  let appendsOnly = true;
  for (let k = 0; k < n; k++) {
    if (pos[k] < 0 || pos[k] > k || !Number.isInteger(pos[k])) throw new RangeError(`insert position ${pos[k]} of item ${k} is out of range`);
    if (pos[k] !== k) appendsOnly = false;
  }
  if (appendsOnly) return items.slice();
  // tree[i] (1-based) counts the free slots in (i - lowbit(i), i]; every slot starts free.
  const tree = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    tree[i] += 1;
    const parent = i + (i & -i);
    if (parent <= n) tree[parent] += tree[i];
  }
  let top = 1;
  while (top * 2 <= n) top *= 2;
  const out = new Array<T>(n);
  for (let k = n - 1; k >= 0; k--) {
    // The (pos[k]+1)-th free slot: the largest prefix holding ≤ pos[k] free slots, plus one.
    let at = 0;
    let rest = pos[k];
    for (let step = top; step > 0; step >>= 1) {
      const next = at + step;
      if (next <= n && tree[next] <= rest) {
        at = next;
        rest -= tree[next];
      }
    }
    out[at] = items[k];
    for (let i = at + 1; i <= n; i += i & -i) tree[i] -= 1;
  }
  return out;
}
