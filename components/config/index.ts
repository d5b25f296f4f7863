// The platform's stack config: schema, cross-field rules, and the loader that turns it into a PlatformSpec.
export * from "./schema";
export * from "./validate";
export * from "./load";
