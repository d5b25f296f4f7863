// Pulumi Deployments for the release-platform stacks, applied once per organisation (docs/pipelines.md).
import { declareDeployments } from "./program";

const declared = declareDeployments();

/** `<org>/<project>/<stack>` of every stack that has deployment settings. */
export const stacks = declared.stacks;
export const driftSchedules = declared.driftSchedules;
