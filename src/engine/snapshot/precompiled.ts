// Snapshot validators compiled ahead of time, by validatedSchemas name (schema.ts). From source there
// are none and load.ts compiles each schema with ajv on first use; scripts/build.mjs replaces this
// module in the bundles with ajv's standalone code of every validatedSchemas schema, so that a cold
// answer does not spend ~100 ms compiling. Same options, same code: the results are identical.
import type { ValidateFunction } from 'ajv';

export const precompiled: Record<string, ValidateFunction> | undefined = undefined;
