// What the per-engine server modules share: the data guard and the shape they return to the fleet.
import type * as pulumi from "@pulumi/pulumi";
import type { DatabaseSpec } from "../config";

/** Data-holding resources are never deleted or replaced by accident: protected, and kept if removed. */
export const DATA_GUARD = { protect: true, retainOnDelete: true } as const satisfies pulumi.CustomResourceOptions;

/** What a server module declares per database, given the service user's password (a secret). */
export interface ServerResources {
    addDatabase(db: DatabaseSpec, password: pulumi.Output<string>): void;
}
