// pulumi-resource-kubernetes: the kubernetes provider library served with the schema its module ships.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

// Copied from the module's cmd/pulumi-resource-kubernetes by build.sh (git-ignored: 7 MB of
// generated JSON that the module already holds).
//
//go:embed schema.json
var pulumiSchema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
