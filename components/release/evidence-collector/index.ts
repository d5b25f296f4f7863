// The release evidence collector (`npm run evidence`): sources, the pure reducers, and the assembly.
export * from "./alerts";
export * from "./backups";
export * from "./ci";
export * from "./collect";
export * from "./github";
export * from "./reviews";
export * from "./sources";
