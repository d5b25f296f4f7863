// One stack's Pulumi Deployments: push-to-deploy and pull-request previews from GitHub, the pre-run
// commands, secret environment, drift detection, and (optionally) a chat notification.
import * as pulumi from "@pulumi/pulumi";
import * as service from "@pulumi/pulumiservice";
import { deploymentPaths, NOTIFIED_EVENTS, plainEnvironment, preRunCommands, type DeploymentsConfig } from "./settings";

export interface StackDeploymentsArgs {
    config: DeploymentsConfig;
    /** The stack of the release-platform project these settings are for. */
    stack: string;
    /** Read by `npm run evidence`. */
    githubToken: pulumi.Output<string>;
    /** For stacks whose secrets use the passphrase provider. */
    configPassphrase?: pulumi.Output<string>;
    /** The chat channel's incoming-webhook URL, when notifications are configured. */
    notificationUrl?: pulumi.Output<string>;
}

/**
 * Every deployment's environment: the plain values, and the token and passphrase as secrets
 * (stored encrypted by Pulumi Cloud, masked in deployment logs) whatever the caller passed.
 */
export function deploymentEnvironment(config: DeploymentsConfig, args: Pick<StackDeploymentsArgs, "githubToken" | "configPassphrase">): Record<string, pulumi.Input<string>> {
    return {
        ...plainEnvironment(config),
        GITHUB_TOKEN: pulumi.secret(args.githubToken),
        ...(args.configPassphrase !== undefined ? { PULUMI_CONFIG_PASSPHRASE: pulumi.secret(args.configPassphrase) } : {}),
    };
}

export class StackDeployments extends pulumi.ComponentResource {
    public readonly settings: service.DeploymentSettings;
    public readonly drift: service.DriftSchedule;

    constructor(name: string, args: StackDeploymentsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:deployments:StackDeployments", name, {}, opts);
        const { config, stack } = args;
        const target = config.stacks[stack];
        if (target === undefined) throw new Error(`${name}: no deployment settings for stack ${stack}`);
        const where = { organization: config.organization, project: config.project, stack };

        this.settings = new service.DeploymentSettings(
            `${name}-settings`,
            {
                ...where,
                // With the VCS integration the repository comes from `vcs`; only the branch and directory are set here.
                sourceContext: { git: { branch: `refs/heads/${target.branch}`, repoDir: "." } },
                vcs: {
                    provider: "github",
                    repository: config.repository,
                    deployCommits: target.deployCommits,
                    previewPullRequests: target.previewPullRequests,
                    pullRequestTemplate: false,
                    paths: deploymentPaths(stack),
                    ...(config.vcsInstallationId !== undefined ? { installationId: config.vcsInstallationId } : {}),
                },
                operationContext: {
                    preRunCommands: preRunCommands(config.organization, stack),
                    environmentVariables: deploymentEnvironment(config, args),
                    options: {
                        // `npm run setup:online` runs `npm ci` (the default install step would run `npm install`).
                        skipInstallDependencies: true,
                        // One update at a time per stack, and a queue of pushes collapses to the newest.
                        skipIntermediateDeployments: true,
                        shell: "bash",
                    },
                },
                cacheOptions: { enable: true },
                ...(config.agentPoolId !== undefined ? { agentPoolId: config.agentPoolId } : {}),
                ...(config.executorImage !== undefined ? { executorContext: { executorImage: config.executorImage } } : {}),
            },
            { parent: this },
        );

        this.drift = new service.DriftSchedule(
            `${name}-drift`,
            { ...where, scheduleCron: target.driftSchedule, autoRemediate: target.autoRemediateDrift },
            // Drift runs use the stack's deployment settings.
            { parent: this, dependsOn: [this.settings] },
        );

        if (config.notifications !== undefined && args.notificationUrl !== undefined) {
            new service.Webhook(
                `${name}-notify`,
                {
                    organizationName: config.organization,
                    projectName: config.project,
                    stackName: stack,
                    displayName: `release-platform ${stack}: drift and failures`,
                    payloadUrl: pulumi.secret(args.notificationUrl),
                    format: config.notifications.format,
                    filters: [...NOTIFIED_EVENTS],
                    active: true,
                },
                { parent: this },
            );
        }

        this.registerOutputs({ settings: this.settings.id, drift: this.drift.id });
    }
}
