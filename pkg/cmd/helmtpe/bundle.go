package helmtpe

import (
	"github.com/spf13/cobra"
	"k8s.io/kubectl/pkg/util/templates"
)

// NewCmdBundle builds `helm tpe bundle` and its subcommands.
func NewCmdBundle(env *Env) *cobra.Command {
	b := &cobra.Command{
		Use:   "bundle",
		Short: "Carry a TPE release to a site without internet access: create, sign, verify and show release bundles",
		Long: templates.LongDesc(`
			A release bundle is one file that holds everything an install or upgrade to a TPE release
			needs from the vendor: the four charts of every release on the path, the release manifests,
			the vendor's image list of each release, the images the charts render with your values (the list,
			or with "bundle create --images" the images themselves), and the cluster-admin manifests the
			hops name (CRDs, RBAC, PriorityClasses, StorageClasses).

			Build it where the vendor's chart repository and configuration repository can be reached
			("bundle create"), carry it in, check it ("bundle verify"), push its images into the site's
			registry ("bundle push", which prints the values that point the charts at it), then run
			"helm tpe plan|install|upgrade --bundle FILE": the same plan, checks, backups, waits and
			post-upgrade gate, with no repository access. The installation ID is never written into a
			bundle.

			To prove who built a bundle, sign it with a key pair ("bundle keygen", or cosign's):
			"bundle create --sign-key KEY" or "bundle sign", then pass the public key with --key to
			"bundle verify" and to plan, install and upgrade, which then refuse a bundle that is
			unsigned, signed with another key, or changed since it was signed. Without --key a
			bundle, signed or not, is accepted on its checksums (SHA256SUMS) alone.`),
		Example: templates.Examples(`
			# On a connected machine: everything to upgrade a site from 7.1.3a to 7.3.1
			helm tpe bundle create --from v7.1.3a --to v7.3.1 -f values.yaml --output-file tpe-v7.3.1.tar.gz

			# On the deployment machine of the site
			helm tpe bundle verify tpe-v7.3.1.tar.gz --digest sha256:...
			helm tpe bundle push tpe-v7.3.1.tar.gz --registry registry.site.example/tpe --output-file mirror-values.yaml
			helm tpe upgrade --bundle tpe-v7.3.1.tar.gz -f values.yaml -f mirror-values.yaml

			# Signed: build with the private key, check on the site with the public key
			helm tpe bundle keygen --output-prefix tpe-bundle
			helm tpe bundle create --to v7.3.1 -f values.yaml --sign-key tpe-bundle.key
			helm tpe bundle verify tpe-bundle-v7.3.1.tar.gz --key tpe-bundle.pub
			helm tpe upgrade --bundle tpe-bundle-v7.3.1.tar.gz --key tpe-bundle.pub -f values.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	b.AddCommand(NewCmdBundleCreate(env), NewCmdBundleVerify(env.Streams), NewCmdBundleShow(env.Streams), NewCmdBundlePush(env),
		NewCmdBundleSign(env.Streams), NewCmdBundleKeygen(env.Streams))
	return b
}
