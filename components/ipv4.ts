/**
 * Small, strict IPv4 helpers used by configuration validation and rendering.
 * Addresses are dotted quads without leading zeros; networks are CIDR strings.
 */

const OCTET = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/** Returns the address as an unsigned 32-bit number, or undefined when it is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
        return undefined;
    }
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function isIpv4(text: string): boolean {
    return parseIpv4(text) !== undefined;
}

export function formatIpv4(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The netmask of a prefix length, e.g. 24 -> 255.255.255.0. */
export function netmaskOf(prefixLength: number): string {
    return formatIpv4(2 ** 32 - 2 ** (32 - prefixLength));
}

/** The network (CIDR string) that `ip` belongs to at `prefixLength`, e.g. 192.168.24.11/24 -> 192.168.24.0/24. */
export function networkOf(ip: string, prefixLength: number): string {
    const value = parseIpv4(ip);
    if (value === undefined) {
        throw new Error(`not an IPv4 address: ${ip}`);
    }
    const size = 2 ** (32 - prefixLength);
    return `${formatIpv4(Math.floor(value / size) * size)}/${prefixLength}`;
}

/** Parses "a.b.c.d/n" into its network base and prefix length, or undefined when malformed. */
export function parseCidr(text: string): { base: number; prefixLength: number } | undefined {
    const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
    if (!match) {
        return undefined;
    }
    const base = parseIpv4(match[1]);
    const prefixLength = Number(match[2]);
    if (base === undefined || prefixLength > 32) {
        return undefined;
    }
    return { base, prefixLength };
}

export function inNetwork(ip: string, cidr: string): boolean {
    const parsed = parseCidr(cidr);
    const value = parseIpv4(ip);
    if (!parsed || value === undefined) {
        return false;
    }
    const size = 2 ** (32 - parsed.prefixLength);
    return Math.floor(value / size) === Math.floor(parsed.base / size);
}

/** True for the network and broadcast addresses of a subnet, which no host or VIP may use. */
export function isNetworkOrBroadcast(ip: string, prefixLength: number): boolean {
    const value = parseIpv4(ip);
    if (value === undefined || prefixLength >= 31) {
        return false;
    }
    const size = 2 ** (32 - prefixLength);
    const offset = value % size;
    return offset === 0 || offset === size - 1;
}
