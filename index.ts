// Entry point: read and validate the stack config once, declare the platform, export what teams need.
import * as pulumi from "@pulumi/pulumi";
import { startCompiled } from "./components/compiled";
import { loadPlatformSpec, projectConfigKeys, readPlatformSecrets } from "./components/config";
import { Platform } from "./components/platform";
import { readReleaseGateContext } from "./components/release/gate-context";

// Pulumi runs this file compiled into dist/: never from sources that changed since (npm run build).
startCompiled(__filename);

const config = new pulumi.Config();
// Throws one error listing every config problem (an unknown key too), before any resource is registered.
const spec = loadPlatformSpec(config, projectConfigKeys(pulumi.runtime.allConfig()));
const secrets = readPlatformSecrets(config, spec);

// The evidence file (`npm run evidence`) and the commit, recorded on the release gate. The project
// directory is where Pulumi.yaml is (the CLI runs the compiled program with dist/ as its cwd).
const gateContext = readReleaseGateContext(pulumi.getStack(), pulumi.runtime.getRootDirectory() || process.cwd(), process.env);

const platform = new Platform("platform", { spec, secrets, releaseGate: gateContext });

export const environment = spec.environment;
/** Each database with where to reach it; the password is a secret. */
export const databases = platform.databases;
/** Each LXC container: CT-ID, node, role and address. */
export const containers = platform.cluster.containers.map((c) => ({ name: c.name, vmId: c.vmId, node: c.node, role: c.role, address: c.address }));
/** The blue and the green address of each app container, what the traffic backends point at. */
export const blueGreenEndpoints = platform.cluster.blueGreenEndpoints;
/** Read back by the next deployment's replacement guard: the name must equal REPLACEMENT_GUARD_OUTPUT (components/cluster). */
export const clusterReplacementGuard = platform.cluster.replacementGuardRecord;
/** Per service: the version on each colour and the weights the traffic backend reported. Read back by the next
 *  deployment's release gate: the name must equal RELEASE_SERVICES_OUTPUT (components/release). */
export const services = platform.release.services;
export const releaseOrder = platform.release.order;
/** The backups taken before the current versions' migrations: database, file, time, size, sha256 (for the gates). */
export const backups = platform.release.backups;
/** Everything this deployment brings but the weights: the next deployment's gate reads it back (the name must equal RELEASE_FINGERPRINT_OUTPUT). */
export const releaseFingerprint = platform.releaseFingerprint;
/** What this update's release gate recorded: the commit, and the evidence file with the time it was collected. */
export const releaseGate = platform.releaseGateSummary;
