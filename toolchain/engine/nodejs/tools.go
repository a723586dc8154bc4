//go:build tools

// Package tools pins the Node.js language host. Up to sdk/v3 v3.68.0 it lived
// inside the sdk/v3 module (nodejs/cmd/pulumi-language-nodejs); later releases
// moved it to its own module, which the Go module proxy here does not serve.
// Built by toolchain/pulumi-toolchain.sh; never imported.
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
)
