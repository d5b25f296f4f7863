// The named `format`s of PVE's JSON schema that our endpoints use, each as the Perl validator registered for it.
// A validator throws a FormatError carrying the text the Perl code dies with (newline included, as PVE sends it).
import * as fs from "node:fs";
import { isIPv4, isIPv6 } from "node:net";

export class FormatError extends Error {
    constructor(text: string) {
        super(text.endsWith("\n") ? text : `${text}\n`);
        this.name = "FormatError";
    }
}

function fail(text: string): never {
    throw new FormatError(text);
}

/** PVE::ParseUtils::split_list: commas, semicolons and whitespace separate; empty entries vanish. */
export function splitList(text: string): string[] {
    if (text.includes("\0")) return text.split("\0");
    return text.replace(/[,;]/g, " ").trim().split(/\s+/).filter((s) => s !== "");
}

function cidrPrefix(value: string, isIp: (ip: string) => boolean, max: number): boolean {
    const match = /^([^/]+)\/(\d+)$/.exec(value);
    return match !== null && isIp(match[1] ?? "") && Number(match[2]) > 7 && Number(match[2]) <= max;
}

const DNS_LABEL = "([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)";
const NODE_NAME = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/;

/** PVE::JSONSchema::pve_verify_dns_name */
function dnsName(value: string): void {
    if (!new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`).test(value)) fail("value does not look like a valid DNS name");
}

/** PVE::JSONSchema::pve_verify_iface */
function iface(value: string): void {
    if (!/^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(value)) fail(`invalid network interface name '${value}'`);
}

/** PVE::JSONSchema::parse_id, as pve-storage-id uses it. */
function storageId(value: string): void {
    if (value.length < 2) fail(`storage ID '${value}' cannot be shorter than 2 characters`);
    if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value)) fail(`storage ID '${value}' contains illegal characters`);
}

function ip(value: string): void {
    if (!isIPv4(value) && !isIPv6(value)) fail("value does not look like a valid IP address");
}

/** PVE::JSONSchema::parse_size: a number with an optional K/M/G/T (or KiB...) unit. */
export function parseSize(value: string): number | undefined {
    const match = /^(\d+(?:\.\d+)?)([KMGT](?:iB)?)?$/.exec(value);
    if (!match) return undefined;
    const factor = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(match[2] ?? "").charAt(0)] ?? 1;
    return Math.floor(Number(match[1]) * factor);
}

// --- pve-firewall (src/PVE/Firewall.pm) ---------------------------------------------------------

const IPSET_NAME = "[A-Za-z][A-Za-z0-9\\-_]+";
const IP_ALIAS = "[A-Za-z][A-Za-z0-9\\-_]+";
const MAX_IPSET_NAME_LENGTH = 64;
const MAX_ALIAS_NAME_LENGTH = 64;

export const ICMP_TYPE_NAMES = new Set([
    "any", "echo-reply", "destination-unreachable", "network-unreachable", "host-unreachable", "protocol-unreachable",
    "port-unreachable", "fragmentation-needed", "source-route-failed", "network-unknown", "host-unknown",
    "network-prohibited", "host-prohibited", "communication-prohibited", "host-precedence-violation", "precedence-cutoff",
    "source-quench", "redirect", "network-redirect", "host-redirect", "echo-request", "router-advertisement",
    "router-solicitation", "time-exceeded", "ttl-zero-during-transit", "ttl-zero-during-reassembly", "parameter-problem",
    "ip-header-bad", "required-option-missing", "timestamp-request", "timestamp-reply", "address-mask-request",
    "address-mask-reply",
]);
export const ICMPV6_TYPE_NAMES = new Set([
    "destination-unreachable", "no-route", "communication-prohibited", "beyond-scope", "address-unreachable",
    "port-unreachable", "failed-policy", "reject-route", "packet-too-big", "time-exceeded", "ttl-zero-during-transit",
    "ttl-zero-during-reassembly", "parameter-problem", "bad-header", "unknown-header-type", "unknown-option",
    "echo-request", "echo-reply", "router-solicitation", "router-advertisement", "neighbor-solicitation",
    "neighbour-solicitation", "neighbor-advertisement", "neighbour-advertisement", "redirect",
]);
const CONNTRACK_HELPERS = new Set(["amanda", "ftp", "irc", "netbios-ns", "pptp", "sane", "sip", "snmp", "tftp"]);

/** `name port/proto` lines of /etc/services, as PVE::Firewall::get_etc_services reads them. */
let etcServices: Set<string> | undefined;
function serviceNames(): Set<string> {
    etcServices ??= new Set(
        readLines("/etc/services").flatMap((line) => {
            const match = /^(\S+)\s+(\S+)\/(tcp|udp|sctp)/.exec(line);
            return match ? [match[1] ?? ""] : [];
        }),
    );
    return etcServices;
}

/** Names and numbers of /etc/protocols, as PVE::Firewall::get_etc_protocols reads them. */
let etcProtocols: Set<string> | undefined;
function protocolNames(): Set<string> {
    etcProtocols ??= new Set(
        readLines("/etc/protocols").flatMap((line) => {
            const match = /^(\S+)\s+(\d+)/.exec(line);
            return match ? [match[1] ?? "", match[2] ?? ""] : [];
        }),
    );
    return etcProtocols;
}

function readLines(file: string): string[] {
    try {
        return fs.readFileSync(file, "utf8").split("\n").filter((l) => !l.startsWith("#") && l.trim() !== "");
    } catch {
        return [];
    }
}

/** PVE::Firewall::parse_port_name_number_or_range. `icmp` is set for dport with an ICMP protocol. */
export function parsePortList(value: string, icmp: boolean): void {
    const elements = value.split(",");
    if (value !== elements.join(",") || elements.some((e) => e === "")) fail("extraneous commas in list");
    let count = 0;
    let icmpPort = false;
    for (const item of elements) {
        const range = /^([0-9]+):([0-9]+)$/.exec(item);
        if (range) {
            count += 2;
            const [from, to] = [Number(range[1]), Number(range[2])];
            if (from > 65535) fail(`invalid port '${range[1] ?? ""}'`);
            if (to > 65535) fail(`invalid port '${range[2] ?? ""}'`);
            if (from > to) fail(`backwards range '${from}:${to}' not allowed, did you mean '${to}:${from}'?`);
        } else if (/^[0-9]+$/.test(item)) {
            count += 1;
            if (Number(item) > 65535) fail(`invalid port '${item}'`);
        } else if (icmp && (ICMP_TYPE_NAMES.has(item) || ICMPV6_TYPE_NAMES.has(item))) {
            icmpPort = true;
        } else if (!serviceNames().has(item)) {
            fail(`invalid port '${item}'`);
        }
    }
    if (icmpPort && count > 0) fail("ICMP ports not allowed in port range");
    if (count > 15) fail("too many entries in port list (> 15 numbers)");
}

function ipv4ToNumber(address: string): number {
    return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/**
 * One element as Net::IP->new takes it: an address, a network (host bits must be zero), or a range
 * `a-b`. Returns the IP version. Net::IP's own error wording is approximated.
 */
function netIp(element: string): 4 | 6 {
    const range = /^([^-\s]+)\s*-\s*([^-\s]+)$/.exec(element);
    if (range) {
        const [from = "", to = ""] = [range[1], range[2]];
        if (isIPv4(from) && isIPv4(to)) {
            if (ipv4ToNumber(from) > ipv4ToNumber(to)) fail(`invalid IP address: Begin address is greater than End address ${from} - ${to}`);
            return 4;
        }
        if (isIPv6(from) && isIPv6(to)) return 6;
        fail(`invalid IP address: Invalid IP address ${element}`);
    }
    const [address = "", length, ...rest] = element.split("/");
    const version = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
    if (version === undefined || rest.length > 0) fail(`invalid IP address: Invalid IP address ${element}`);
    if (length !== undefined) {
        const bits = Number(length);
        if (!/^\d+$/.test(length) || bits > (version === 4 ? 32 : 128)) fail(`invalid IP address: Invalid prefix length /${length}`);
        if (version === 4 && bits < 32 && ipv4ToNumber(address) % 2 ** (32 - bits) !== 0) {
            fail(`invalid IP address: Invalid prefix ${element}`);
        }
    }
    return version;
}

/** PVE::Firewall::parse_address_list: `+ipset`, an alias, or a list of addresses/networks (one range alone). */
export function parseAddressList(value: string): 4 | 6 | undefined {
    if (/^\+\S+$/.test(value)) {
        if (value.length > MAX_IPSET_NAME_LENGTH + 1) fail("ipset name too long");
        return undefined;
    }
    if (new RegExp(`^(dc/|guest/)?${IP_ALIAS}$`).test(value)) {
        if (value.length > MAX_ALIAS_NAME_LENGTH) fail("alias name too long");
        return undefined;
    }
    const elements = value.split(",");
    if (value !== elements.join(",") || elements.some((e) => e === "")) fail("extraneous commas in list");
    let version: 4 | 6 | undefined;
    let range = false;
    for (const element of elements) {
        const next = netIp(element);
        if (element.includes("-")) range = true;
        if (version !== undefined && version !== next) fail(`detected mixed ipv4/ipv6 addresses in address list '${value}'`);
        version = next;
    }
    if (range && elements.length > 1) fail("you can't use a range in a list");
    return version;
}

/** PVE::Firewall::pve_verify_ip_or_cidr */
function ipOrCidr(value: string): void {
    const [address = "", length, ...rest] = value.split("/");
    if ((!isIPv4(address) && !isIPv6(address)) || rest.length > 0 || (length !== undefined && !/^\d+$/.test(length))) {
        fail("value does not look like a valid IP address or CIDR network");
    }
    // Net::IP refuses a prefix longer than the address; PVE clears the host bits first (clean_cidr).
    if (length !== undefined && Number(length) > (isIPv4(address) ? 32 : 128)) fail(`Invalid prefix length /${length}`);
}

// --- the registry ----------------------------------------------------------------------------

type Validator = (value: string) => void;

/**
 * Named formats by the name the schema uses. Names ending in `-list` are the base format applied to
 * each entry of PVE::Tools::split_list (PVE::JSONSchema::check_format).
 */
const FORMATS: Record<string, Validator> = {
    // pve-common src/PVE/JSONSchema.pm
    "pve-configid": (v) => {
        if (!/^[a-z][a-z0-9_-]+$/i.test(v)) fail(`invalid configuration ID '${v}'`);
    },
    "pve-vmid": (v) => {
        if (!/^[1-9][0-9]{2,8}$/.test(v)) fail("value does not look like a valid VM ID");
    },
    "pve-node": (v) => {
        if (!NODE_NAME.test(v)) fail("value does not look like a valid node name");
    },
    "pve-storage-id": storageId,
    "mac-addr": (v) => {
        if (!/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)) fail("value does not look like a valid unicast MAC address");
    },
    ipv4: (v) => {
        if (!isIPv4(v)) fail("value does not look like a valid IPv4 address");
    },
    ipv6: (v) => {
        if (!isIPv6(v)) fail("value does not look like a valid IPv6 address");
    },
    "pve-ipv4-config": (v) => {
        if (!/^(?:dhcp|manual)$/.test(v) && !cidrPrefix(v, isIPv4, 32)) fail("value does not look like a valid ipv4 network configuration");
    },
    "pve-ipv6-config": (v) => {
        if (!/^(?:auto|dhcp|manual)$/.test(v) && !cidrPrefix(v, isIPv6, 128)) fail("value does not look like a valid ipv6 network configuration");
    },
    "dns-name": dnsName,
    "pve-iface": iface,
    "disk-size": (v) => {
        if (parseSize(v) === undefined) fail(`value does not look like a valid disk size: ${v}`);
    },
    "pve-startup-order": (v) => {
        // pve_parse_startup_order: `[order=]N`, `up=N`, `down=N`, comma-separated; an empty value is refused too.
        const parts = v.split(",").filter((p) => !/^\s*$/.test(p));
        if (v === "" || v === "0" || !parts.every((p) => /^(order=)?\d+$|^up=\d+$|^down=\d+$/.test(p))) fail("unable to parse startup options");
    },
    "pve-tag": (v) => {
        if (!/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(v)) fail("invalid characters in tag");
    },
    // pve-storage src/PVE/Storage/Plugin.pm parse_volume_id
    "pve-volume-id": (v) => {
        if (!/^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(v)) fail(`unable to parse volume ID '${v}'`);
    },
    // pve-access-control src/PVE/AccessControl.pm verify_poolname
    "pve-poolid": (v) => {
        if (v.split("/").length > 3) fail(`pool name '${v}' nested too deeply (max levels = 3)`);
        if (!/^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(v)) fail(`pool name '${v}' contains invalid characters`);
    },
    // pve-container src/PVE/LXC/Config.pm
    "pve-lxc-mp-string": (v) => {
        if (/\/\.\.?\//.test(v) || /\/\.\.?$/.test(v) || /^\.\.\//.test(v)) fail(`${v} contains illegal character sequences`);
    },
    "pve-lxc-dev-string": (v) => {
        if (/\/\.\.?(?:\/|$)/.test(v) || !v.startsWith("/dev/")) fail(`${v} is not a valid device path`);
    },
    "lxc-ip-with-ll-iface": (v) => {
        const linkLocal = /^(fe80:[^%]+)%(.*)$/.exec(v);
        if (linkLocal && isIPv6(linkLocal[1] ?? "") && /^[a-z][a-z0-9_]{1,20}([:.]\d+)?$/i.test(linkLocal[2] ?? "")) return;
        ip(v);
    },
    // verify_ct_timezone → pve_verify_timezone, which returns without dying when the zone is not in zone.tab: nothing is refused.
    "pve-ct-timezone": () => undefined,
    // pve-ha-manager src/PVE/HA/Tools.pm (pve-ha-group-node is PVE 8's name, pve-ha-node PVE 9's)
    "pve-ha-resource-id": (v) => {
        if (!/^[a-z]+:\S+$/.test(v)) fail("value does not look like a valid ha resource id");
    },
    "pve-ha-resource-or-vm-id": (v) => {
        if (!/^([a-z]+:\S+|\d+)$/.test(v)) fail("value does not look like a valid ha resource id");
    },
    "pve-ha-group-node": (v) => {
        if (!/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(:\d+)?$/.test(v)) fail("value does not look like a valid ha group node");
    },
    "pve-ha-node": (v) => {
        if (!/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(:\d+)?$/.test(v)) fail("value does not look like a valid ha node");
    },
    // pve-firewall src/PVE/Firewall.pm
    IPorCIDR: ipOrCidr,
    IPorCIDRorAlias: (v) => {
        if (new RegExp(`^(dc/|guest/)?(?:${IP_ALIAS})$`).test(v)) return;
        ipOrCidr(v);
    },
    "pve-fw-addr-spec": (v) => void parseAddressList(v),
    "pve-fw-dport-spec": (v) => parsePortList(v, true),
    "pve-fw-sport-spec": (v) => parsePortList(v, false),
    "pve-fw-protocol-spec": (v) => {
        if (v !== "" && !protocolNames().has(v)) fail(`unknown protocol '${v}'`);
    },
    "pve-fw-icmp-type-spec": (v) => {
        if (v !== "" && !ICMP_TYPE_NAMES.has(v) && !ICMPV6_TYPE_NAMES.has(v)) fail(`invalid icmp-type value '${v}'`);
    },
    "pve-fw-conntrack-helper": (v) => {
        const helpers = v.split(",");
        if (v !== helpers.join(",") || helpers.some((h) => h === "")) fail("extraneous commas in list");
        for (const helper of helpers) if (!CONNTRACK_HELPERS.has(helper)) fail(`unknown helper ${helper}`);
    },
};

export const IPSET_NAME_PATTERN = IPSET_NAME;

/** Whether the emulator implements the named format (`-list` variants included). */
export function knowsFormat(name: string): boolean {
    return FORMATS[name] !== undefined || (name.endsWith("-list") && FORMATS[name.slice(0, -5)] !== undefined);
}

/**
 * PVE::JSONSchema::check_format for a named format. An unknown name is an emulator bug (the vendored
 * schema uses a format nobody implemented here), so it throws a plain Error, not a FormatError.
 */
export function checkNamedFormat(name: string, value: string): void {
    const direct = FORMATS[name];
    if (direct) return direct(value);
    const base = name.endsWith("-list") ? FORMATS[name.slice(0, -5)] : undefined;
    if (!base) throw new Error(`pve-emulator: format '${name}' is not implemented`);
    for (const entry of splitList(value)) base(entry);
}
