// Ridge regression (L2-regularised least squares) with an unpenalised intercept, solved with ml-matrix.
// ml-regression's multivariate linear regression has no penalty, and the penalty is what lets a GPU model with a
// handful of bookings keep close to its prior instead of chasing noise; the closed form is three lines on top of
// ml-matrix's solver, so it lives here rather than in another dependency.
import { Matrix, solve } from "ml-matrix";

/** Weights for the columns of X, then the intercept last. `penalty[j]` scales λ for column j (0 = none). */
export function ridgeFit(
  X: readonly (readonly number[])[],
  y: readonly number[],
  lambda: number,
  penalty?: readonly number[],
): number[] {
  if (X.length === 0 || X.length !== y.length)
    throw new RangeError("ridgeFit: X and y must be non-empty and match");
  const width = (X[0] ?? []).length;
  const A = new Matrix(X.map((row) => [...row, 1]));
  const At = A.transpose();
  const AtA = At.mmul(A);
  for (let j = 0; j < width; j++) AtA.set(j, j, AtA.get(j, j) + lambda * (penalty?.[j] ?? 1));
  // A tiny ridge on the intercept too keeps the system solvable when a column is constant; 1e-9 changes nothing.
  AtA.set(width, width, AtA.get(width, width) + 1e-9);
  const Aty = At.mmul(Matrix.columnVector([...y]));
  return solve(AtA, Aty).getColumn(0);
}

export function ridgePredict(w: readonly number[], x: readonly number[]): number {
  let s = w[x.length] ?? 0;
  for (let j = 0; j < x.length; j++) s += (w[j] ?? 0) * (x[j] ?? 0);
  return s;
}
