//go:build tools

// Package tools pins the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
// so that `go build` in this wrapper module resolves it at the version in
// go.mod. Built by toolchain/pulumi-toolchain.sh; never imported.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
