// core/v1 events: stored in core/v1 form in the storage shared with events.k8s.io/v1; legacy
// validation and upstream's EventToSelectableFields.
import type { ResourceDefinition } from './types.js';
import { coreEventConversion, EVENT_COLUMNS, eventRow, legacyEventErrors, type CoreEventObject } from './event-shared.js';

const events: ResourceDefinition<CoreEventObject> = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  fieldSelectors: {
    'involvedObject.kind': (e) => e.involvedObject?.kind ?? '',
    'involvedObject.namespace': (e) => e.involvedObject?.namespace ?? '',
    'involvedObject.name': (e) => e.involvedObject?.name ?? '',
    'involvedObject.uid': (e) => e.involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (e) => e.involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (e) => e.involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (e) => e.involvedObject?.fieldPath ?? '',
    reason: (e) => e.reason ?? '',
    reportingComponent: (e) => e.reportingComponent ?? '',
    source: (e) => e.source?.component || e.reportingComponent || '',
    type: (e) => e.type ?? '',
  },
  strategy: {
    defaults(e) {
      // The core/v1 type has a required involvedObject; clients decode events without one badly.
      e.involvedObject ??= {};
    },
    validate: (e) => legacyEventErrors(e, 'reportingComponent'),
  },
  table: { columns: EVENT_COLUMNS, row: (e) => eventRow(e) },
  conversion: coreEventConversion,
};

export default events;
