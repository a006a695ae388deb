// `node --import ./test/support/record-imports.mjs …`: appends every module URL the process resolves to $RECORD_IMPORTS_FILE.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_FILE } });
