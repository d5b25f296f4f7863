// The vendored PVE API schema (schema/pve-<major>.json) and a validator that answers as PVE::JSONSchema does.
import * as fs from "node:fs";
import * as path from "node:path";
import { checkNamedFormat, FormatError } from "./formats";

export interface SchemaNode {
    type?: string | string[];
    optional?: number;
    default?: unknown;
    enum?: string[];
    pattern?: string;
    format?: string | Record<string, SchemaNode>;
    minimum?: number | string;
    maximum?: number | string;
    minLength?: number;
    maxLength?: number;
    properties?: Record<string, SchemaNode>;
    items?: SchemaNode;
    additionalProperties?: number | SchemaNode;
    requires?: string;
    default_key?: number;
    alias?: string;
    keyAlias?: string;
}

export interface SchemaEndpoint {
    allowtoken: number;
    parameters: SchemaNode;
    returns: SchemaNode;
}

export interface ApiSchema {
    source: { repository: string; file: string; branch: string; commit: string; version: string };
    /** By `METHOD /path/{template}`. */
    endpoints: Record<string, SchemaEndpoint>;
}

const cache = new Map<number, ApiSchema>();

/** The schema of PVE `major` (8: 8.4 from pve-docs stable-bookworm, 9: 9.x from master). */
export function apiSchema(major: number): ApiSchema {
    let schema = cache.get(major);
    if (!schema) {
        const file = path.join(__dirname, "schema", `pve-${major}.json`);
        if (!fs.existsSync(file)) throw new Error(`pve-emulator: no vendored API schema for PVE ${major} (have 8 and 9)`);
        schema = JSON.parse(fs.readFileSync(file, "utf8")) as ApiSchema;
        cache.set(major, schema);
    }
    return schema;
}

export interface MatchedEndpoint {
    /** `GET /nodes/{node}/lxc`. */
    key: string;
    endpoint: SchemaEndpoint;
    /** Path parameters, URL-decoded. */
    params: Record<string, string>;
}

/**
 * The endpoint a request path falls on, as PVE::API2->find_handler finds it. `path` is below
 * /api2/json, without the leading slash and still URL-encoded (a `{cidr}` may hold `%2F`).
 */
export function findEndpoint(schema: ApiSchema, method: string, requestPath: string): MatchedEndpoint | undefined {
    for (const [key, endpoint] of Object.entries(schema.endpoints)) {
        const [keyMethod, template = ""] = key.split(" ");
        if (keyMethod !== method) continue;
        const names: string[] = [];
        const source = template.slice(1).replace(/[.+*?^$()[\]|\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, name: string) => {
            names.push(name);
            return "([^/]+)";
        });
        const match = new RegExp(`^${source}$`).exec(requestPath);
        if (!match) continue;
        const params: Record<string, string> = {};
        try {
            names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1] ?? "")));
        } catch {
            // A malformed escape: PVE finds no handler either.
            return undefined;
        }
        return { key, endpoint, params };
    }
    return undefined;
}

const NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties";

/** Field errors, keyed by parameter path, joined with a literal `\n` as PVE's add_error does. */
export type FieldErrors = Record<string, string>;

function addError(errors: FieldErrors, at: string, message: string): void {
    const key = at === "" ? "_root" : at;
    errors[key] = errors[key] === undefined ? message : `${errors[key]}\\n${message}`;
}

/** Numbered keys (`net0`) are described once (`net[n]`); these are their bounds in pve-container's Config.pm. */
const NUMBERED_LIMITS: Record<string, number> = { net: 32, mp: 256, unused: 256, dev: 256 };

function propertySchema(properties: Record<string, SchemaNode>, key: string): SchemaNode | undefined {
    const direct = properties[key];
    if (direct) return direct;
    const numbered = /^([a-z]+)(\d+)$/.exec(key);
    if (!numbered) return undefined;
    const [, prefix = "", index = ""] = numbered;
    const limit = NUMBERED_LIMITS[prefix];
    if (limit !== undefined && Number(index) >= limit) return undefined;
    return properties[`${prefix}[n]`];
}

/** PVE::JSONSchema::is_number / is_integer */
const isNumber = (v: string): boolean => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);
const isInteger = (v: string): boolean => /^[+-]?\d+$/.test(v);

/** A Perl `qr//` as apidata.js prints it (`(?^:...)`) → a JS source. */
function perlPattern(pattern: string): string {
    return pattern.replace(/\(\?\^:/g, "(?:");
}

function checkType(at: string, type: string | string[] | undefined, value: unknown, errors: FieldErrors): boolean {
    if (type === undefined || type === "any") return true;
    if (Array.isArray(type)) {
        if (type.some((t) => checkType(at, t, value, {}))) return true;
        addError(errors, at, `type check ('${type.join("|")}') failed`);
        return false;
    }
    if (type === "null") {
        if (value === null || value === undefined) return true;
        addError(errors, at, `type check ('${type}') failed - value is not null`);
        return false;
    }
    if (type === "array" || type === "object") {
        const ok = type === "array" ? Array.isArray(value) : value !== null && typeof value === "object" && !Array.isArray(value);
        if (!ok) addError(errors, at, `type check ('${type}') failed`);
        return ok;
    }
    if (value !== null && typeof value === "object") {
        addError(errors, at, `type check ('${type}') failed - got ${Array.isArray(value) ? "ARRAY" : "HASH"}`);
        return false;
    }
    const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    if (type === "boolean" && typeof value !== "boolean" && text !== "0" && text !== "1") {
        addError(errors, at, `type check ('${type}') failed - got '${text}'`);
        return false;
    }
    if ((type === "integer" && !isInteger(text)) || (type === "number" && !isNumber(text))) {
        addError(errors, at, `type check ('${type}') failed - got '${text}'`);
        return false;
    }
    return true;
}

/** PVE::JSONSchema::parse_property_string: `a=b,c=d` (a bare first value goes to the default key), then checked. */
export function parsePropertyStringStrict(format: Record<string, SchemaNode>, data: string, at: string): Record<string, string> {
    const result: Record<string, string> = {};
    let defaultKey: string | undefined;
    for (const part of data.split(",")) {
        if (/^\s*$/.test(part)) continue;
        const pair = /^([^=]+)=(.+)$/.exec(part);
        if (pair) {
            let key = pair[1] ?? "";
            let schema = format[key];
            if (result[key] !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${key}`);
            if (schema?.alias) {
                key = schema.alias;
                schema = format[key];
                if (result[key] !== undefined) throw new FormatError(`key '${key}' is already defined (via alias)`);
            }
            if (!schema) throw new FormatError(`invalid key in comma-separated list property: ${key}`);
            result[key] = schema.type === "boolean" ? parseBoolean(pair[2] ?? "") : (pair[2] ?? "");
        } else if (!part.includes("=")) {
            if (defaultKey !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}`);
            defaultKey = Object.keys(format).find((k) => format[k]?.default_key);
            if (defaultKey === undefined) throw new FormatError("value without key, but schema does not define a default key");
            if (result[defaultKey] !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}`);
            result[defaultKey] = format[defaultKey]?.type === "boolean" ? parseBoolean(part) : part;
        } else {
            throw new FormatError("missing key in comma-separated list property");
        }
    }
    const errors: FieldErrors = {};
    checkObject(at, format, result, 0, errors);
    if (Object.keys(errors).length > 0) {
        // `raise "format error\n", errors => ...`, stringified the way PVE::Exception does.
        const lines = Object.keys(errors).sort().map((k) => `${k}: ${errors[k] ?? ""}\n`);
        throw new FormatError(`format error\n${lines.join("")}`);
    }
    return result;
}

/** PVE::JSONSchema::parse_boolean, keeping the text when it is no boolean (the type check reports it). */
function parseBoolean(text: string): string {
    if (/^(1|on|yes|true)$/i.test(text)) return "1";
    if (/^(0|off|no|false)$/i.test(text)) return "0";
    return text;
}

function checkFormat(format: SchemaNode["format"], value: string, at: string): void {
    if (format === undefined || format === "regex" || format === "string") return;
    if (typeof format === "object") parsePropertyStringStrict(format, value, at);
    else checkNamedFormat(format, value);
}

/** PVE::JSONSchema::check_prop */
export function checkProperty(value: unknown, schema: SchemaNode, at: string, errors: FieldErrors): void {
    if (schema.alias) return;
    if (value === undefined || value === null) {
        if (schema.type === "null") return;
        if (!schema.optional) addError(errors, at, "property is missing and it is not optional");
        return;
    }
    if (!checkType(at, schema.type, value, errors)) return;
    if (Array.isArray(value)) {
        if (schema.items) value.forEach((item, i) => checkProperty(item, schema.items ?? {}, `${at}[${i}]`, errors));
        return;
    }
    if (typeof value === "object") {
        if (schema.properties || schema.additionalProperties !== undefined) {
            checkObject(at, schema.properties ?? {}, value as Record<string, unknown>, schema.additionalProperties, errors);
        }
        return;
    }
    const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
    if (schema.format !== undefined) {
        try {
            checkFormat(schema.format, text, at);
        } catch (error) {
            if (!(error instanceof FormatError)) throw error;
            addError(errors, at, `invalid format - ${error.message}`);
            return;
        }
    }
    if (schema.pattern !== undefined && !new RegExp(`^(?:${perlPattern(schema.pattern)})$`).test(text)) {
        addError(errors, at, "value does not match the regex pattern");
        return;
    }
    if (schema.maxLength !== undefined && text.length > schema.maxLength) {
        addError(errors, at, `value may only be ${schema.maxLength} characters long`);
        return;
    }
    if (schema.minLength !== undefined && text.length < schema.minLength) {
        addError(errors, at, `value must be at least ${schema.minLength} characters long`);
        return;
    }
    if (isNumber(text)) {
        if (schema.maximum !== undefined && Number(text) > Number(schema.maximum)) {
            addError(errors, at, `value must have a maximum value of ${schema.maximum}`);
            return;
        }
        if (schema.minimum !== undefined && Number(text) < Number(schema.minimum)) {
            addError(errors, at, `value must have a minimum value of ${schema.minimum}`);
            return;
        }
    }
    if (schema.enum && !schema.enum.includes(text)) {
        addError(errors, at, `value '${text}' does not have a value in the enumeration '${schema.enum.join(", ")}'`);
    }
}

/** PVE::JSONSchema::check_object */
function checkObject(
    at: string,
    properties: Record<string, SchemaNode>,
    value: Record<string, unknown>,
    additional: number | SchemaNode | undefined,
    errors: FieldErrors,
): void {
    const join = (key: string): string => (at === "" ? key : `${at}.${key}`);
    for (const [key, schema] of Object.entries(properties)) {
        if (key.endsWith("[n]")) continue;
        checkProperty(value[key], schema, join(key), errors);
    }
    for (const [key, item] of Object.entries(value)) {
        const schema = propertySchema(properties, key);
        if (schema) {
            if (properties[key] === undefined) checkProperty(item, schema, join(key), errors);
            if (schema.requires !== undefined && value[schema.requires] === undefined) {
                addError(errors, join(schema.requires), `missing property required by '${join(key)}'`);
            }
            continue;
        }
        if (typeof additional === "object") checkProperty(item, additional, join(key), errors);
        else if (additional === 0) addError(errors, join(key), NOT_IN_SCHEMA);
    }
}

/** Field errors of a request's parameters (URI parameters merged in), as PVE::JSONSchema::validate finds them. */
export function parameterErrors(endpoint: SchemaEndpoint, params: Record<string, unknown>): FieldErrors {
    const errors: FieldErrors = {};
    checkProperty(params, endpoint.parameters, "", errors);
    return errors;
}

/**
 * Field errors of a result against `returns` (PVE's optional result verification), for the
 * emulator's own answers. Extra keys are not errors: PVE's `returns` often leave out keys its
 * answers carry (read_pool has no `poolid`), and PVE never runs this check itself.
 */
export function resultErrors(endpoint: SchemaEndpoint, result: unknown): FieldErrors {
    const errors: FieldErrors = {};
    if (Object.keys(endpoint.returns).length > 0) checkProperty(result, endpoint.returns, "", errors);
    return Object.fromEntries(Object.entries(errors).filter(([, message]) => !message.includes(NOT_IN_SCHEMA)));
}
