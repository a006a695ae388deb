// Module hooks for fail-import.mjs (they run on Node's hooks thread).
let failing;

export function initialize(data) {
  failing = data.specifier;
}

export async function resolve(specifier, context, next) {
  if (specifier === failing) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' (fail-import.mjs)`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
