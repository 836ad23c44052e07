// Runtime checks whose types the compiler ties to the SDK's own types.
//
// TypeScript types vanish at run time, so `tsc` alone cannot say whether the JSON a server sent is what
// `@imtbl/generated-clients` promises. A `Check<T>` is invariant in `T`, and `object<T>()` demands exactly
// one check per key of `T`, wrapped in `optional()` exactly when the key is optional, so `tsc --noEmit` fails
// unless each check matches the SDK's declaration of its field: a missing or extra key, a nullable check
// for a non-null field (or the reverse), or an optional check for a required key does not compile.

/** What checking found: values the SDK's types do not allow, and keys they do not declare. */
export interface Report {
  readonly problems: string[];
  readonly extra: string[];
}

export interface Check<T> {
  (value: unknown, path: string, report: Report): void;
  /** Phantom, never set: makes `Check` invariant in `T`. */
  readonly _type?: (value: T) => T;
}

export interface Optional<T> {
  readonly optional: Check<T>;
}

type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];

/** One check per key of `T`; optional keys (and only they) must be wrapped in `optional()`. */
export type Shape<T> = {
  [K in keyof T]-?: K extends OptionalKeys<T> ? Optional<Exclude<T[K], undefined>> : Check<T[K]>;
};

const kind = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

const primitive = <T>(name: 'string' | 'number' | 'boolean'): Check<T> =>
  (value, path, report) => {
    if (typeof value !== name) report.problems.push(`${path}: expected ${name}, got ${kind(value)}`);
  };

export const string: Check<string> = primitive('string');
export const number: Check<number> = primitive('number');
export const boolean: Check<boolean> = primitive('boolean');

/** `string | number | boolean`, the SDK's `NFTMetadataAttributeValue`. */
export const scalar: Check<string | number | boolean> = (value, path, report) => {
  if (!['string', 'number', 'boolean'].includes(typeof value)) {
    report.problems.push(`${path}: expected string, number or boolean, got ${kind(value)}`);
  }
};

/** `object | null`: any JSON object, e.g. the `details` of an error. */
export const anyObject: Check<object> = (value, path, report) => {
  if (kind(value) !== 'object') report.problems.push(`${path}: expected an object, got ${kind(value)}`);
};

/** One of the values of an SDK enum object such as `mr.NFTContractType`. */
export const oneOf = <E extends Record<string, string>>(values: E): Check<E[keyof E]> =>
  (value, path, report) => {
    if (!Object.values(values).includes(value as string)) {
      report.problems.push(`${path}: expected one of ${JSON.stringify(Object.values(values))}, got ${JSON.stringify(value)}`);
    }
  };

export const nullable = <T>(check: Check<T>): Check<T | null> =>
  (value, path, report) => {
    if (value !== null) check(value, path, report);
  };

export const optional = <T>(check: Check<T>): Optional<T> => ({ optional: check });

export const arrayOf = <T>(check: Check<T>): Check<Array<T>> =>
  (value, path, report) => {
    if (!Array.isArray(value)) {
      report.problems.push(`${path}: expected an array, got ${kind(value)}`);
      return;
    }
    value.forEach((item, index) => check(item, `${path}[${index}]`, report));
  };

/**
 * An object with exactly the keys of `shape` known: required keys must be present, optional ones may be
 * absent (not `null` unless their type says so). Keys the SDK does not declare go to `report.extra`.
 */
export const object = <T>(shape: Shape<T>): Check<T> =>
  (value, path, report) => {
    if (kind(value) !== 'object') {
      report.problems.push(`${path}: expected an object, got ${kind(value)}`);
      return;
    }
    const record = value as Record<string, unknown>;
    for (const [key, entry] of Object.entries(shape) as [string, Check<unknown> | Optional<unknown>][]) {
      const at = `${path}.${key}`;
      if (typeof entry === 'function') {
        if (key in record) entry(record[key], at, report);
        else report.problems.push(`${at}: required by the SDK's type, missing`);
      } else if (key in record) {
        entry.optional(record[key], at, report);
      }
    }
    for (const key of Object.keys(record)) {
      if (!(key in shape)) report.extra.push(`${path}.${key}`);
    }
  };

/** Check `value`: no problems means it is what `check`'s type (the SDK's type) promises. */
export const inspect = <T>(check: Check<T>, value: unknown, path = '$'): Report => {
  const report: Report = { problems: [], extra: [] };
  check(value, path, report);
  return report;
};
