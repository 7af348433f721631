// What /version reports. The minor decides which kubectl the google-cloud-sdk dispatcher runs.
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-podium' };

export function versionInfo(): Record<string, string> {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: 'podium',
    gitTreeState: 'clean',
    buildDate: '2026-11-26T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform === 'win32' ? 'windows' : process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
