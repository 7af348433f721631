// The robustness suite runs short inside `npm test` (CI) and long through `npm run robustness`,
// which sets PODIUM_ROBUSTNESS=long: more rounds, longer loads, longer outages.
export const LONG = process.env.PODIUM_ROBUSTNESS === 'long';

/** `short` in CI, `long` under `npm run robustness`. */
export function pick<T>(short: T, long: T): T {
  return LONG ? long : short;
}
