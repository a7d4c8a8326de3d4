import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** IANA's global unicast block: no IPv6 address outside it is routed on the internet. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
/** IPv4-compatible IPv6 (deprecated by RFC 4291); some stacks route ::a.b.c.d to a.b.c.d itself. */
const IPV4_COMPATIBLE_V6 = ipaddr.IPv6.parseCIDR('::/96');

/**
 * Why an address is not public — an ipaddr.js range name such as "loopback", "private",
 * "linkLocal" (cloud metadata, 169.254.169.254), "carrierGradeNat", "uniqueLocal", "rfc6052"
 * (NAT64), "6to4", "teredo" — or undefined for a globally routable unicast address. IPv4-mapped
 * IPv6 (::ffff:10.0.0.1) is judged by its IPv4 address. ipaddr.js calls every IPv6 address outside
 * its list of special ranges "unicast", including IPv4-compatible ones (::127.0.0.1), so IPv6 must
 * also lie in 2000::/3.
 */
export function nonPublicRange(address: string): string | undefined {
  const family = isIP(address);
  const text = family === 6 ? canonicalIPv6(address) : family === 4 ? address : undefined;
  if (text === undefined) return 'not an IP address';
  const ip = ipaddr.process(text);
  const range = ip.range();
  if (range !== 'unicast') return range;
  if (ip.kind() === 'ipv6') {
    if (ip.match(IPV4_COMPATIBLE_V6)) return 'ipv4Compatible';
    if (!ip.match(GLOBAL_UNICAST_V6)) return 'reserved';
  }
  return undefined;
}

/**
 * IPv6 in hex groups only, as WHATWG URL serialises it. Resolvers print IPv4-compatible addresses
 * as "::a.b.c.d", which ipaddr.js reads as IPv4-mapped ::ffff:a.b.c.d (so ::8.8.8.8 would pass as
 * 8.8.8.8); the URL parser reads it as RFC 4291 does, ::a.b.c.d = ::xxxx:xxxx.
 */
function canonicalIPv6(address: string): string | undefined {
  return URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1);
}

/** Only globally routable unicast addresses count as public (see nonPublicRange). */
export function isPublicAddress(address: string): boolean {
  return nonPublicRange(address) === undefined;
}

export class BlockedDestinationError extends Error {
  override readonly name = 'BlockedDestinationError';
  readonly code = 'EBLOCKEDDESTINATION';
}

/**
 * Refuses a URL host that is a non-public IP literal. The host must come from WHATWG URL parsing,
 * which has already turned decimal, octal, hex and shortened IPv4 (2130706433, 0177.0.0.1,
 * 0x7f.1, 127.1) into dotted form and compressed IPv6; names are checked at connect time instead.
 */
export function assertPublicHost(hostname: string): void {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (!isIP(bare)) return;
  const range = nonPublicRange(bare);
  if (range) throw new BlockedDestinationError(`${bare} is not a public address (${range})`);
}

/** Turns a host name into every address it has (what http.request would connect to). */
export type ResolveHost = (hostname: string, options: LookupOptions) => Promise<LookupAddress[]>;

/** The system resolver, as Node's own connections use it: /etc/hosts, then DNS. */
export const systemResolveHost: ResolveHost = (hostname, options) =>
  dns.lookup(hostname, { ...options, all: true });

/**
 * A `lookup` for http.request. With `publicOnly`, a host name with any non-public address is
 * refused at connect time, so a name that resolves (or re-resolves, DNS rebinding) to an internal
 * address is never connected to.
 */
export function guardedLookup(options: {
  resolveHost: ResolveHost;
  publicOnly: boolean;
}): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    options.resolveHost(hostname, lookupOptions).then(
      (addresses) => {
        const blocked = options.publicOnly
          ? addresses
              .map(({ address }) => ({ address, range: nonPublicRange(address) }))
              .find(({ range }) => range !== undefined)
          : undefined;
        if (blocked?.range) {
          const why = `${hostname} resolves to ${blocked.address}, which is not a public address (${blocked.range})`;
          return callback(new BlockedDestinationError(why), '', 0);
        }
        const [first] = addresses;
        if (!first) {
          const error = Object.assign(new Error(`${hostname} has no address`), {
            code: 'ENOTFOUND',
          });
          return callback(error, '', 0);
        }
        if (lookupOptions.all) return callback(null, addresses);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
