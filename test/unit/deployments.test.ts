// The deployments/ program under Pulumi mocks, with its committed stack config: every stack gets its
// Pulumi Deployments settings (the `vcs` block, paths, pre-run commands, secret environment) and a
// drift schedule, and no secret reaches a resource in plain text.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
// Registers nothing when imported: the program is declared below, after setMocks.
import { declareDeployments } from "../../deployments/program";
import { deploymentPaths, DEPLOYMENTS_NAMESPACE, parseDeploymentsConfig, preRunCommands } from "../../deployments/settings";
import { deploymentEnvironment } from "../../deployments/stack-deployments";

const ROOT = path.resolve(__dirname, "..", "..");
const STACK_FILE = path.join(ROOT, "deployments", "Pulumi.settings.yaml");

/**
 * Throwaway values: the test asserts that none of them shows up outside a secret. The optional
 * passphrase stays unset here: the mock monitor lifts any nested secret to the whole
 * `operationContext`, so with two secrets in it one would hide the other's loss.
 */
const SECRETS = {
    githubToken: "github_pat_TEST_ONLY_0123456789abcdef",
    notificationUrl: "https://hooks.slack.com/services/T000/B000/TESTONLYTOKEN",
};

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

function committedConfig(): Record<string, unknown> {
    const doc = parseYaml(readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
    return doc.config;
}

const isSecret = (value: unknown): value is { value: unknown } =>
    value !== null && typeof value === "object" && (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;

/** Where `needle` occurs in `value` outside any secret wrapper (JSON paths). */
function plaintextOccurrences(value: unknown, needle: string, at = "$"): string[] {
    if (isSecret(value)) return [];
    if (typeof value === "string") return value.includes(needle) ? [at] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => plaintextOccurrences(v, needle, `${at}[${i}]`));
    if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => plaintextOccurrences(v, needle, `${at}.${k}`));
    return [];
}

/**
 * The value at `path`, and whether a secret wrapper was on the way. The mock monitor (no
 * `outputValues`) lifts a nested secret to the top-level property, so `operationContext` as a whole
 * arrives as a secret; the real engine keeps the secret on the value itself.
 */
function at(value: unknown, ...path: string[]): { value: unknown; secret: boolean } {
    let secret = false;
    let current = value;
    for (const key of [...path, ""]) {
        if (isSecret(current)) {
            secret = true;
            current = current.value;
        }
        if (key === "") break;
        current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined;
    }
    return { value: current, secret };
}

const byType = (type: string) => registered.filter((r) => r.type === type);

beforeAll(async () => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
                return { id: `${args.name}-id`, state: args.inputs };
            },
            call: (args) => args.inputs,
        },
        "release-platform-deployments",
        "settings",
        false,
    );
    // The committed stack file, as the CLI hands config to a program (objects as JSON), plus the secrets.
    const config = Object.fromEntries(
        Object.entries(committedConfig()).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    );
    const secrets = Object.fromEntries(Object.entries(SECRETS).map(([key, value]) => [`${DEPLOYMENTS_NAMESPACE}:${key}`, value]));
    pulumi.runtime.setAllConfig({ ...config, ...secrets }, Object.keys(secrets));
    declareDeployments();
    // Let every registration go out.
    await new Promise((resolve) => setTimeout(resolve, 100));
});

describe("deployments program", () => {
    const stacks = () => Object.keys((parseDeploymentsConfig(
        Object.fromEntries(Object.entries(committedConfig()).map(([k, v]) => [k.slice(DEPLOYMENTS_NAMESPACE.length + 1), v])),
    )).stacks);

    test("the committed config names staging and production, each on its own branch", () => {
        const raw = committedConfig()[`${DEPLOYMENTS_NAMESPACE}:stacks`] as Record<string, { branch: string }>;
        expect(stacks()).toEqual(["staging", "production"]);
        expect(raw.staging?.branch).toBe("main");
        expect(raw.production?.branch).toBe("production");
    });

    test("every stack gets DeploymentSettings with the vcs block (not the deprecated github one) and a drift schedule", () => {
        const settings = byType("pulumiservice:index:DeploymentSettings");
        expect(settings.map((s) => s.inputs.stack)).toEqual(stacks());
        for (const s of settings) {
            const stack = String(s.inputs.stack);
            expect(s.inputs.organization).toBe("our-org");
            expect(s.inputs.project).toBe("release-platform");
            expect(s.inputs.github, stack).toBeUndefined();
            expect(s.inputs.vcs, stack).toEqual({
                provider: "github",
                repository: "our-org/release-platform",
                deployCommits: true,
                previewPullRequests: true,
                pullRequestTemplate: false,
                paths: deploymentPaths(stack),
            });
            const git = (s.inputs.sourceContext as { git: Record<string, unknown> }).git;
            expect(git.branch).toBe(stack === "production" ? "refs/heads/production" : "refs/heads/main");
            // With the VCS integration, neither a repository URL nor git credentials may be set.
            expect(git.repoUrl).toBeUndefined();
            expect(git.gitAuth).toBeUndefined();
        }
        const drift = byType("pulumiservice:index:DriftSchedule");
        expect(drift.map((d) => [d.inputs.stack, d.inputs.scheduleCron, d.inputs.autoRemediate])).toEqual([
            ["staging", "0 */6 * * *", false],
            ["production", "30 */6 * * *", false],
        ]);
    });

    test("path filters: a stack deploys on its own config file, not on the other stack's", () => {
        for (const s of byType("pulumiservice:index:DeploymentSettings")) {
            const paths = (s.inputs.vcs as { paths: string[] }).paths;
            const own = `Pulumi.${String(s.inputs.stack)}.yaml`;
            expect(paths).toContain(own);
            expect(paths).toEqual(expect.arrayContaining(["index.ts", "components/**", "policies/**", "package-lock.json"]));
            expect(paths.filter((p) => /^Pulumi\.[a-z-]+\.yaml$/.test(p))).toEqual([own]);
        }
    });

    test("pre-run commands: setup, then the evidence, then the preview with the policy pack, for that stack", () => {
        for (const s of byType("pulumiservice:index:DeploymentSettings")) {
            const stack = String(s.inputs.stack);
            const context = at(s.inputs, "operationContext").value as { preRunCommands: string[]; options: Record<string, unknown> };
            expect(context.preRunCommands).toEqual([
                "pulumi org set-default our-org",
                "npm run setup:online",
                `npm run evidence -- --stack ${stack}`,
                `npm run preview -- --stack ${stack}`,
            ]);
            expect(context.options).toEqual({ skipInstallDependencies: true, skipIntermediateDeployments: true, shell: "bash" });
        }
        expect(preRunCommands("o", "x").indexOf("npm run setup:online")).toBeLessThan(preRunCommands("o", "x").indexOf("npm run evidence -- --stack x"));
    });

    test("environment: the token is a secret; the backend is Pulumi Cloud, not the local file backend", () => {
        for (const s of byType("pulumiservice:index:DeploymentSettings")) {
            const env = (name: string) => at(s.inputs, "operationContext", "environmentVariables", name);
            expect(env("GITHUB_TOKEN")).toEqual({ value: SECRETS.githubToken, secret: true });
            expect(env("PULUMI_CONFIG_PASSPHRASE").value).toBeUndefined();
            expect(env("PULUMI_BACKEND_URL").value).toBe("https://api.pulumi.com");
            expect(env("GITHUB_REPOSITORY").value).toBe("our-org/release-platform");
        }
    });

    test("environment: the token and the passphrase become secrets even when handed over as plain values, the rest stays plain", async () => {
        const config = parseDeploymentsConfig({ organization: "o", repository: "o/r", stacks: { staging: { branch: "main" } } });
        const env = deploymentEnvironment(config, { githubToken: pulumi.output("plain-token"), configPassphrase: pulumi.output("plain-passphrase") });
        const secrecy = Object.fromEntries(await Promise.all(Object.entries(env).map(async ([k, v]) => [k, await pulumi.isSecret(pulumi.output(v))] as const)));
        expect(secrecy).toEqual({ PULUMI_BACKEND_URL: false, GITHUB_REPOSITORY: false, NO_COLOR: false, GITHUB_TOKEN: true, PULUMI_CONFIG_PASSPHRASE: true });
    });

    test("no secret appears in plain text in any resource's inputs", () => {
        expect(registered.length).toBeGreaterThanOrEqual(6);
        for (const [key, secret] of Object.entries(SECRETS)) {
            const found = registered.flatMap((r) => plaintextOccurrences(r.inputs, secret).map((where) => `${r.type} ${r.name} ${where}`));
            expect(found, key).toEqual([]);
        }
        // ...and the secrets did reach the resources (inside their wrappers).
        const all = JSON.stringify(registered.map((r) => r.inputs));
        for (const secret of Object.values(SECRETS)) expect(all).toContain(secret);
    });

    test("drift and failures are announced through one webhook per stack, its URL a secret", () => {
        const hooks = byType("pulumiservice:index:Webhook");
        expect(hooks.map((h) => h.inputs.stackName)).toEqual(stacks());
        for (const h of hooks) {
            expect(at(h.inputs, "payloadUrl")).toEqual({ value: SECRETS.notificationUrl, secret: true });
            expect(h.inputs.filters).toEqual(expect.arrayContaining(["drift_detected", "deployment_failed"]));
        }
    });
});

describe("deployments config", () => {
    const base = { organization: "o", repository: "o/r", stacks: { staging: { branch: "main" } } };

    test("defaults: Pulumi Cloud backend, deploy on push, preview pull requests, drift every 6 h without auto-remediation", () => {
        const config = parseDeploymentsConfig(base);
        expect(config.project).toBe("release-platform");
        expect(config.backendUrl).toBe("https://api.pulumi.com");
        expect(config.stacks.staging).toEqual({ branch: "main", deployCommits: true, previewPullRequests: true, driftSchedule: "0 */6 * * *", autoRemediateDrift: false });
    });

    test.each([
        [{ ...base, repository: "just-a-name" }, "release-platform-deployments:repository: must be owner/name, e.g. our-org/release-platform"],
        [{ ...base, stacks: {} }, "release-platform-deployments:stacks: must name at least one stack"],
        [{ ...base, stacks: { staging: { branch: "main", driftSchedule: "hourly" } } }, "release-platform-deployments:stacks.staging.driftSchedule: must be a cron expression with five fields"],
    ])("refuses %j", (raw, message) => {
        expect(() => parseDeploymentsConfig(raw)).toThrow(message);
    });
});
