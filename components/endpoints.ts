import * as pulumi from "@pulumi/pulumi";
import { Endpoint } from "./vipPair";

/**
 * A libpq URI for the postgres superuser at `endpoint`, as a secret. `read-write` makes libpq refuse a
 * server that is (no longer) the primary, e.g. a stale connection target during a failover.
 */
export function connectionString(endpoint: Endpoint, password: pulumi.Output<string>, sessionAttrs: "read-write" | "any"): pulumi.Output<string> {
    return pulumi.secret(password.apply((pw) =>
        `postgresql://postgres:${encodeURIComponent(pw)}@${endpoint.host}:${endpoint.port}/postgres?target_session_attrs=${sessionAttrs}&connect_timeout=5`));
}
