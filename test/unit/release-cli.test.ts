// The release commands' pulumi calls: the rendered config file goes only to the commands that read the config.
import { describe, expect, test } from "vitest";
import { stackFlags } from "../../scripts/release-cli";

describe("stackFlags", () => {
    const args = { stack: "local", service: "api", configFile: ".pulumi-state/Pulumi.local.yaml", up: false };

    test.each([
        [["config", "--json"], true],
        [["up", "--yes", "--target", "urn"], true],
        [["preview"], true],
        // `pulumi stack export|output` have no --config-file: passing it failed `npm run rollback` as the README writes it.
        [["stack", "export"], false],
        [["stack", "output", "backups", "--json"], false],
    ])("%j gets the config file: %s", (command, withFile) => {
        const flags = stackFlags(args, command);
        expect(flags.slice(0, 2)).toEqual(["--stack", "local"]);
        expect(flags.includes("--config-file")).toBe(withFile);
        expect(flags.at(-1)).toBe("--non-interactive");
    });

    test("no config file: only the stack", () => {
        expect(stackFlags({ ...args, configFile: undefined }, ["config"])).toEqual(["--stack", "local", "--non-interactive"]);
    });
});
