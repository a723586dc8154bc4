import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/**
 * The configured secret, or a generated one (random.RandomPassword) when the stack does not set it.
 * Letters and digits only: the value goes into .pgpass files and libpq URIs without escaping surprises.
 */
export function passwordOrGenerated(name: string, configured: pulumi.Output<string> | undefined, opts: pulumi.CustomResourceOptions = {}): pulumi.Output<string> {
    if (configured) {
        return pulumi.secret(configured);
    }
    const generated = new random.RandomPassword(name, { length: 32, special: false }, opts);
    // Mocks do not apply the provider's secret marking; do it here so every run treats it as secret.
    return pulumi.secret(generated.result);
}
