/**
 * Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_: if ‖g‖₂ > maxNorm, scale g by
 * maxNorm / (‖g‖₂ + 1e-6). Returns the norm before clipping (CleanRL does not log it; we do).
 */
export function clipGradNorm(grad: Float64Array, maxNorm: number): number {
  let sq = 0;
  for (let i = 0; i < grad.length; i++) sq += grad[i] * grad[i];
  const totalNorm = Math.sqrt(sq);
  const clipCoef = maxNorm / (totalNorm + 1e-6);
  if (clipCoef < 1) for (let i = 0; i < grad.length; i++) grad[i] *= clipCoef;
  return totalNorm;
}
