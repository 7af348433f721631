// Event object names as upstream's recorders make them: `<involved object>.<unix nanos in hex>`,
// unique enough that concurrent recorders never collide.

export function eventName(objectName: string | undefined): string {
  return `${objectName ?? ''}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
}
