#!/usr/bin/env node
// The `podium` command: subcommand dispatch and flag parsing only. Each subcommand's
// module is imported on demand, so `podium version` does not load the API server and
// a component child process loads only its own code.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logger, setVerbosity } from '../apimachinery/log.js';
import { parseAgentFlags, parseApiServerFlags, parseControllerManagerFlags, parseKubeconfigFlags, parseSchedulerFlags, parseUpFlags, parseVersionFlags, UsageError } from './flags.js';

const USAGE = `Usage: podium <command> [flags]

Commands:
  up          run a whole cluster: Redis, API server and the other components, supervised
              --data-dir DIR (default .podium)  --port N (6443)  --redis-url URL
              --redis-appendfsync everysec|always|no  --runtime docker|simulated|none
              --nodes N  --ingress-port N  --audit-log-path F  --token-auth-file F  --event-ttl D (1h)  --v N
  apiserver   run the API server alone
              --redis-url URL (required)  --port N (6443)  --bind-address IP (127.0.0.1)
              --tls-cert-file F  --tls-private-key-file F  --client-ca-file F  --data-dir DIR
              --service-cluster-ip-range CIDR (10.96.0.0/16)
              --service-node-port-range A-B (30000-32767)  --event-window N  --event-ttl D (1h)  --v N
              --authorization-mode LIST (Node,RBAC; or AlwaysAllow)  --anonymous-auth true|false (false)
              --token-auth-file F (CSV: token,user,uid,"group1,group2")  --service-account-issuer URL
              --audit-log-path F|-  --encryption-provider-config F (default DIR/pki/encryption-config.yaml)
              --watch-cache-consistency-check-interval D (0 = off; e.g. 5s)  --watch-cache-consistency-check-action log|exit (log)
  controller-manager  run the controllers (replicaset, deployment, namespace, garbage collector, ...)
              --kubeconfig F (required)  --leader-elect true|false (true)
              --controllers LIST (*; e.g. "*,-deployment" or "namespace,serviceaccount")  --v N
              --cluster-signing-cert-file F  --cluster-signing-key-file F (the CA csrsigning signs with)
              --metrics-bind-address HOST:PORT (plain-HTTP /metrics, e.g. 127.0.0.1:10257; off by default)
  scheduler   run the scheduler (binds pending pods to nodes)
              --kubeconfig F (required)  --v N
  agent       run a node agent (the kubelet) for one or more nodes
              --kubeconfig F (or KUBECONFIG) | --server URL  --runtime simulated|docker (simulated)
              --nodes N (1)  --node-name-prefix P (sim-)  --first-node-index N (0)  --v N
              --metrics-bind-address HOST:PORT (plain-HTTP /metrics; off by default)
  kubeconfig  print a kubeconfig for another user, with a client certificate from the cluster CA
              --user NAME (required)  --group G (repeatable)  --data-dir DIR (.podium)
              --server URL (from DIR/kubeconfig)  --out FILE (stdout)
  version     print the version
`;

function podiumVersion(): string {
  // Walk up from this file: it runs both from dist/cmd/ and, under ts tooling, from cmd/.
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'podium' && pkg.version) return `v${pkg.version}`;
    } catch {
      // not here; keep walking
    }
    if (dirname(dir) === dir) return 'v0.0.0-unknown';
  }
}

function applyVerbosity(v: number): void {
  setVerbosity(v);
  // Children read it at startup too, before they parse their own --v.
  process.env.PODIUM_V = String(v);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'up': {
      const flags = parseUpFlags(args);
      applyVerbosity(flags.verbosity);
      const { runUp } = await import('./up.js');
      return runUp(flags);
    }
    case 'apiserver': {
      const flags = parseApiServerFlags(args);
      applyVerbosity(flags.verbosity);
      const { runApiServer } = await import('./apiserver.js');
      return runApiServer(flags);
    }
    case 'controller-manager': {
      const flags = parseControllerManagerFlags(args);
      applyVerbosity(flags.verbosity);
      const { runControllerManagerCommand } = await import('./controller-manager.js');
      return runControllerManagerCommand(flags);
    }
    case 'scheduler': {
      const flags = parseSchedulerFlags(args);
      applyVerbosity(flags.verbosity);
      const { runScheduler } = await import('./scheduler.js');
      return runScheduler(flags);
    }
    case 'agent': {
      const flags = parseAgentFlags(args);
      applyVerbosity(flags.verbosity);
      const { runAgent } = await import('./agent.js');
      return runAgent(flags);
    }
    case 'kubeconfig': {
      const { runUserKubeconfig } = await import('./user-kubeconfig.js');
      return runUserKubeconfig(parseKubeconfigFlags(args));
    }
    case 'version':
    case '--version':
      parseVersionFlags(args);
      process.stdout.write(`podium ${podiumVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  // Explicit exit: open handles (Redis clients, timers) must not keep a stopped component alive.
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`podium: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    logger('podium').error('fatal', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  },
);
