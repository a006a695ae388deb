// `node --import ./test/support/fail-import.mjs …`: resolving the package $FAIL_IMPORT fails, as in a broken install.
import { register } from 'node:module';

register('./fail-import-hooks.mjs', import.meta.url, { data: { specifier: process.env.FAIL_IMPORT } });
