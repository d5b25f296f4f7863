// The release report: `pulumi preview --json` plus the policy events, read into a summary and rendered as Markdown.
export * from "./preview";
export * from "./render";
export * from "./rollback";
export * from "./summary";
