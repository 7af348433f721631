// Option parsing shared by the development scripts: `--name value` pairs with defaults.
export function option(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
