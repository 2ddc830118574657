// "Did you mean ...?" for misspelled configuration keys: Damerau-Levenshtein distance. Pure.

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate when it is close enough to be a likely typo (as commander judges flags). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    // Case and separators differ more often than letters: compare them loosely.
    let d = Math.min(editDistance(word, c), editDistance(word.toLowerCase().replace(/[-_]/g, ''), c.toLowerCase()));
    // A truncated key ("maxLag" for "maxLagSeconds") is as likely as a typo.
    if (word.length >= 4 && c.toLowerCase().startsWith(word.toLowerCase())) d = Math.min(d, 1);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= 3 && bestD < Math.max(2, word.length * 0.6) ? best : undefined;
}
