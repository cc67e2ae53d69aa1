// "Did you mean …?" for names a user typed: irsa.yaml keys, AWS managed policy names. Pure.

/** Edit distance (insertions, deletions, substitutions; a swap of neighbours counts one). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates closest to `typed`: a case-insensitive match first, else the nearest within a
 * third of the name's length in edits (at least 2), ties kept, at most `max`.
 */
export function closestNames(typed: string, candidates: Iterable<string>, max = 3): string[] {
  const list = [...new Set(candidates)];
  const lower = typed.toLowerCase();
  const same = list.find((name) => name.toLowerCase() === lower && name !== typed);
  if (same) return [same];
  const limit = Math.max(2, Math.floor(typed.length / 3));
  const near = list
    .map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }))
    .filter(({ distance, name }) => distance <= limit && name !== typed);
  // Only the closest (ties kept): one clear suggestion beats a list of guesses.
  const best = Math.min(...near.map(({ distance }) => distance));
  return near
    .filter(({ distance }) => distance === best)
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, max)
    .map(({ name }) => name);
}

/** ` (did you mean "a" or "b"?)`, or "" when nothing is close. */
export function didYouMean(typed: string, candidates: Iterable<string>): string {
  const names = closestNames(typed, candidates);
  if (names.length === 0) return '';
  return ` (did you mean ${names.map((name) => `"${name}"`).join(' or ')}?)`;
}
