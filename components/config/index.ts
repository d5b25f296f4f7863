// The platform's stack config: schema, cross-field rules, and the loader that turns it into a PlatformSpec.
export {
    ABSOLUTE_PATH,
    DB_USER,
    HOST,
    HOST_KEY,
    HOST_PORT,
    SOCKET_ADDRESS,
    SSH_USER,
    URL_PATH,
    VERSION,
    assertMatches,
    shellQuote,
    type ValuePattern,
} from "./patterns";
export * from "./schema";
export * from "./validate";
export * from "./load";
