// The node's Ingress controller: it owns an IngressClass, keeps the proxy's route table in step
// with the Ingresses of that class, and publishes the node's address in their status.
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { logger } from '../../apimachinery/log.js';
import { ApiClient, isAlreadyExists, isNotFound } from '../../controllers/framework/client.js';
import type { ClusterState } from '../network/types.js';
import { IngressProxy } from './proxy.js';
import { buildRouteTable, classSelection, DEFAULT_CLASS_ANNOTATION, isOurIngress, type ClassSelection } from './routing.js';
import { INGRESS_CONTROLLER } from '../../server/bootstrap.js';

const log = logger('ingress-controller');

const API = '/apis/networking.k8s.io/v1';

export interface IngressControllerOptions {
  /** The IngressClass this controller serves; 'podium' by default. */
  className?: string;
  /** spec.controller of that class; 'podium.io/ingress-controller' by default. */
  controllerName?: string;
  /** HTTP listen port; 0 picks a free one. */
  port: number;
  bindAddress?: string;
  /** HTTPS listen port (SNI certificates from spec.tls secrets); none when unset. */
  httpsPort?: number;
  /** The address written to status.loadBalancer.ingress[0].ip of every Ingress served. */
  statusAddress: string;
}

export type IngressControllerState = Pick<ClusterState, 'ingresses' | 'ingressClasses' | 'services' | 'endpointSlices' | 'secrets'>;

const keyOf = (ing: Ingress): string => `${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;

export class IngressController {
  private readonly className: string;
  private readonly controllerName: string;
  private readonly proxy: IngressProxy;
  private selection: ClassSelection;
  private running = false;
  /** Ingress keys waiting for a status sync. */
  private readonly dirty = new Set<string>();
  /** Ingresses whose status we set, so we know whose to clear when they leave our class. */
  private readonly published = new Set<string>();
  private syncing?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 500;

  constructor(
    private readonly client: ApiClient,
    private readonly state: IngressControllerState,
    private readonly options: IngressControllerOptions,
  ) {
    this.className = options.className ?? 'podium';
    this.controllerName = options.controllerName ?? INGRESS_CONTROLLER;
    this.proxy = new IngressProxy(state, { port: options.port, bindAddress: options.bindAddress, httpsPort: options.httpsPort });
    this.selection = classSelection(this.className, this.controllerName, []);
    // Handlers are registered once; they do nothing until start() and after stop().
    const onIngress = (ing: Ingress, old?: Ingress): void => {
      if (!this.running) return;
      this.rebuild();
      // A change of class on an Ingress we served must clear the status we wrote.
      if (old && isOurIngress(old, this.selection)) this.published.add(keyOf(old));
      this.enqueue(keyOf(ing));
    };
    state.ingresses.on('add', (i) => onIngress(i));
    state.ingresses.on('update', (i, old) => onIngress(i, old));
    state.ingresses.on('delete', (i) => {
      if (!this.running) return;
      this.published.delete(keyOf(i));
      this.rebuild();
    });
    const onClass = (): void => {
      if (!this.running) return;
      // A class gaining or losing default status moves every unclassed Ingress.
      this.rebuild();
      for (const i of state.ingresses.list()) this.enqueue(keyOf(i));
    };
    state.ingressClasses.on('add', onClass);
    state.ingressClasses.on('update', onClass);
    state.ingressClasses.on('delete', onClass);
  }

  async start(): Promise<{ port: number; httpsPort?: number }> {
    await this.ensureIngressClass();
    this.running = true;
    this.rebuild();
    let addr: { port: number; httpsPort?: number };
    try {
      addr = await this.proxy.start();
    } catch (err) {
      // Nothing is served (the port is taken): no Ingress may claim an address.
      this.running = false;
      throw err;
    }
    for (const i of this.state.ingresses.list()) this.enqueue(keyOf(i));
    return addr;
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.dirty.clear();
    await this.proxy.stop();
    await this.syncing;
  }

  /** Creates our IngressClass (as the cluster default) unless one of that name already exists. */
  private async ensureIngressClass(): Promise<void> {
    const path = `${API}/ingressclasses/${encodeURIComponent(this.className)}`;
    try {
      await this.client.get<IngressClass>(path);
      return;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const ic: IngressClass = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: this.className, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
      spec: { controller: this.controllerName },
    };
    try {
      await this.client.create(`${API}/ingressclasses`, ic);
      log.info('created IngressClass', { name: this.className, controller: this.controllerName });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }

  private rebuild(): void {
    this.selection = classSelection(this.className, this.controllerName, this.state.ingressClasses.list());
    this.proxy.setRoutes(buildRouteTable(this.state.ingresses.list(), this.selection));
  }

  private enqueue(key: string): void {
    this.dirty.add(key);
    this.kick();
  }

  private kick(): void {
    if (this.syncing || !this.running) return;
    this.syncing = this.drain().finally(() => {
      this.syncing = undefined;
      if (this.dirty.size && this.running && !this.retryTimer) this.kick();
    });
  }

  private async drain(): Promise<void> {
    let failed = false;
    while (this.running && this.dirty.size) {
      const [key] = this.dirty;
      this.dirty.delete(key);
      try {
        await this.syncStatus(key);
      } catch (e) {
        log.warn('ingress status update failed', { ingress: key, error: (e as Error).message });
        failed = true;
        // Kept for the retry below rather than retried in a tight loop.
        this.dirty.add(key);
        break;
      }
    }
    if (failed && this.running) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
    } else this.retryDelay = 500;
  }

  private async syncStatus(key: string): Promise<void> {
    const ing = this.state.ingresses.get(key);
    if (!ing) return;
    const ours = isOurIngress(ing, this.selection) && !ing.metadata?.deletionTimestamp;
    const current = ing.status?.loadBalancer?.ingress ?? [];
    const want = this.options.statusAddress;
    const path = `${API}/namespaces/${encodeURIComponent(ing.metadata?.namespace ?? 'default')}/ingresses/${encodeURIComponent(ing.metadata?.name ?? '')}/status`;
    if (ours) {
      this.published.add(key);
      if (current.length === 1 && current[0].ip === want && !current[0].hostname && !current[0].ports?.length) return;
      await this.patchStatus(path, [{ ip: want }]);
      log.v(1, 'set ingress status', { ingress: key, ip: want });
      return;
    }
    if (!this.published.has(key)) return;
    if (current.length > 0) {
      await this.patchStatus(path, null);
      log.v(1, 'cleared ingress status', { ingress: key });
    }
    this.published.delete(key);
  }

  private async patchStatus(path: string, ingress: { ip: string }[] | null): Promise<void> {
    try {
      await this.client.patch(path, { status: { loadBalancer: { ingress } } }, 'merge');
    } catch (e) {
      // Deleted between the event and the sync: nothing left to update.
      if (!isNotFound(e)) throw e;
    }
  }
}
