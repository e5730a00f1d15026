// Prints, as a CommonJS module, ajv's standalone code of every snapshot schema (validatedSchemas in
// src/engine/snapshot/schema.ts), compiled with load.ts's own ajv options: scripts/build.mjs puts it
// in the bundles in place of src/engine/snapshot/precompiled.ts. The formats are required from
// ./formats (resolved next to precompiled.ts), so their code is the engine's, not a copy.
import { _ } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { snapshotAjv } from '../src/engine/snapshot/load';
import { validatedSchemas } from '../src/engine/snapshot/schema';

const ajv = snapshotAjv({ source: true, formats: _`require("./formats").snapshotFormats` });
const refs: Record<string, string> = {};
for (const [name, schema] of Object.entries(validatedSchemas)) {
  ajv.addSchema(schema, name);
  refs[name] = name;
}
process.stdout.write(`${standaloneCode(ajv, refs)}\nexports.precompiled = { ...exports };\n`);
