// The figures a robustness test measured, printed one line each (jest keeps stderr) and, when
// PODIUM_FIGURES_FILE names a file, appended to it as JSON lines for the closing note.
import { appendFileSync } from 'node:fs';

export type Figures = Record<string, number | string | boolean>;

export function printFigures(test: string, figures: Figures): void {
  const line = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stderr.write(`[robustness] ${test}: ${line}\n`);
  const file = process.env.PODIUM_FIGURES_FILE;
  if (file) appendFileSync(file, `${JSON.stringify({ test, ...figures, at: new Date().toISOString() })}\n`);
}
