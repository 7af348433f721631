// Allocation of unique values (service cluster IPs, node ports) held in Redis, so that they are
// unique across concurrent creates, API server replicas and restarts: HSETNX claims a value.
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';

export class RedisAllocator {
  /**
   * @param key the Redis hash of claimed values (value -> owner)
   * @param first, last the dynamic range, inclusive, as integers
   */
  constructor(private readonly redis: Redis, private readonly key: string, private readonly first: number, private readonly last: number) {}

  /** Claims `value` for `owner`; false when another owner holds it. */
  async claim(value: number, owner: string): Promise<boolean> {
    if ((await this.redis.hsetnx(this.key, String(value), owner)) === 1) return true;
    return (await this.redis.hget(this.key, String(value))) === owner;
  }

  /** Claims a free value in the range, or returns undefined when the range is full. */
  async allocate(owner: string): Promise<number | undefined> {
    for (let i = 0; i < 64; i++) {
      const v = randomInt(this.first, this.last + 1);
      if (await this.claim(v, owner)) return v;
    }
    // Nearly full: walk the range from a random point.
    const taken = new Set((await this.redis.hkeys(this.key)).map(Number));
    const size = this.last - this.first + 1;
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const v = this.first + ((start + i) % size);
      if (!taken.has(v) && (await this.claim(v, owner))) return v;
    }
    return undefined;
  }

  /** A free value without claiming it (for dry runs). */
  async peek(): Promise<number | undefined> {
    const taken = new Set((await this.redis.hkeys(this.key)).map(Number));
    for (let i = 0; i < 64; i++) {
      const v = randomInt(this.first, this.last + 1);
      if (!taken.has(v)) return v;
    }
    return undefined;
  }

  async isFree(value: number): Promise<boolean> {
    return (await this.redis.hexists(this.key, String(value))) === 0;
  }

  async release(value: number, owner: string): Promise<void> {
    if ((await this.redis.hget(this.key, String(value))) === owner) await this.redis.hdel(this.key, String(value));
  }

  inRange(value: number): boolean {
    return value >= this.first && value <= this.last;
  }
}

export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr { base: number; size: number; text: string }

export function parseCidr(text: string): Cidr {
  const m = text.match(/^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/);
  if (!m || Number(m[2]) > 30 || Number(m[2]) < 8) throw new Error(`invalid service CIDR ${text}`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(ipToInt(m[1]) / size) * size, size, text };
}
