// The core/v1 resources (and events.k8s.io/v1 Event, which shares core/v1 events' storage), in
// upstream's legacy discovery order (alphabetical by resource).
import type { ResourceDefinition } from './types.js';
import { erase } from './core-helpers.js';
import configmaps from './configmaps.js';
import endpoints from './endpoints.js';
import events from './events.js';
import limitranges from './limitranges.js';
import namespaces from './namespaces.js';
import nodes from './nodes.js';
import persistentvolumeclaims from './persistentvolumeclaims.js';
import persistentvolumes from './persistentvolumes.js';
import pods from './pods.js';
import podtemplates from './podtemplates.js';
import resourcequotas from './resourcequotas.js';
import secrets from './secrets.js';
import serviceaccounts from './serviceaccounts.js';
import services from './services.js';
import eventsV1 from './events-events-k8s-io.js';

export const coreResources: ResourceDefinition[] = [
  erase(configmaps),
  erase(endpoints),
  erase(events),
  erase(limitranges),
  erase(namespaces),
  erase(nodes),
  erase(persistentvolumeclaims),
  erase(persistentvolumes),
  erase(pods),
  erase(podtemplates),
  erase(resourcequotas),
  erase(secrets),
  erase(serviceaccounts),
  erase(services),
  erase(eventsV1),
];
