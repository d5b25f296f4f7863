// The latest backup of every database of a stack, and its age, from the stack's `backups` output.
import { z } from "zod";
import type { ReleaseEvidence } from "../evidence";

export type BackupEvidence = ReleaseEvidence["backups"][number];

/** A database of the stack, as its config lists it. */
export interface StackDatabase {
    server: string;
    /** `mo_x`. */
    database: string;
}

/** What is read of each record of the `backups` output (components/release/backup.ts `BackupRecord`). */
const backupRecordSchema = z.object({
    server: z.string().min(1),
    database: z.string().min(1),
    time: z.iso.datetime({ offset: true }),
    file: z.string().optional(),
});

export type BackupRecordLike = z.output<typeof backupRecordSchema>;

/** The `backups` output (or a file of it): a list of records; throws naming the first bad record. */
export function parseBackupRecords(raw: unknown, what = "backups"): BackupRecordLike[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw new Error(`${what}: expected a list of backup records`);
    return raw.map((record, index) => {
        const parsed = backupRecordSchema.safeParse(record);
        if (!parsed.success) {
            const issue = parsed.error.issues[0];
            throw new Error(`${what}[${index}].${(issue?.path ?? []).map(String).join(".")}: ${issue?.message ?? "invalid"}`);
        }
        return parsed.data;
    });
}

/** Hours between two instants, to two decimals. */
export function ageInHours(time: string, now: Date): number {
    return Math.round(((now.getTime() - Date.parse(time)) / 3_600_000) * 100) / 100;
}

/**
 * For every database of the stack, in the order given: its latest backup and how old it is at
 * `now`; a database without any backup gets time and age null. Records of databases the stack
 * does not list are ignored.
 */
export function latestBackups(databases: readonly StackDatabase[], records: readonly BackupRecordLike[], now: Date): BackupEvidence[] {
    return databases.map(({ server, database }) => {
        let latest: BackupRecordLike | undefined;
        for (const record of records) {
            if (record.server !== server || record.database !== database) continue;
            if (latest === undefined || Date.parse(record.time) > Date.parse(latest.time)) latest = record;
        }
        if (latest === undefined) return { server, database, time: null, ageHours: null };
        return { server, database, time: latest.time, ageHours: ageInHours(latest.time, now), ...(latest.file ? { file: latest.file } : {}) };
    });
}
