// Where to go after logging in: `next` only when it is a path of this site (issue 13: open redirect).

// Backslashes (browsers read "/\evil" as "//evil"), C0/C1 controls (a tab or newline is dropped from a
// URL, so "/\t/evil" becomes "//evil") and every kind of space are refused outright.
const UNSAFE = /[\\\u0000-\u0020\u007f-\u009f\s\u200b-\u200f\u2028\u2029\ufeff]/u;

/**
 * ``raw`` re-serialised as a path of ``origin`` (path, query, fragment), or null when it is anything
 * else: a scheme, a host ("//evil", "/.//evil" after dot segments), a backslash, a control character
 * or a space. Only the parsed, re-serialised form is ever followed, never the raw text.
 */
export function sitePath(raw, origin = location.origin) {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2048) return null;
  if (raw[0] !== "/" || raw[1] === "/" || UNSAFE.test(raw)) return null;
  let url;
  try { url = new URL(raw, origin); } catch { return null; }
  if (url.origin !== origin || url.username || url.password) return null;
  const path = url.pathname + url.search + url.hash;
  // Dot segments can turn "/.//evil" into "//evil": the serialised form must still be a plain path.
  if (!path.startsWith("/") || path.startsWith("//") || UNSAFE.test(path)) return null;
  return path;
}
