// The metav1.Status objects the remotecommand error channel carries (protocol v4/v5).
// kubectl turns reason NonZeroExitCode + cause ExitCode into its own exit code and prints
// "command terminated with exit code N"; any other Failure is printed as an error.
import type { Status } from 'kubernetes-types/meta/v1.js';

export type RemoteCommandResult = { exitCode: number } | { error: string };

export function statusForResult(result: RemoteCommandResult): Status {
  if ('error' in result) {
    // The kubelet wraps runtime failures in apierrors.NewInternalError.
    return {
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${result.error}`,
      reason: 'InternalError',
      details: { causes: [{ message: result.error }] },
      code: 500,
    };
  }
  if (result.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${result.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] },
  };
}

/**
 * Protocols v1–v3 carry a plain message on the error stream instead of a Status; an empty
 * stream means success.
 */
export function textForResult(result: RemoteCommandResult): string {
  if ('error' in result) return result.error;
  if (result.exitCode === 0) return '';
  return `command terminated with non-zero exit code: exit status ${result.exitCode}`;
}
