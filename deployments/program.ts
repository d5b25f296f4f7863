// The deployments program: its config read and checked once, then one StackDeployments per stack.
import * as pulumi from "@pulumi/pulumi";
import { DEPLOYMENTS_NAMESPACE, DEPLOYMENTS_SECRET_KEYS, parseDeploymentsConfig } from "./settings";
import { StackDeployments } from "./stack-deployments";

export interface DeclaredDeployments {
    /** `<org>/<project>/<stack>` of every stack that has deployment settings. */
    stacks: string[];
    /** Stack -> its drift-detection schedule. */
    driftSchedules: Record<string, pulumi.Output<string>>;
}

export function declareDeployments(config = new pulumi.Config(DEPLOYMENTS_NAMESPACE)): DeclaredDeployments {
    const spec = parseDeploymentsConfig({
        organization: config.get("organization"),
        project: config.get("project"),
        repository: config.get("repository"),
        vcsInstallationId: config.get("vcsInstallationId"),
        agentPoolId: config.get("agentPoolId"),
        executorImage: config.get("executorImage"),
        backendUrl: config.get("backendUrl"),
        stacks: config.getObject<unknown>("stacks"),
        notifications: config.getObject<unknown>("notifications"),
    });
    // Secrets come only from `pulumi config set --secret`; requireSecret keeps them secret end to end.
    const githubToken = config.requireSecret(DEPLOYMENTS_SECRET_KEYS.githubToken);
    const configPassphrase = config.getSecret(DEPLOYMENTS_SECRET_KEYS.configPassphrase);
    const notificationUrl = spec.notifications !== undefined ? config.requireSecret(DEPLOYMENTS_SECRET_KEYS.notificationUrl) : undefined;

    const driftSchedules: Record<string, pulumi.Output<string>> = {};
    for (const stack of Object.keys(spec.stacks)) {
        const deployments = new StackDeployments(stack, {
            config: spec,
            stack,
            githubToken,
            ...(configPassphrase !== undefined ? { configPassphrase } : {}),
            ...(notificationUrl !== undefined ? { notificationUrl } : {}),
        });
        driftSchedules[stack] = deployments.drift.scheduleCron;
    }
    return { stacks: Object.keys(spec.stacks).map((stack) => `${spec.organization}/${spec.project}/${stack}`), driftSchedules };
}
