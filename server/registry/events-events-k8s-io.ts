// events.k8s.io/v1 events: the same objects as core/v1 events (stored in core/v1 form and
// converted as upstream), with the strict validation new-style events get.
import type { ResourceDefinition } from './types.js';
import {
  EVENT_COLUMNS, eventRow, eventsEventConversion, strictEventErrors, strictEventUpdateErrors, toCoreEvent, type EventsEventObject,
} from './event-shared.js';

const eventsV1: ResourceDefinition<EventsEventObject> = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  // events.k8s.io's field label conversion onto the core/v1 selectable fields.
  fieldSelectors: {
    'regarding.kind': (e) => e.regarding?.kind ?? '',
    'regarding.namespace': (e) => e.regarding?.namespace ?? '',
    'regarding.name': (e) => e.regarding?.name ?? '',
    'regarding.uid': (e) => e.regarding?.uid ?? '',
    'regarding.apiVersion': (e) => e.regarding?.apiVersion ?? '',
    'regarding.resourceVersion': (e) => e.regarding?.resourceVersion ?? '',
    'regarding.fieldPath': (e) => e.regarding?.fieldPath ?? '',
    reason: (e) => e.reason ?? '',
    reportingController: (e) => e.reportingController ?? '',
    type: (e) => e.type ?? '',
  },
  strategy: {
    validate: (e) => strictEventErrors(toCoreEvent(e)),
    validateUpdate: (e, old) => strictEventUpdateErrors(toCoreEvent(e), toCoreEvent(old)),
  },
  table: { columns: EVENT_COLUMNS, row: (e) => eventRow(toCoreEvent(e)) },
  conversion: eventsEventConversion,
};

export default eventsV1;
