// A Proxmox VE API emulator for tests (a fixture, never a production component): see README.md.
export * from "./server";
export * from "./state";
export { PveError } from "./api";
export { formatPropertyString, parsePropertyString } from "./property-string";
export { normalizeTags } from "./containers";
