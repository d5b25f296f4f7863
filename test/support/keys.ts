// Host keys for tests that only need a well-formed pin (no server presents them).
import { CONFIG_NAMESPACE } from "../../components/config";
import { localHostKeyPins, setConfigPlace } from "../../scripts/local-secrets";

/** A syntactically valid ed25519 host key, pinned where a test declares an ssh target that nothing connects to. */
export const TEST_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLHZikuhJSOgTRDSEF2le++0cVvsf/LmiwVMhNmymbz";
/** Another one, for "a different key" cases. */
export const OTHER_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGWdhQLD5ZsprqTy/LgWpvnDoIsl9rqnIWm+JqvlZC8m";

/**
 * Pins `hostKey` on every ssh target of a raw section map (`readStackConfig`) that points at the
 * local sshd, as `npm start` does with the real key: for unit tests that declare the local stack
 * under mocks and connect to nothing. Mutates and returns `sections`.
 */
export function pinLocalSshTargets<T extends Record<string, unknown>>(sections: T, hostKey: string = TEST_HOST_KEY): T {
    const prefixed = Object.fromEntries(Object.entries(sections).map(([key, value]) => [`${CONFIG_NAMESPACE}:${key}`, value]));
    for (const pin of localHostKeyPins(prefixed)) setConfigPlace(prefixed, pin, hostKey);
    return sections;
}
