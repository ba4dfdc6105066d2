import Module, { createRequire } from 'node:module';

/**
 * mailauth loads joi, 68 modules with its @hapi dependencies, for one check on the DKIM path:
 * that the p= of a key record is base64 (`Joi.string().base64({ paddingRequired: false })`, built
 * when its tools.js loads). Loading joi is 45–60 ms of the 140 ms each analysis thread spends
 * loading its code, in every run. Imported before mailauth, this module puts a stand-in in joi's
 * place in the require cache, which answers that one check itself, with joi's own expression, and
 * loads the real joi the first time anything else is asked of it (mailauth's BIMI and SPF
 * modules, which leakcheck does not use, build schemas of their own). Nothing is replaced where
 * joi is already loaded.
 *
 * tests/verify/joi-stand-in.test.ts compares the check with joi's on every key record of the
 * shared corpus and on generated strings, and shows that an analysis thread loads no joi.
 */

/** joi 18's internals.base64Regex[paddingRequired: false][urlSafe: false] */
const BASE64_UNPADDED = /^(?:[A-Za-z0-9+/]{2}[A-Za-z0-9+/]{2})*(?:[A-Za-z0-9+/]{2}(==)?|[A-Za-z0-9+/]{3}=?)?$/;

export interface CheckResult {
  value: unknown;
  error?: Error;
}

/** What `Joi.string().base64({ paddingRequired: false }).validate(value)` answers (joi's error details aside). */
export function checkUnpaddedBase64(value: unknown): CheckResult {
  // joi: undefined is an absent optional value; anything else must be a non-empty string
  if (value === undefined) return { value };
  if (typeof value !== 'string') return { value, error: new Error('"value" must be a string') };
  if (value === '') return { value, error: new Error('"value" is not allowed to be empty') };
  if (!BASE64_UNPADDED.test(value)) return { value, error: new Error('"value" must be a valid base64 string') };
  return { value };
}

const require = createRequire(import.meta.url);
const joiPath = createRequire(require.resolve('mailauth/lib/tools.js')).resolve('joi');

type Joi = Record<PropertyKey, unknown>;
let realJoi: Joi | null = null;

/** The real joi, loaded in the stand-in's place the first time it is needed. */
export function loadRealJoi(): Joi {
  if (!realJoi) {
    if (require.cache[joiPath]?.exports === standIn) delete require.cache[joiPath];
    realJoi = require(joiPath) as Joi;
  }
  return realJoi;
}

/** A property of a real joi object, bound to it, as if read from it. */
const member = (target: Joi, name: PropertyKey): unknown => {
  const value = Reflect.get(target, name);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
};
const call = (target: Joi, name: PropertyKey, args: unknown[]): Joi => (member(target, name) as (...a: unknown[]) => Joi)(...args);

/** A stand-in for a joi object: `own` names what it answers itself; the rest is read from the real one. */
const standInFor = (real: () => Joi, own: Record<PropertyKey, unknown>): Joi =>
  new Proxy(own, { get: (_, name) => (Object.hasOwn(own, name) ? own[name] : member(real(), name)) });

const isTheCheck = (args: unknown[]): boolean => {
  const options = args[0];
  return (
    args.length === 1 &&
    typeof options === 'object' &&
    options !== null &&
    Object.keys(options).length === 1 &&
    (options as { paddingRequired?: unknown }).paddingRequired === false
  );
};

const realString = (args: unknown[]): Joi => call(loadRealJoi(), 'string', args);
const realCheck = (): Joi => call(realString([]), 'base64', [{ paddingRequired: false }]);

/** `Joi.string().base64({ paddingRequired: false })` */
const theCheck = standInFor(realCheck, {
  validate: (...args: unknown[]): unknown => (args.length === 1 ? checkUnpaddedBase64(args[0]) : call(realCheck(), 'validate', args)),
});

/** `Joi.string()` */
const stringSchema = standInFor(() => realString([]), {
  base64: (...args: unknown[]): unknown => (isTheCheck(args) ? theCheck : call(realString([]), 'base64', args)),
});

const standIn: Joi = standInFor(loadRealJoi, {
  string: (...args: unknown[]): unknown => (args.length ? realString(args) : stringSchema),
});

/** Whether mailauth gets the stand-in (false where joi was loaded before this module). */
export const joiStandInInstalled = ((): boolean => {
  if (require.cache[joiPath]) return false;
  const entry = new Module(joiPath);
  entry.filename = joiPath;
  entry.loaded = true;
  entry.exports = standIn;
  require.cache[joiPath] = entry;
  return true;
})();
