// The Proxmox VE cluster: the component and the pure functions it is built from.
export * from "./cluster";
export * from "./container-args";
export * from "./firewall-rules";
export * from "./guard";
export * from "./ha-plan";
export * from "./previous-deployment";
export * from "./start-order";
export * from "./tags";
