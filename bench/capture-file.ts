// The file `snapshot capture --format-version 2` would write for the bench's target cluster: its
// objects and dumps (read from the generated version 1 file) through the capture's own writer,
// `buildSnapshot` of src/cluster/live.ts — the settings detected, not copied, as a capture does,
// and the text it writes checked by loading it, as a capture does. What a capture adds on top (the
// API lists, the collector pods) is I/O that does not change the file.
// Prints one line `RESULT {json}`. Usage: tsx bench/capture-file.ts GENERATED_V1 OUT
import { readFileSync, writeFileSync } from 'node:fs';
import { buildSnapshot } from '../src/cluster/live';
import { loadSnapshot } from '../src/engine/snapshot/load';

const [input, out] = process.argv.slice(2);
const generated = loadSnapshot(readFileSync(input, 'utf8'));
const t = performance.now();
const { text, snapshot } = buildSnapshot(generated.objects, generated.dumps, generated.capturedAt, {}, 2);
const ms = performance.now() - t;
writeFileSync(out, text);
console.log(`RESULT ${JSON.stringify({ bytes: Buffer.byteLength(text), version: snapshot.version, writeMs: Math.round(ms), settings: snapshot.settings })}`);
