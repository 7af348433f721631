// @peculiar/x509 registers its algorithms through tsyringe, which refuses to load
// unless the Reflect metadata API exists. The `reflect-metadata` package is not a
// dependency, so this provides the handful of functions tsyringe and tslib call.
// Import this module before '@peculiar/x509'; it does nothing if a real polyfill
// is already installed.

type MetadataMap = Map<unknown, unknown>;
type PropertyKey = string | symbol | undefined;

const store = new WeakMap<object, Map<PropertyKey, MetadataMap>>();

function table(target: object, property: PropertyKey, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface ReflectMetadataApi {
  defineMetadata(key: unknown, value: unknown, target: object, property?: PropertyKey): void;
  getOwnMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
  getMetadata(key: unknown, target: object, property?: PropertyKey): unknown;
  hasOwnMetadata(key: unknown, target: object, property?: PropertyKey): boolean;
  hasMetadata(key: unknown, target: object, property?: PropertyKey): boolean;
  metadata(key: unknown, value: unknown): (target: object, property?: PropertyKey) => void;
}

const api: ReflectMetadataApi = {
  defineMetadata(key, value, target, property) {
    table(target, property, true)!.set(key, value);
  },
  getOwnMetadata(key, target, property) {
    return table(target, property, false)?.get(key);
  },
  // Metadata is inherited along the prototype chain, as in the reflect-metadata proposal.
  getMetadata(key, target, property) {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
      const entries = table(o, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  },
  hasOwnMetadata(key, target, property) {
    return table(target, property, false)?.has(key) ?? false;
  },
  hasMetadata(key, target, property) {
    return api.getMetadata(key, target, property) !== undefined;
  },
  metadata(key, value) {
    return (target, property) => api.defineMetadata(key, value, target, property);
  },
};

const reflect = Reflect as unknown as Partial<ReflectMetadataApi>;
if (typeof reflect.getMetadata !== 'function') Object.assign(Reflect, api);

export {};
