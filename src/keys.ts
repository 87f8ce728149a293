/** Session key rules: digits only, a per-group length (default 6), generated from a CSPRNG. */

export const DEFAULT_KEY_LENGTH = 6;
export const MIN_KEY_LENGTH = 4;
export const MAX_KEY_LENGTH = 12;

/** `randomInt(max)` must return a uniformly distributed integer in [0, max) from a CSPRNG. */
export type RandomInt = (max: number) => number;

export function generateKey(length: number, randomInt: RandomInt): string {
  if (!Number.isInteger(length) || length < MIN_KEY_LENGTH || length > MAX_KEY_LENGTH) {
    throw new RangeError(`key length must be an integer in ${MIN_KEY_LENGTH}..${MAX_KEY_LENGTH}`);
  }
  let key = "";
  // One digit at a time keeps every digit uniform (no modulo bias, no float precision limit).
  for (let i = 0; i < length; i++) key += String(randomInt(10));
  return key;
}

/** Agents type keys as read aloud: tolerate spaces and dashes, nothing else. */
export function normalizeKey(input: string): string | null {
  const key = input.replace(/[\s-]/g, "");
  return /^\d{1,64}$/.test(key) ? key : null;
}

/** "123456" → "123 456", easier to read aloud. */
export function formatKey(key: string): string {
  return key.length > 4 ? key.replace(/(\d{3})(?=\d)/g, "$1 ") : key;
}
