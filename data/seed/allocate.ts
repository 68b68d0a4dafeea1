/**
 * Shares `total` among items by weight (largest-remainder method), giving each
 * at least `min`. The result sums to `total` exactly, which is how the real
 * counts (150 townships, 1,407 villages, 30,700 grids…) are kept.
 */
export function allocate(total: number, weights: number[], min = 0): number[] {
  const n = weights.length
  if (n === 0) return []
  if (!Number.isInteger(total) || total < 0) throw new Error(`total must be a whole number ≥ 0, got ${total}`)
  if (weights.some((w) => !(w >= 0) || !Number.isFinite(w))) throw new Error('weights must be finite and ≥ 0')
  if (min * n > total) throw new Error(`cannot give ${n} items at least ${min} each out of ${total}`)
  const rest = total - min * n
  const sum = weights.reduce((a, b) => a + b, 0)
  const exact = weights.map((w) => (sum > 0 ? (w / sum) * rest : rest / n))
  const out = exact.map((x) => Math.floor(x))
  let left = rest - out.reduce((a, b) => a + b, 0)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (let k = 0; left > 0; k = (k + 1) % n, left--) out[order[k][1]]++
  return out.map((x) => x + min)
}
