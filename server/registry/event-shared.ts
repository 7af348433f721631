// What core/v1 and events.k8s.io/v1 Events share: one storage (core/v1 form), upstream's
// conversion between the two, the validation (legacy for core/v1, strict for events.k8s.io) and
// printEvent, which both APIs serve.
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain, isQualifiedName } from '../../apimachinery/validation.js';
import type { KubeObject, StorageConversion } from './types.js';
import { age } from './printing.js';
import { col, deepEqual, invalidValue, type Stored } from './core-helpers.js';
import { NAME_COLUMN } from './printing.js';

export type CoreEventObject = Stored<CoreEvent>;
export type EventsEventObject = Stored<EventsEvent>;

export const EVENTS_STORAGE_KEY = 'core/events';

/** Copies the fields that are set; absent stays absent on the other side. */
function put<T extends object>(target: T, key: string, value: unknown): void {
  if (value !== undefined && value !== null && value !== '') (target as Record<string, unknown>)[key] = value;
}

/** Convert_v1_Event_To_core_Event (through the internal type): events.k8s.io → core/v1. */
export function toCoreEvent(e: EventsEvent): CoreEventObject {
  const out = { apiVersion: 'v1', kind: 'Event', metadata: e.metadata ?? {}, involvedObject: e.regarding ?? {} } as CoreEventObject;
  put(out, 'action', e.action);
  put(out, 'count', e.deprecatedCount);
  put(out, 'eventTime', e.eventTime);
  put(out, 'firstTimestamp', e.deprecatedFirstTimestamp);
  put(out, 'lastTimestamp', e.deprecatedLastTimestamp);
  put(out, 'message', e.note);
  put(out, 'reason', e.reason);
  put(out, 'related', e.related);
  put(out, 'reportingComponent', e.reportingController);
  put(out, 'reportingInstance', e.reportingInstance);
  if (e.series) out.series = { count: e.series.count, lastObservedTime: e.series.lastObservedTime };
  if (e.deprecatedSource && Object.keys(e.deprecatedSource).length) out.source = e.deprecatedSource;
  put(out, 'type', e.type);
  return out;
}

/** Convert_core_Event_To_v1_Event: core/v1 → events.k8s.io. */
export function fromCoreEvent(e: CoreEvent): EventsEventObject {
  const out = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: e.metadata } as EventsEventObject;
  // eventTime is a required (non-pointer) field upstream: legacy events serialize it as null.
  (out as Record<string, unknown>).eventTime = e.eventTime ?? null;
  put(out, 'action', e.action);
  put(out, 'deprecatedCount', e.count);
  put(out, 'deprecatedFirstTimestamp', e.firstTimestamp);
  put(out, 'deprecatedLastTimestamp', e.lastTimestamp);
  if (e.source && Object.keys(e.source).length) out.deprecatedSource = e.source;
  put(out, 'note', e.message);
  put(out, 'reason', e.reason);
  if (e.involvedObject && Object.keys(e.involvedObject).length) out.regarding = e.involvedObject;
  put(out, 'related', e.related);
  put(out, 'reportingController', e.reportingComponent);
  put(out, 'reportingInstance', e.reportingInstance);
  // The core/v1 series fields are optional; events.k8s.io's are required.
  if (e.series) out.series = { ...e.series } as NonNullable<EventsEvent['series']>;
  put(out, 'type', e.type);
  return out;
}

export const coreEventConversion: StorageConversion<CoreEventObject> = {
  storageKey: EVENTS_STORAGE_KEY,
  toStorage: (e) => e,
  fromStorage: (stored) => ({ ...stored, apiVersion: 'v1', kind: 'Event' }) as CoreEventObject,
};

export const eventsEventConversion: StorageConversion<EventsEventObject> = {
  storageKey: EVENTS_STORAGE_KEY,
  toStorage: (e) => toCoreEvent(e) as KubeObject,
  fromStorage: (stored) => fromCoreEvent(stored as CoreEventObject),
};

/** legacyValidateEvent: what every Event must satisfy, whichever API wrote it. */
export function legacyEventErrors(e: CoreEvent, controllerField: 'reportingComponent' | 'reportingController'): FieldError[] {
  const errs: FieldError[] = [];
  const ns = e.metadata?.namespace ?? '';
  const involvedNs = e.involvedObject?.namespace ?? '';
  if (!e.eventTime) {
    // Old-style events: the involved object lives in the event's namespace ("default" for cluster objects).
    if (!involvedNs ? ns !== '' && ns !== 'default' : ns !== involvedNs) {
      errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    }
  } else {
    if (!involvedNs && ns !== 'default' && ns !== 'kube-system') errs.push(fieldErrors.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const controller = e.reportingComponent ?? '';
    if (!controller) errs.push(fieldErrors.required(controllerField));
    errs.push(...isQualifiedName(controller).map((m) => fieldErrors.invalid(controllerField, controller, m)));
    const tooLong = (field: string, value: string | undefined, limit: number) => {
      if (!value) errs.push(fieldErrors.required(field));
      else if (value.length > limit) errs.push(fieldErrors.invalid(field, '', `can have at most ${limit} characters`));
    };
    tooLong('reportingInstance', e.reportingInstance, 128);
    tooLong('action', e.action, 128);
    tooLong('reason', e.reason, 128);
    if ((e.message ?? '').length > 1024) errs.push(fieldErrors.invalid('message', '', 'can have at most 1024 characters'));
  }
  errs.push(...isDNS1123Subdomain(ns).map((m) => fieldErrors.invalid('namespace', ns, m)));
  return errs;
}

function seriesErrors(e: CoreEvent): FieldError[] {
  if (!e.series) return [];
  const errs: FieldError[] = [];
  if ((e.series.count ?? 0) < 2) errs.push(fieldErrors.invalid('series.count', '', 'should be at least 2'));
  if (!e.series.lastObservedTime) errs.push(fieldErrors.required('series.lastObservedTime'));
  return errs;
}

/** ValidateEventCreate for events.k8s.io/v1: new-style events only. */
export function strictEventErrors(e: CoreEvent): FieldError[] {
  const errs = [...legacyEventErrors(e, 'reportingController'), ...seriesErrors(e)];
  if (!e.eventTime) errs.push(fieldErrors.required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(fieldErrors.invalid('type', '', `has invalid value: ${e.type ?? ''}`));
  if (e.firstTimestamp) errs.push(fieldErrors.invalid('firstTimestamp', '', 'needs to be unset'));
  if (e.lastTimestamp) errs.push(fieldErrors.invalid('lastTimestamp', '', 'needs to be unset'));
  if (e.count) errs.push(fieldErrors.invalid('count', '', 'needs to be unset'));
  if (e.source?.component || e.source?.host) errs.push(fieldErrors.invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate for events.k8s.io/v1: what was reported stays as reported. */
export function strictEventUpdateErrors(e: CoreEvent, old: CoreEvent): FieldError[] {
  const errs = legacyEventErrors(e, 'reportingController');
  if (!deepEqual(e.series, old.series)) errs.push(...seriesErrors(e));
  const fields: [keyof CoreEvent, string][] = [['involvedObject', 'involvedObject'], ['reason', 'reason'], ['message', 'message'], ['source', 'source'],
    ['firstTimestamp', 'firstTimestamp'], ['lastTimestamp', 'lastTimestamp'], ['count', 'count'], ['reason', 'reason'], ['type', 'type']];
  for (const [key, path] of fields) if (!deepEqual(e[key], old[key])) errs.push(invalidValue(path, e[key] ?? null, 'field is immutable'));
  if (old.eventTime && e.eventTime !== old.eventTime) errs.push(invalidValue('eventTime', e.eventTime ?? null, 'field is immutable'));
  return errs;
}

export const EVENT_COLUMNS = [
  col('Last Seen', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col('Reason', 'This should be a short, machine understandable string that gives the reason for the transition into the object\'s current status.'),
  col('Object', 'The object that this event is about.'),
  col('Subobject', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.', { priority: 1 }),
  col('Source', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
  col('Message', 'A human-readable description of the status of this operation.'),
  col('First Seen', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
  col('Count', 'The number of times this event has occurred.', { priority: 1 }),
  { ...NAME_COLUMN, priority: 1 },
];

/** printEvent's cells for a core/v1-form event (the server prints tables wide). */
export function eventRow(e: CoreEvent, now = Date.now()): unknown[] {
  const since = (t: string | undefined) => (t ? age(t, now) : '<unknown>');
  const first = e.firstTimestamp ? since(e.firstTimestamp) : since(e.eventTime);
  let last = e.lastTimestamp ? since(e.lastTimestamp) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (e.involvedObject?.kind ?? '').toLowerCase();
  const target = e.involvedObject?.name ? `${kind}/${e.involvedObject.name}` : kind;
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  const source = instance ? `${component}, ${instance}` : component;
  return [last, e.type ?? '', e.reason ?? '', target, e.involvedObject?.fieldPath ?? '', source, (e.message ?? '').trim(), first, count, e.metadata?.name];
}
