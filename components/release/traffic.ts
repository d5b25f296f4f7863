// Traffic backends: one interface, one implementation per kind (HAProxy, nginx; Kubernetes to follow).
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseSpec, ServiceSpec, SshTarget, TrafficBackend as TrafficBackendKind } from "../config";
import type { HealthGateSettings } from "./health";
import type { Colour, Weights } from "./ladder";
import { HaproxyWeights } from "./haproxy/weights";
import { NginxWeights } from "./nginx/weights";
import type { ColourTarget } from "./shift";
import { requireHostKey } from "../remote/pinning";
import type { SshAccess } from "../remote/transport";

export interface TrafficShiftArgs {
    service: ServiceSpec;
    ladder: number[];
    healthGate: HealthGateSettings;
    drainSeconds: number;
}

/** The resource that puts one service's weights into effect, and the weights it read back. */
export interface TrafficShift {
    resource: pulumi.CustomResource;
    /** What the backend reported after the change. */
    observed: pulumi.Output<Weights>;
}

/**
 * Where a service's traffic is split between its colours. An implementation declares one
 * resource per service that (1) refuses more than one ladder step per `up` at preview,
 * (2) opens the health gate of every colour that gains weight, (3) applies the weights so that
 * no request finds neither colour, (4) reads them back, and (5) keeps them across a reload.
 */
export interface TrafficBackend {
    readonly kind: TrafficBackendKind;
    shift(name: string, args: TrafficShiftArgs, opts: pulumi.CustomResourceOptions): TrafficShift;
}

/** Where the backend's hosts are reached; undefined for this machine. */
function sshAccess(target: SshTarget | undefined, key: pulumi.Output<string> | undefined, what: string): pulumi.Output<SshAccess> | undefined {
    if (target === undefined) return undefined;
    if (key === undefined) throw new Error(`${what} is reached over ssh but has no private key (secret sshPrivateKey.${what})`);
    const hostKey = requireHostKey(target, `release.${what}.ssh`);
    return pulumi.output(key).apply((privateKey) => ({ host: target.host, port: target.port, user: target.user, privateKey, hostKey }));
}

function colourTarget(service: ServiceSpec, colour: Colour): ColourTarget {
    const { version, address } = service[colour];
    return { version, address, healthUrl: `http://${address}${service.healthPath}` };
}

function shiftInputs(args: TrafficShiftArgs) {
    return {
        service: args.service.name,
        blue: colourTarget(args.service, "blue"),
        green: colourTarget(args.service, "green"),
        weights: { ...args.service.weights },
        ladder: [...args.ladder],
        healthGate: { ...args.healthGate },
        drainSeconds: args.drainSeconds,
    };
}

export class HaproxyBackend implements TrafficBackend {
    readonly kind = "haproxy" as const;
    private readonly ssh: pulumi.Output<SshAccess> | undefined;

    constructor(
        private readonly config: NonNullable<ReleaseSpec["traffic"]["haproxy"]>,
        sshKey: pulumi.Output<string> | undefined,
    ) {
        this.ssh = sshAccess(config.ssh, sshKey, "traffic.haproxy");
    }

    shift(name: string, args: TrafficShiftArgs, opts: pulumi.CustomResourceOptions): TrafficShift {
        const resource = new HaproxyWeights(
            name,
            {
                ...shiftInputs(args),
                backend: args.service.traffic.name,
                admin: this.config.admin,
                serverStateFile: this.config.serverStateFile,
                ssh: this.ssh,
            },
            opts,
        );
        return { resource, observed: resource.observed };
    }
}

export class NginxBackend implements TrafficBackend {
    readonly kind = "nginx" as const;
    private readonly ssh: pulumi.Output<SshAccess> | undefined;

    constructor(
        private readonly config: NonNullable<ReleaseSpec["traffic"]["nginx"]>,
        sshKey: pulumi.Output<string> | undefined,
    ) {
        this.ssh = sshAccess(config.ssh, sshKey, "traffic.nginx");
    }

    shift(name: string, args: TrafficShiftArgs, opts: pulumi.CustomResourceOptions): TrafficShift {
        const resource = new NginxWeights(
            name,
            {
                ...shiftInputs(args),
                upstream: args.service.traffic.name,
                upstreamFile: this.config.upstreamFile,
                testCommand: this.config.testCommand,
                reloadCommand: this.config.reloadCommand,
                ssh: this.ssh,
            },
            opts,
        );
        return { resource, observed: resource.observed };
    }
}

/**
 * The backends a release uses, by kind. Only configured kinds exist (the config validator
 * already refused a service whose backend is not configured).
 */
export function trafficBackends(traffic: ReleaseSpec["traffic"], sshKeys: Readonly<Record<string, pulumi.Output<string>>>): Partial<Record<TrafficBackendKind, TrafficBackend>> {
    const backends: Partial<Record<TrafficBackendKind, TrafficBackend>> = {};
    if (traffic.haproxy) backends.haproxy = new HaproxyBackend(traffic.haproxy, sshKeys["traffic.haproxy"]);
    if (traffic.nginx) backends.nginx = new NginxBackend(traffic.nginx, sshKeys["traffic.nginx"]);
    // Kubernetes (switching the Service selector) comes next; until then a service on it is refused.
    return backends;
}
