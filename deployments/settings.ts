// The Pulumi Deployments settings of the release-platform stacks, as plain data: the config schema
// of this program and the pure functions that turn it into each stack's settings.
import { z } from "zod";

/** This program's config keys are `release-platform-deployments:<key>`. */
export const DEPLOYMENTS_NAMESPACE = "release-platform-deployments";

const stackName = z.string().regex(/^[a-z][a-z0-9-]*$/, { error: "stack names are lowercase letters, digits and '-'" });
const branch = z.string().regex(/^[A-Za-z0-9._/-]+$/, { error: "must be a branch name, e.g. main" });
/** Standard five-field cron, as Pulumi's schedules take it. */
const cron = z.string().regex(/^(\S+\s+){4}\S+$/, { error: "must be a cron expression with five fields, e.g. 0 */6 * * *" });

export const stackDeploymentSchema = z.strictObject({
    /** The branch whose pushes deploy this stack (and that pull requests to it preview). */
    branch,
    /** `pulumi up` on every push to the branch that touches `paths`. */
    deployCommits: z.boolean().default(true),
    /** `pulumi preview` on every pull request to the branch, with a comment by Pulumi's GitHub app. */
    previewPullRequests: z.boolean().default(true),
    /** Drift detection: a refresh preview on this schedule (UTC). */
    driftSchedule: cron.default("0 */6 * * *"),
    /** Run `up` when drift is found. Off by default: drift on this platform is usually a hand-made emergency change (a manual rollback in HAProxy) that a person should look at first. */
    autoRemediateDrift: z.boolean().default(false),
});
export type StackDeploymentConfig = z.output<typeof stackDeploymentSchema>;

export const deploymentsConfigSchema = z.strictObject({
    /** The Pulumi Cloud organisation that holds the stacks. */
    organization: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: "must be a Pulumi organisation name" }),
    /** The Pulumi project whose stacks are deployed (this repository's Pulumi.yaml). */
    project: z.string().min(1).default("release-platform"),
    /** `owner/name` of the repository on GitHub. */
    repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: "must be owner/name, e.g. our-org/release-platform" }),
    /** The VCS integration installation, when the organisation has more than one GitHub app installed. */
    vcsInstallationId: z.string().min(1).optional(),
    /**
     * A customer-managed agent pool. The platform's hosts (databases, Proxmox API, HAProxy) are on
     * private networks, and backups and migrations run where `pulumi up` runs, so production needs
     * an agent inside the management network.
     */
    agentPoolId: z.string().min(1).optional(),
    /** The executor image: one with Node.js 22 or newer and the Pulumi CLI of toolchain/versions.env. */
    executorImage: z.string().min(1).optional(),
    /** Where the stacks' state is (Pulumi Cloud); the project's scripts default to the local file backend otherwise. */
    backendUrl: z.url().default("https://api.pulumi.com"),
    /** Stack name -> its deployment settings. */
    stacks: z.record(stackName, stackDeploymentSchema).refine((stacks) => Object.keys(stacks).length > 0, { error: "must name at least one stack" }),
    /** Where drift and failed deployments are announced (the URL itself is the secret `notificationUrl`). */
    notifications: z
        .strictObject({
            format: z.enum(["slack", "ms_teams", "raw"]).default("slack"),
        })
        .optional(),
});
export type DeploymentsConfig = z.output<typeof deploymentsConfigSchema>;

/** The config keys that must be secrets (`pulumi config set --secret`). */
export const DEPLOYMENTS_SECRET_KEYS = {
    /** Read by `npm run evidence` (checks, reviews, alerts of the commit): a fine-grained token with read access. */
    githubToken: "githubToken",
    /** Only for stacks whose secrets use the passphrase provider. */
    configPassphrase: "configPassphrase",
    /** The incoming-webhook URL of the chat channel (it carries its own token). */
    notificationUrl: "notificationUrl",
} as const;

/** Parses the program's config (`raw`: key without namespace -> value); lists every problem at once. */
export function parseDeploymentsConfig(raw: Record<string, unknown>): DeploymentsConfig {
    const result = deploymentsConfigSchema.safeParse(raw);
    if (result.success) return result.data;
    const problems = result.error.issues.map((issue) => {
        const where = [DEPLOYMENTS_NAMESPACE + ":" + String(issue.path[0] ?? ""), ...issue.path.slice(1).map(String)].join(".");
        return `${where}: ${issue.message}`;
    });
    throw new Error(`invalid deployments config:\n${problems.join("\n")}`);
}

/**
 * The files whose change deploys a stack: the program, its dependencies, the policy pack, the
 * stack's own config file (not the other stacks'), and the scripts the deployment runs.
 */
export function deploymentPaths(stack: string): string[] {
    return [
        "Pulumi.yaml",
        `Pulumi.${stack}.yaml`,
        "index.ts",
        "components/**",
        "policies/**",
        "package.json",
        "package-lock.json",
        "toolchain/versions.env",
        "scripts/setup-online.sh",
        "scripts/evidence.ts",
        "scripts/preview.sh",
        "scripts/env.sh",
        "scripts/with-env.sh",
        "!**/*.md",
    ];
}

/**
 * What runs before Pulumi Deployments' own `preview` or `up`, in the repository's root:
 * dependencies and plugins, the release evidence the gate reads, and a preview with the policy
 * pack and the stack's policy config. Pulumi Deployments has no setting for a local policy pack;
 * a mandatory violation fails this preview, and a failed pre-run command stops the deployment
 * before its update touches anything.
 */
export function preRunCommands(organization: string, stack: string): string[] {
    return [
        // The executor's login may default to a personal organisation; the scripts name stacks without one.
        `pulumi org set-default ${organization}`,
        "npm run setup:online",
        `npm run evidence -- --stack ${stack}`,
        `npm run preview -- --stack ${stack}`,
    ];
}

/** Plain environment of every deployment; the secret ones are added by the component. */
export function plainEnvironment(config: DeploymentsConfig): Record<string, string> {
    return {
        // scripts/env.sh falls back to the local file backend when this is unset.
        PULUMI_BACKEND_URL: config.backendUrl,
        // `npm run evidence` asks GitHub about this repository.
        GITHUB_REPOSITORY: config.repository,
        // No colour codes in the deployment log.
        NO_COLOR: "1",
    };
}

/** The webhook events worth a message: drift, and anything that failed. */
export const NOTIFIED_EVENTS = ["drift_detected", "drift_detection_failed", "deployment_failed", "update_failed", "preview_failed"] as const;
