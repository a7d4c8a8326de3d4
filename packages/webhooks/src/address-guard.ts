import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Only globally routable unicast addresses count as public. ipaddr.js classifies loopback,
 * RFC 1918, link-local (incl. cloud metadata 169.254.169.254), CGNAT, unique-local, multicast,
 * NAT64/6to4 embeddings and the rest, and unwraps IPv4-mapped IPv6 (::ffff:10.0.0.1).
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class BlockedDestinationError extends Error {
  override readonly name = 'BlockedDestinationError';
  readonly code = 'EBLOCKEDDESTINATION';
}

export function assertPublicHost(hostname: string): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) && !isPublicAddress(bare)) {
    throw new BlockedDestinationError(`${bare} is not a public address`);
  }
}

/**
 * A `lookup` for http.request that refuses non-public answers at connect time, so a hostname
 * that resolves (or re-resolves, DNS rebinding) to an internal address is never connected to.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked) {
      return callback(
        new BlockedDestinationError(
          `${hostname} resolves to ${blocked.address}, which is not a public address`,
        ),
        '',
        0,
      );
    }
    if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const [first] = addresses;
    if (!first)
      return callback(
        Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
        '',
        0,
      );
    callback(null, first.address, first.family);
  });
};
