// @ts-check
/**
 * Inputs and outputs as the Python side writes them (jsonpickle).
 *
 * An input is `jsonpickle.encode([args, kwargs])`; JavaScript values that are
 * plain JSON (numbers, strings, booleans, null, arrays, plain objects) encode
 * to exactly what jsonpickle writes for the matching Python values, with the
 * positional arguments as a tuple: `[{"py/tuple": [...args]}, {...kwargs}]`.
 *
 * An output is `jsonpickle.encode(value)` for a Python function and any text
 * for a command function.  {@link decodeOutput} parses JSON (also Python's
 * `NaN`, `Infinity` and `-Infinity`), turns `py/tuple` and `py/set` into
 * arrays, resolves `py/id` back-references as jsonpickle numbers them, and
 * leaves other `py/...` objects as they are; text that is not JSON comes back
 * unchanged.
 */

/** Inputs of this many characters or more are rejected (by the server too). */
export const INPUT_LENGTH_LIMIT = 250_000;

/**
 * `jsonpickle.encode([args, kwargs])` of JavaScript values.
 *
 * @param {readonly unknown[]} args
 * @param {Readonly<Record<string, unknown>>} [kwargs]
 * @returns {string}
 * @throws {TypeError} a value cannot be encoded (a BigInt, a cycle)
 */
export function encodeInput(args, kwargs = {}) {
  return JSON.stringify([{ 'py/tuple': [...args] }, { ...kwargs }]);
}

/**
 * Python's length of a string (code points), computed only when it matters.
 *
 * @param {string} text
 * @returns {number}
 */
export function pythonLength(text) {
  if (text.length < INPUT_LENGTH_LIMIT) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

const SPECIAL_FLOAT = 'py/mn-special-float';

/**
 * JSON.parse that also reads the NaN, Infinity and -Infinity that Python's
 * json module writes (outside strings), or undefined when the text is not JSON.
 *
 * @param {string} text
 * @returns {{ value: unknown } | undefined}
 */
function parseJson(text) {
  try {
    return { value: JSON.parse(text) };
  } catch {
    // fall through
  }
  if (!/NaN|Infinity/.test(text)) return undefined;
  // Rewrite the bare tokens (never inside strings) into tagged objects.
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    let token;
    for (const t of ['-Infinity', 'Infinity', 'NaN']) {
      if (text.startsWith(t, i)) {
        token = t;
        break;
      }
    }
    if (token) {
      out += `{"${SPECIAL_FLOAT}":"${token}"}`;
      i += token.length - 1;
    } else {
      out += c;
    }
  }
  try {
    return { value: JSON.parse(out) };
  } catch {
    return undefined;
  }
}

/**
 * What jsonpickle.decode gives, in JavaScript terms (see the module's comment).
 *
 * @param {unknown} doc parsed JSON
 * @returns {unknown}
 */
export function unpickle(doc) {
  /** @type {unknown[]} containers in the order jsonpickle registers them */
  const objs = [];
  /**
   * @param {unknown} v
   * @returns {unknown}
   */
  const restore = (v) => {
    if (Array.isArray(v)) {
      /** @type {unknown[]} */
      const list = [];
      objs.push(list);
      for (const item of v) list.push(restore(item));
      return list;
    }
    if (v === null || typeof v !== 'object') return v;
    const o = /** @type {Record<string, unknown>} */ (v);
    if (SPECIAL_FLOAT in o) {
      const t = o[SPECIAL_FLOAT];
      return t === 'NaN' ? NaN : t === '-Infinity' ? -Infinity : Infinity;
    }
    if ('py/tuple' in o && Array.isArray(o['py/tuple'])) return o['py/tuple'].map(restore);
    if ('py/set' in o && Array.isArray(o['py/set'])) return o['py/set'].map(restore);
    if ('py/id' in o && typeof o['py/id'] === 'number') {
      const i = o['py/id'];
      return i >= 0 && i < objs.length ? objs[i] : null;
    }
    if (!('py/object' in o) && Object.keys(o).some((k) => k.startsWith('py/'))) {
      return o; // py/b64, py/type, py/reduce ...: left as they are
    }
    /** @type {Record<string, unknown>} */
    const out = {};
    // a plain dict, or a py/object (registered before its fields, as jsonpickle does)
    objs.push(out);
    for (const [k, item] of Object.entries(o)) out[k] = restore(item);
    return out;
  };
  return restore(doc);
}

/**
 * Decode an execution's output: jsonpickle for outputs written by Python
 * functions, and the text unchanged when it is not JSON.
 *
 * @param {string | null | undefined} text
 * @returns {unknown}
 */
export function decodeOutput(text) {
  if (text === null || text === undefined) return null;
  const parsed = parseJson(text);
  return parsed ? unpickle(parsed.value) : text;
}
