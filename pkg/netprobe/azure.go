package netprobe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// AzureCloud holds the endpoints of one Azure cloud (values backup.azure.cloudName).
type AzureCloud struct {
	AuthorityHost string
	BlobSuffix    string
}

// AzureClouds maps cloudName to its endpoints.
var AzureClouds = map[string]AzureCloud{
	"AzurePublicCloud":       {"https://login.microsoftonline.com", "blob.core.windows.net"},
	"AzureUSGovernmentCloud": {"https://login.microsoftonline.us", "blob.core.usgovcloudapi.net"},
	"AzureChinaCloud":        {"https://login.chinacloudapi.cn", "blob.core.chinacloudapi.cn"},
	"AzureGermanCloud":       {"https://login.microsoftonline.de", "blob.core.cloudapi.de"},
}

// AzureTarget overrides the endpoints of an Azure probe (tests); zero values derive them from
// the backup's cloudName.
type AzureTarget struct {
	AuthorityHost string
	ContainerURL  string
	HTTPClient    *http.Client
}

// AzureContainer checks with azblob that b's container exists and that the service principal
// may read its properties.
func AzureContainer(ctx context.Context, b values.Backup, t AzureTarget, timeout time.Duration) Outcome {
	cloud, ok := AzureClouds[b.CloudName]
	if b.CloudName == "" {
		cloud, ok = AzureClouds["AzurePublicCloud"], true
	}
	if !ok && (t.AuthorityHost == "" || t.ContainerURL == "") {
		return Outcome{Target: b.BlobContainer, Message: fmt.Sprintf("%s.azure.cloudName %q is not one of AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, AzureGermanCloud", b.Path, b.CloudName)}
	}
	if t.AuthorityHost == "" {
		t.AuthorityHost = cloud.AuthorityHost
	}
	if t.ContainerURL == "" {
		t.ContainerURL = fmt.Sprintf("https://%s.%s/%s", b.StorageAccount, cloud.BlobSuffix, b.BlobContainer)
	}
	if t.HTTPClient == nil {
		t.HTTPClient = http.DefaultClient
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	o := Outcome{Target: t.ContainerURL}
	cred := &clientSecretCredential{authority: t.AuthorityHost, tenant: b.TenantID, clientID: b.ClientID, secret: b.ClientSecret, http: t.HTTPClient}
	cl, err := container.NewClient(t.ContainerURL, cred, &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: t.HTTPClient, Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		o.Message = fmt.Sprintf("cannot build an Azure Blob client for %s: %v", t.ContainerURL, err)
		return o
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	_, err = cl.GetProperties(ctx, nil)
	o.RTT = time.Since(start)
	switch {
	case err == nil:
		o.OK = true
		o.Message = fmt.Sprintf("Azure Blob container %q of account %q is reachable with the service principal (%s)", b.BlobContainer, b.StorageAccount, o.RTT.Round(time.Millisecond))
	case bloberror.HasCode(err, bloberror.ContainerNotFound):
		o.Message = fmt.Sprintf("Azure Blob container %q does not exist in account %q", b.BlobContainer, b.StorageAccount)
	case errors.Is(err, context.DeadlineExceeded):
		o.Message = fmt.Sprintf("Azure Blob container %q: no answer within %s", b.BlobContainer, timeout)
	default:
		var te *tokenError
		if errors.As(err, &te) {
			o.Message = fmt.Sprintf("the service principal cannot sign in to tenant %q: %s", b.TenantID, scrub(te.msg, b))
			return o
		}
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			o.Message = fmt.Sprintf("Azure Blob container %q refused the service principal: %d %s", b.BlobContainer, re.StatusCode, re.ErrorCode)
			return o
		}
		o.Message = fmt.Sprintf("Azure Blob container %q is not reachable: %s", b.BlobContainer, scrub(firstLine(err.Error()), b))
	}
	return o
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// clientSecretCredential is the OAuth2 client-credentials flow of a service principal (what
// backup.azure's tenantId/clientId/clientSecret describe), as an azcore.TokenCredential.
type clientSecretCredential struct {
	authority, tenant, clientID, secret string
	http                                *http.Client
}

type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

// GetToken implements azcore.TokenCredential.
func (c *clientSecretCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.secret},
		"scope": {strings.Join(opts.Scopes, " ")}}
	endpoint := strings.TrimSuffix(c.authority, "/") + "/" + url.PathEscape(c.tenant) + "/oauth2/v2.0/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return azcore.AccessToken{}, &tokenError{msg: "bad authority URL"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return azcore.AccessToken{}, &tokenError{msg: fmt.Sprintf("%s is not reachable: %v", c.authority, errors.Unwrap(err))}
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		msg := body.Error
		if msg == "" {
			msg = resp.Status
		}
		return azcore.AccessToken{}, &tokenError{msg: msg}
	}
	return azcore.AccessToken{Token: body.AccessToken, ExpiresOn: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}
