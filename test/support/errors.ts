// Catching the StatusError a call throws, for tests that assert on code, reason and message.
import { StatusError } from '../../apimachinery/errors.js';

export function failure(f: () => unknown): StatusError {
  try {
    f();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('expected a StatusError');
}
