// The generated type graph: upstream definition names, property types, kinds.
import { definition, definitionFor, definitionNameFor, fieldType, kinds, parseFieldType } from '../../openapi/type-graph.js';

test('kinds map to upstream definition names', () => {
  expect(definitionNameFor('', 'v1', 'Pod')).toBe('io.k8s.api.core.v1.Pod');
  expect(definitionNameFor('apps', 'v1', 'Deployment')).toBe('io.k8s.api.apps.v1.Deployment');
  expect(definitionNameFor('events.k8s.io', 'v1', 'Event')).toBe('io.k8s.api.events.v1.Event');
  expect(definitionNameFor('autoscaling', 'v1', 'Scale')).toBe('io.k8s.api.autoscaling.v1.Scale');
  expect(definitionNameFor('apps', 'v1', 'DeleteOptions')).toBe('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  expect(definitionNameFor('example.com', 'v1', 'Widget')).toBeUndefined();
  expect(definitionFor('batch', 'v1', 'Job')?.properties.spec.type).toEqual({ kind: 'ref', ref: 'io.k8s.api.batch.v1.JobSpec' });
  expect(kinds().length).toBeGreaterThan(100);
});

test('property types: refs, arrays, maps, scalars, IntOrString and Quantity', () => {
  expect(fieldType('io.k8s.api.core.v1.PodSpec', 'containers')).toEqual({ kind: 'array', items: { kind: 'ref', ref: 'io.k8s.api.core.v1.Container' } });
  expect(fieldType('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'labels')).toEqual({ kind: 'map', values: { kind: 'string' } });
  expect(fieldType('io.k8s.api.apps.v1.DeploymentSpec', 'replicas')).toEqual({ kind: 'integer' });
  expect(fieldType('io.k8s.api.core.v1.ServicePort', 'targetPort')).toEqual({ kind: 'ref', ref: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' });
  expect(fieldType('io.k8s.api.core.v1.ResourceRequirements', 'limits')).toEqual({ kind: 'map', values: { kind: 'ref', ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' } });
  expect(fieldType('io.k8s.api.core.v1.PodSpec', 'nope')).toBeUndefined();
  expect(parseFieldType('map[string][]string')).toEqual({ kind: 'map', values: { kind: 'array', items: { kind: 'string' } } });
});

test('definitions carry required-ness, descriptions and scalar formats', () => {
  const spec = definition('io.k8s.api.core.v1.PodSpec')!;
  expect(spec.properties.containers.required).toBe(true);
  expect(spec.properties.nodeName.required).toBe(false);
  expect(spec.description).toBe('PodSpec is a description of a pod.');
  expect(definition('io.k8s.apimachinery.pkg.apis.meta.v1.Time')).toMatchObject({ type: 'string', format: 'date-time' });
  expect(definition('io.k8s.apimachinery.pkg.util.intstr.IntOrString')).toMatchObject({ type: 'string', format: 'int-or-string' });
  expect(definition('io.k8s.apimachinery.pkg.runtime.RawExtension')).toMatchObject({ type: 'object', open: true });
});
