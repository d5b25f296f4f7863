// Pure planning for a MariaDB service user: what the server holds, what differs, and the statements that converge it.
import { databaseGrantTarget, privilegeChanges, samePrivileges } from "./grants";
import { passwordMatches } from "./password";
import {
    createUserStatement,
    dropUserStatement,
    grantStatement,
    requireTlsStatement,
    revokeStatement,
    setPasswordStatement,
    tlsRequirementOf,
    type Statement,
    type TlsRequirement,
} from "./sql";

/** The service user as declared: `'user'@'host'` with its password, TLS requirement and privileges on one database. */
export interface DeclaredServiceUser {
    user: string;
    host: string;
    password: string;
    tls: TlsRequirement;
    database: string;
    /** Normalized (see `normalizePrivileges`). */
    privileges: string[];
}

/** What the server holds for `'user'@'host'`, read back by the provider. */
export interface ObservedAccount {
    plugin: string;
    /** The stored credential; compared in memory, never stored or printed. */
    authenticationString: string;
    /** `mysql.user.ssl_type`: '', ANY, X509 or SPECIFIED. */
    sslType: string;
    databasePrivileges: string[];
    extraGrants: string[];
}

/**
 * The statements that bring the server from `observed` (undefined: no such account) to `declared`,
 * in an order that never leaves the service without a declared privilege: the account and its
 * password first, then the missing grants, and only then the revokes. `previous` is the account
 * this user had before (an app host change): it is dropped last, once the new one is complete.
 */
export function planServiceUser(
    declared: DeclaredServiceUser,
    observed: ObservedAccount | undefined,
    previous?: { user: string; host: string },
): Statement[] {
    const { user, host } = declared;
    const statements: Statement[] = [];
    if (!observed) {
        statements.push(createUserStatement(user, host, declared.password, declared.tls));
    } else {
        if (!passwordMatches(declared.password, observed.plugin, observed.authenticationString)) {
            statements.push(setPasswordStatement(user, host, declared.password));
        }
        if (tlsRequirementOf(observed.sslType) !== declared.tls) statements.push(requireTlsStatement(user, host, declared.tls));
    }
    const target = databaseGrantTarget(declared.database);
    const { missing, extra } = privilegeChanges(declared.privileges, observed?.databasePrivileges ?? []);
    if (missing.length > 0) statements.push(grantStatement(missing, target, user, host));
    if (extra.length > 0) statements.push(revokeStatement(`${extra.join(", ")} ON ${target}`, user, host));
    for (const grant of observed?.extraGrants ?? []) statements.push(revokeStatement(grant, user, host));
    if (previous && (previous.user !== user || previous.host !== host)) statements.push(dropUserStatement(previous.user, previous.host));
    return statements;
}

/** Whether the server's credential is still the declared password (read back by hash, never stored). */
export type PasswordState = "as declared" | "changed outside Pulumi";
export const PASSWORD_AS_DECLARED: PasswordState = "as declared";
export const PASSWORD_CHANGED_OUTSIDE: PasswordState = "changed outside Pulumi";

/** The provider's state: the declaration, as read back, plus whatever the server holds beyond it. */
export interface ServiceUserState extends Omit<DeclaredServiceUser, "tls"> {
    /** As read back: SSL or NONE, or X509/SPECIFIED when someone set those by hand. */
    tls: string;
    /**
     * A password changed by hand shows here (the password itself is a secret, and Pulumi prints
     * any two secrets alike); the program always declares `as declared`.
     */
    passwordState: PasswordState;
    /** Grants beyond the declaration (see `ObservedGrants.extraGrants`); empty when in sync. */
    extraGrants: string[];
}

/** The state a read produces: the stored declaration with what the server holds in place of the declared grants, TLS and password state. */
export function observedState(stored: ServiceUserState, observed: ObservedAccount): ServiceUserState {
    return {
        ...stored,
        passwordState: passwordMatches(stored.password, observed.plugin, observed.authenticationString) ? PASSWORD_AS_DECLARED : PASSWORD_CHANGED_OUTSIDE,
        tls: tlsRequirementOf(observed.sslType),
        privileges: observed.databasePrivileges,
        extraGrants: observed.extraGrants,
    };
}

/** Which fields differ between the stored (or read-back) state and the program's declaration. */
export function changedFields(olds: ServiceUserState, news: DeclaredServiceUser): string[] {
    const changed: string[] = [];
    if (olds.user !== news.user) changed.push("user");
    if (olds.host !== news.host) changed.push("host");
    if (olds.password !== news.password) changed.push("password");
    // A state written before this field existed counts as in sync.
    if ((olds.passwordState ?? PASSWORD_AS_DECLARED) !== PASSWORD_AS_DECLARED) changed.push("passwordState");
    if (olds.tls !== news.tls) changed.push("tls");
    if (olds.database !== news.database) changed.push("database");
    if (!samePrivileges(olds.privileges, news.privileges)) changed.push("privileges");
    if ((olds.extraGrants ?? []).length > 0) changed.push("extraGrants");
    return changed;
}
