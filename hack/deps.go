//go:build tools

// Package hack pins modules that later code and tests use, so that `go mod tidy` keeps them.
package hack

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	_ "github.com/johannesboyne/gofakes3"
	_ "github.com/minio/minio-go/v7"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	_ "helm.sh/helm/v3/pkg/action"
	_ "github.com/spf13/cobra/doc"
)
