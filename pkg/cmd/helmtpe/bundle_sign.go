package helmtpe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundlesign"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// EnvKeyPassword is the password of a bundle signing key, as cosign reads it.
const EnvKeyPassword = "COSIGN_PASSWORD"

// keyPassword reads the password of the private key file: $COSIGN_PASSWORD when set (even
// empty, as cosign), else a prompt without echo on the terminal (twice when confirm: a new
// key). It is never a flag value and never written anywhere (not even masked: a mask would
// show its last characters).
func keyPassword(file string, confirm bool, in io.Reader, errOut io.Writer) ([]byte, error) {
	if pw, ok := os.LookupEnv(EnvKeyPassword); ok {
		return []byte(pw), nil
	}
	f, ok := in.(*os.File)
	if !ok || !cli.IsTerminal(in) {
		return nil, fmt.Errorf("no password for the key file %s: set %s, or run in a terminal to be asked for it", file, EnvKeyPassword)
	}
	ask := func(prompt string) ([]byte, error) {
		fmt.Fprintf(errOut, "%s (input hidden): ", prompt)
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(errOut)
		if err != nil {
			return nil, fmt.Errorf("reading the password of the key file %s: %w", file, err)
		}
		return pw, nil
	}
	pw, err := ask("Password of the key file " + file)
	if err != nil {
		return nil, err
	}
	if confirm {
		again, err := ask("Password again")
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(pw, again) {
			return nil, fmt.Errorf("the two passwords for the key file %s differ: nothing written", file)
		}
	}
	return pw, nil
}

// loadSigner reads the private key file of flag, decrypted with its password (keyPassword).
func loadSigner(flag, file string, in io.Reader, errOut io.Writer) (*bundlesign.Signer, error) {
	s, err := bundlesign.LoadSigner(file, func() ([]byte, error) { return keyPassword(file, false, in, errOut) })
	return s, keyError(flag, err)
}

// keyError words a key file error with the flag that named it and what to do.
func keyError(flag string, err error) error {
	var ke *bundlesign.KeyError
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.Reason {
	case bundlesign.KeyWrongPassword:
		return fmt.Errorf("%s: %w: check %s or the password you typed", flag, err, EnvKeyPassword)
	case bundlesign.KeyNotPrivate:
		return fmt.Errorf("%s: %w: pass the private key (cosign.key, or what helm tpe bundle keygen wrote as PREFIX.key)", flag, err)
	case bundlesign.KeyNotPublic:
		return fmt.Errorf("%s: %w: pass the public key of the bundle's builder (cosign.pub, or PREFIX.pub of helm tpe bundle keygen)", flag, err)
	case bundlesign.KeyExists:
		return fmt.Errorf("%s: %w: a key is never overwritten; choose another prefix or remove the old key pair", flag, err)
	}
	return fmt.Errorf("%s: %w", flag, err)
}

// CheckSignature verifies that the bundle b is signed with the public key file keyFile (the
// value of keyFlag) and that nothing was changed since, or returns one line naming the bundle,
// the key and what to do. plan, install, upgrade and bundle verify call it; so can any command
// that takes --bundle and --key.
func CheckSignature(b *bundle.Bundle, keyFlag, keyFile string) (*bundlesign.Signed, error) {
	key, err := bundlesign.LoadPublicKey(keyFile)
	if err != nil {
		return nil, keyError(keyFlag, err)
	}
	s, err := bundlesign.Verify(b, key)
	if err != nil {
		return nil, signatureError(err, keyFlag)
	}
	return s, nil
}

// signatureError words a refused signature with what to do.
func signatureError(err error, keyFlag string) error {
	var ve *bundlesign.VerifyError
	if !errors.As(err, &ve) {
		return err
	}
	switch ve.Reason {
	case bundlesign.Unsigned:
		return fmt.Errorf("%w: refused with %s; have its builder sign it (helm tpe bundle sign %s --key KEY), or omit %s to accept it on its checksums alone", err, keyFlag, filepath.Base(ve.Path), keyFlag)
	case bundlesign.OtherKey:
		return fmt.Errorf("%w: check that %s is the public key of whoever built the bundle, or get the bundle again from them", err, keyFlag)
	}
	return fmt.Errorf("%w: do not use it; get the bundle again from whoever built it", err)
}

// BundleSignOptions are the options of `helm tpe bundle sign`.
type BundleSignOptions struct {
	File   string
	Key    string
	Output string
	genericiooptions.IOStreams
}

// BundleSignResult is what `bundle sign -o json|yaml` prints.
type BundleSignResult struct {
	File    string `json:"file"`
	KeyFile string `json:"keyFile"`
	KeyHint string `json:"keyHint"`
	Digest  string `json:"digest"`
	Size    int64  `json:"size"`
}

// NewCmdBundleSign builds `helm tpe bundle sign`.
func NewCmdBundleSign(streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleSignOptions{Output: "table", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "sign FILE --key KEY",
		Short: "Sign a release bundle with a key pair (cosign's format), offline",
		Long: templates.LongDesc(`
			Sign a release bundle: its bundle.json and SHA256SUMS (which holds the checksum of every
			other file) as one statement, signed with the private key KEY and kept in the bundle as
			signature.sigstore.json (the Sigstore bundle format; no network, no transparency log).
			The bundle is verified first, then rewritten through a temporary file renamed over it:
			an interrupted signing leaves it as it was. bundle.json, SHA256SUMS and every other file
			are unchanged; the digest of the whole file changes (the new one is printed). A signature
			the bundle had is replaced.

			KEY is a private key of cosign's format ("bundle keygen", or "cosign generate-key-pair");
			its password is read from $COSIGN_PASSWORD, else asked on the terminal. On the site,
			"bundle verify --key PUB" and "--key PUB" with --bundle on plan, install and upgrade
			refuse a bundle that is unsigned, signed with another key, or changed since. See
			docs/reliability.md for what a signature proves and what it does not.`),
		Example: templates.Examples(`
			# Sign a bundle built without --sign-key
			helm tpe bundle sign tpe-v7.3.1.tar.gz --key tpe-bundle.key

			# Without a prompt (CI)
			COSIGN_PASSWORD=... helm tpe bundle sign tpe-v7.3.1.tar.gz --key cosign.key`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.File = args[0]
			return o.Run()
		},
	}
	cmd.Flags().StringVar(&o.Key, "key", "", "the private key `FILE` to sign with (cosign's format; password from $COSIGN_PASSWORD or a prompt)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	return cmd
}

// Run signs the bundle.
func (o *BundleSignOptions) Run() error {
	format, err := cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	if err != nil {
		return err
	}
	if o.Key == "" {
		return fmt.Errorf("--key is required: the private key to sign with (helm tpe bundle keygen makes a key pair)")
	}
	if _, err := os.Stat(o.File); err != nil {
		return fmt.Errorf("bundle %s: %w", o.File, pathCause(err))
	}
	s, err := loadSigner("--key", o.Key, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	w, err := bundlesign.SignFile(o.File, s, nil)
	if err != nil {
		var be *bundle.Error
		if errors.As(err, &be) {
			return cli.Failed(err)
		}
		return err
	}
	res := BundleSignResult{File: o.File, KeyFile: o.Key, KeyHint: s.Hint(), Digest: w.Digest, Size: w.Size}
	if !format.IsTable() {
		return cli.WriteData(o.Out, format, res)
	}
	fmt.Fprintf(o.Out, "Bundle %s signed with %s (key hint %s); bundle.json and SHA256SUMS unchanged\n", o.File, o.Key, s.Hint())
	fmt.Fprintf(o.Out, "Digest:    %s (%s)\n", w.Digest, bundle.Size(w.Size))
	fmt.Fprintf(o.Out, "\nOn the deployment machine: helm tpe bundle verify %s --key PUBLIC-KEY --digest %s\n", filepath.Base(o.File), w.Digest)
	return nil
}

// BundleKeygenOptions are the options of `helm tpe bundle keygen`.
type BundleKeygenOptions struct {
	Prefix string
	Output string
	genericiooptions.IOStreams
}

// NewCmdBundleKeygen builds `helm tpe bundle keygen`.
func NewCmdBundleKeygen(streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleKeygenOptions{Prefix: "tpe-bundle", Output: "table", IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "keygen [--output-prefix PREFIX]",
		Short: "Make a key pair to sign release bundles with (cosign's format)",
		Long: templates.LongDesc(`
			Make a key pair to sign release bundles with: PREFIX.key, an ECDSA P-256 private key
			encrypted with a password (mode 0600), and PREFIX.pub, its public key: the files and
			format of "cosign generate-key-pair", which works as well (its cosign.key and cosign.pub
			are used the same way). The password is read from $COSIGN_PASSWORD, else asked twice on
			the terminal. An existing key file is never overwritten.

			Keep PREFIX.key and its password on the machine that builds bundles; carry PREFIX.pub to
			the sites (once, by a way you trust) and pass it to "bundle verify --key" and to --key of
			plan, install and upgrade.`),
		Example: templates.Examples(`
			# A key pair tpe-bundle.key / tpe-bundle.pub in the current directory
			helm tpe bundle keygen

			# Elsewhere, without a prompt
			COSIGN_PASSWORD=... helm tpe bundle keygen --output-prefix ~/.tpe/signing`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.Run() },
	}
	cmd.Flags().StringVar(&o.Prefix, "output-prefix", o.Prefix, "write the key pair to `PREFIX`.key and PREFIX.pub")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	return cmd
}

// Run makes the key pair.
func (o *BundleKeygenOptions) Run() error {
	format, err := cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	if err != nil {
		return err
	}
	if o.Prefix == "" {
		return fmt.Errorf("--output-prefix is empty: name the key files to write")
	}
	for _, f := range []string{o.Prefix + ".key", o.Prefix + ".pub"} {
		if _, err := os.Lstat(f); err == nil {
			return keyError("--output-prefix", &bundlesign.KeyError{File: f, Reason: bundlesign.KeyExists})
		}
	}
	pw, err := keyPassword(o.Prefix+".key", true, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	kf, err := bundlesign.WriteKeyPair(o.Prefix, pw)
	if err != nil {
		return keyError("--output-prefix", err)
	}
	if !format.IsTable() {
		return cli.WriteData(o.Out, format, kf)
	}
	fmt.Fprintf(o.Out, "Private key: %s (mode 0600, encrypted with the password): keep it, and its password, where bundles are built\n", kf.Private)
	fmt.Fprintf(o.Out, "Public key:  %s (key hint %s): carry it to the sites\n", kf.Public, kf.Hint)
	fmt.Fprintf(o.Out, "\nSign:   helm tpe bundle create ... --sign-key %s   (or: helm tpe bundle sign FILE --key %s)\n", kf.Private, kf.Private)
	fmt.Fprintf(o.Out, "Verify: helm tpe bundle verify FILE --key %s\n", kf.Public)
	return nil
}

// pathCause drops the file name from an os error (the message names the file already).
func pathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
