// Blue/green release: order, ladder, health gate, traffic backends (HAProxy, nginx) and the components.
export * from "./backup";
export * from "./health";
export * from "./ladder";
export * from "./order";
export * from "./haproxy/config";
export * from "./haproxy/runtime";
export * from "./haproxy/weights";
export * from "./nginx/upstream";
export * from "./nginx/weights";
export * from "./release";
export * from "./service";
export * from "./shift";
export * from "./traffic";
