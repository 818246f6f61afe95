// Run colours: distinct on white, in the order runs are listed (the same run keeps its colour
// across every chart of a page).
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf", "#3b4cc0", "#b40426", "#006d2c", "#d95f02", "#7570b3", "#e7298a"];

export function runColor(index: number): string {
  return PALETTE[index % PALETTE.length];
}

/** `#rrggbb` at `alpha` (bands and raw lines under a smoothed one). */
export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
