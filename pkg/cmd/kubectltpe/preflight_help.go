package kubectltpe

import "k8s.io/kubectl/pkg/util/templates"

var (
	preflightLong = `
		Check a Kubernetes cluster against every requirement of the TPE cluster prerequisites
		page, as named checks with a status (pass, warn, fail, skip, manual), a message that names
		the object, and a remediation:

		 1. Kubernetes version against the range of the target TPE release (newer than validated
		    warns; --strict makes it fail).
		 2. PriorityClasses: the three classes in either spelling, values in the right order.
		 3. StorageClasses: dynamic provisioning, the classes of the values or the hosting, the
		    hosting's CSI driver, WaitForFirstConsumer binding, volume expansion.
		 4. IngressClass nginx-tpe (or the values' class) and its controller.
		 5. CRD groups of Strimzi, Percona MongoDB and cert-manager, or the right to create them.
		 6. Admin profile RBAC and 7. operator profile RBAC: every missing (verb, group, resource);
		    when the whole admin ClusterRole is missing in the namespace, the one RoleBinding of
		    ClusterRole admin that fixes it.
		 8. Nodes: three schedulable nodes in three zones (a node with a NoSchedule or NoExecute
		    taint TPE's pods do not tolerate does not count), the TPE node-group label,
		    allocatable CPU and memory for --segment.
		 9. Network: inbound ports on the ingress LoadBalancer, and a firewall checklist of every
		    flow (manual items); --probe dials the SMTP relay, OIDC issuer and backup endpoint.
		10. Backup storage of the values (exactly one of s3Compat, amazon, azure); --probe checks
		    that the bucket or container is reachable with the credentials.
		11. Deployment machine: API server round trip; --probe reaches the chart repository (with
		    the values' installation ID, never printed) and the configuration repository. At a site
		    without internet access, --bundle FILE replaces both with "the release bundle verifies",
		    and --probe then checks that the cluster can pull the bundle's images (probe pods whose
		    containers use each image with a command that does not exist: nothing of the image runs;
		    the pods are removed afterwards).
		12. Inter-zone network: a manual item, or --network-test runs iperf3 pods pinned one per
		    zone (removed afterwards, also on Ctrl-C) and judges < 10 ms and >= 1 Gbps.
		13. TLS: the certificate of the values or --tls-cert parses, matches its key, verifies to
		    the CA, is not expired (warns under 30 days) and covers --hostname.

		--profile selects which account profile's permissions are checked; the default is "all"
		for a user who may create PriorityClasses (a cluster administrator), else "operator".
		A check the current user may not read is skipped, not failed.

		--only and --skip take check ids ("tls.expiry"), id globs ("tls.*", "storage.*") or
		category names ("TLS", "deployment-machine"), comma-separated or repeated; only the
		selected checks run, and the exit code reflects only them. When every selected check
		works without a cluster (TLS, values, backup configuration, repositories), preflight
		needs no kubeconfig and sends no request to an API server.

		Each kind is listed once: the number of API requests does not grow with the cluster.
		Permissions are read with one rules review, which settles them all when the API server
		says it is complete (RBAC only); nor does the number grow with what is missing.
		Bad input (unreadable values, a PEM that does not parse, a malformed release) is an error
		before anything is sent to the cluster.

		Several clusters at once (the read-only checks; no --probe or --network-test):
		--context A --context B, --all-contexts or --fleet FILE (see "kubectl tpe status"); a
		verdict per installation, then the failing checks of each.

		Exit codes: 0 nothing fails (or warns, with --fail-on warn), 2 a check fails, 1 error
		(with several installations: one could not be read).`

	preflightExample = templates.Examples(`
		# Check everything the current user can be checked for, against the newest TPE release
		%[1]s preflight

		# As cluster administrator, before creating the prerequisites on AKS
		%[1]s preflight --profile admin --hosting aks --to v7.3.1

		# As the application operator, with the values you will install with
		%[1]s preflight --profile operator -n thingpark-enterprise -f values-thingpark-stack.yaml --segment l --probe

		# Check another user's permissions (needs impersonation or SubjectAccessReview rights)
		%[1]s preflight --profile operator --as tpe-operator

		# Verify a certificate before installing it (no cluster needed)
		%[1]s preflight --only tls --tls-cert tls.crt --tls-key tls.key --tls-ca ca.crt --hostname tpe.example.com

		# Check the values alone (TLS, backup storage, installation ID), without a cluster
		%[1]s preflight --only tls,backup,values -f values.yaml

		# Everything but the RBAC profiles and the firewall checklist
		%[1]s preflight --skip rbac,firewall-checklist

		# At a site without internet access: the release bundle instead of the vendor's
		# repositories, and whether the cluster can pull its images
		%[1]s preflight --bundle tpe-v7.3.1.tar.gz -f values.yaml --probe

		# The read-only checks of every cluster of the kubeconfig
		%[1]s preflight --all-contexts --to v8.0.0

		# JUnit XML for a CI pipeline, failing on warnings too
		%[1]s preflight -o junit --fail-on warn > preflight.xml`)
)
