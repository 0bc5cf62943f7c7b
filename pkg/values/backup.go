package values

import (
	"fmt"
	"sort"
	"strings"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

// CategoryBackup is the report category of the backup checks.
const CategoryBackup = "Backup"

// Backup kinds: the three storage options of global.backup (the vendor's values samples).
const (
	BackupS3Compat = "s3Compat"
	BackupAmazon   = "amazon"
	BackupAzure    = "azure"
)

// BackupKinds lists the storage options in the order the vendor sample gives them.
var BackupKinds = []string{BackupS3Compat, BackupAmazon, BackupAzure}

// Backup is the backup storage configuration. The credential fields are secrets: never print them.
type Backup struct {
	// Path is where the block was found: "global.backup" (7.2+) or "backup" (7.1).
	Path string `json:"path"`
	// Kind is the configured option (s3Compat, amazon, azure), "" when none.
	Kind string `json:"kind"`
	// Kinds lists every option present (more than one is a configuration error).
	Kinds    []string `json:"kinds,omitempty"`
	Schedule string   `json:"schedule,omitempty"`
	// S3-compatible (MinIO) and Amazon S3.
	URL             string `json:"url,omitempty"`
	Bucket          string `json:"bucket,omitempty"`
	Region          string `json:"region,omitempty"`
	AccessKey       string `json:"-"`
	SecretAccessKey string `json:"-"`
	// Azure Blob.
	ResourceGroup  string `json:"resourceGroup,omitempty"`
	StorageAccount string `json:"storageAccount,omitempty"`
	BlobContainer  string `json:"blobContainer,omitempty"`
	CloudName      string `json:"cloudName,omitempty"`
	SubscriptionID string `json:"subscriptionId,omitempty"`
	TenantID       string `json:"-"`
	ClientID       string `json:"-"`
	ClientSecret   string `json:"-"`
	// WrongType lists the keys of the configured option whose value is not a string (a map, a
	// list, a number or a boolean), as "<path> is a <type>": they are not "missing".
	WrongType []string `json:"wrongType,omitempty"`
}

// BackupFromValues reads global.backup (or the 7.1 top-level backup block). ok is false when
// neither exists.
func BackupFromValues(v Values) (Backup, bool) {
	path := "global.backup"
	m := v.Map(path)
	if m == nil {
		path = "backup"
		m = v.Map(path)
	}
	if m == nil {
		return Backup{}, false
	}
	b := Backup{Path: path, Schedule: v.String(path + ".schedule")}
	for _, k := range BackupKinds {
		if _, present := m[k]; present {
			b.Kinds = append(b.Kinds, k)
		}
	}
	if len(b.Kinds) == 1 {
		b.Kind = b.Kinds[0]
	}
	p := path + "." + b.Kind + "."
	if b.Kind != "" {
		b.WrongType = wrongTyped(v.Map(path+"."+b.Kind), p)
	}
	switch b.Kind {
	case BackupS3Compat:
		b.URL, b.Bucket = v.String(p+"url"), v.String(p+"bucket")
		b.AccessKey, b.SecretAccessKey = v.String(p+"accessKey"), v.String(p+"secretAccessKey")
	case BackupAmazon:
		b.Region, b.Bucket = v.String(p+"region"), v.String(p+"bucket")
		b.AccessKey, b.SecretAccessKey = v.String(p+"accessKey"), v.String(p+"secretAccessKey")
	case BackupAzure:
		b.ResourceGroup, b.StorageAccount = v.String(p+"resourceGroup"), v.String(p+"storageAccount")
		b.BlobContainer, b.CloudName = v.String(p+"blobContainer"), v.String(p+"cloudName")
		b.SubscriptionID, b.TenantID = v.String(p+"subscriptionId"), v.String(p+"tenantId")
		b.ClientID, b.ClientSecret = v.String(p+"clientId"), v.String(p+"clientSecret")
	}
	return b, true
}

// wrongTyped lists the keys of m whose value is set but not a string, as "<prefix><key> is a <type>".
func wrongTyped(m map[string]any, prefix string) []string {
	var out []string
	for k, x := range m {
		kind := ""
		switch x.(type) {
		case nil, string:
			continue
		case map[string]any:
			kind = "map"
		case []any:
			kind = "list"
		case bool:
			kind = "boolean"
		default:
			kind = "number"
		}
		out = append(out, fmt.Sprintf("%s%s is a %s", prefix, k, kind))
	}
	sort.Strings(out)
	return out
}

// Missing returns the values paths of the mandatory fields the configured option lacks (a key
// of the wrong type is in WrongType, not here).
func (b Backup) Missing() []string {
	p := b.Path + "." + b.Kind + "."
	var miss []string
	need := func(name, val string) {
		for _, w := range b.WrongType {
			if strings.HasPrefix(w, p+name+" ") {
				return
			}
		}
		if strings.TrimSpace(val) == "" {
			miss = append(miss, p+name)
		}
	}
	switch b.Kind {
	case BackupS3Compat:
		need("url", b.URL)
		need("bucket", b.Bucket)
		need("accessKey", b.AccessKey)
		need("secretAccessKey", b.SecretAccessKey)
	case BackupAmazon:
		need("bucket", b.Bucket)
		need("region", b.Region)
		// The keys are optional (the EKS node group's IAM role may grant access), but one
		// without the other is a mistake.
		if (b.AccessKey == "") != (b.SecretAccessKey == "") {
			if b.AccessKey == "" {
				miss = append(miss, p+"accessKey")
			} else {
				miss = append(miss, p+"secretAccessKey")
			}
		}
	case BackupAzure:
		need("storageAccount", b.StorageAccount)
		need("blobContainer", b.BlobContainer)
		need("resourceGroup", b.ResourceGroup)
		need("subscriptionId", b.SubscriptionID)
		need("tenantId", b.TenantID)
		need("clientId", b.ClientID)
		need("clientSecret", b.ClientSecret)
	}
	sort.Strings(miss)
	return miss
}

// Describe names the configured storage without any credential.
func (b Backup) Describe() string {
	switch b.Kind {
	case BackupS3Compat:
		return fmt.Sprintf("S3-compatible bucket %q at %s", b.Bucket, b.URL)
	case BackupAmazon:
		return fmt.Sprintf("Amazon S3 bucket %q in %s", b.Bucket, b.Region)
	case BackupAzure:
		return fmt.Sprintf("Azure Blob container %q in storage account %q", b.BlobContainer, b.StorageAccount)
	}
	return "no backup storage"
}

// CheckBackup judges the backup configuration: exactly one of s3Compat, amazon and azure, with
// every mandatory field set. Upgrade backups are mandatory (the TPE cluster prerequisites), so no block fails.
func CheckBackup(v Values) check.Check {
	c := check.Check{ID: "backup.config", Category: CategoryBackup}
	b, ok := BackupFromValues(v)
	const fix = "add a global.backup block with exactly one of s3Compat (url, bucket, accessKey, secretAccessKey), " +
		"amazon (bucket, region, and accessKey/secretAccessKey or the node group's IAM role) or azure " +
		"(resourceGroup, storageAccount, blobContainer, subscriptionId, tenantId, clientId, clientSecret)"
	switch {
	case !ok:
		c.Status, c.Message = check.Fail, "no backup storage is configured (global.backup is missing); upgrade backups are mandatory"
		c.Remediation = fix
	case len(b.Kinds) == 0:
		c.Status, c.Message = check.Fail, b.Path+" configures no storage: set one of s3Compat, amazon or azure"
		c.Remediation = fix
	case len(b.Kinds) > 1:
		c.Status = check.Fail
		c.Message = fmt.Sprintf("%s configures %d storages (%s): keep exactly one", b.Path, len(b.Kinds), strings.Join(b.Kinds, ", "))
		c.Remediation = "remove all but one of " + strings.Join(b.Kinds, ", ") + " under " + b.Path
	default:
		if len(b.WrongType) > 0 {
			c.Status = check.Fail
			c.Message = fmt.Sprintf("%s: %s has a value of the wrong type: %s, want a string", b.Path, b.Describe(), strings.Join(b.WrongType, ", "))
			if miss := b.Missing(); len(miss) > 0 {
				c.Message += "; it is missing " + strings.Join(miss, ", ")
			}
			c.Details = b.WrongType
			c.Remediation = "write each of these as a string on one line, quoted (key: \"...\"), not as a block, a list or a number"
			return c
		}
		if miss := b.Missing(); len(miss) > 0 {
			c.Status = check.Fail
			c.Message = fmt.Sprintf("%s: %s is missing %s", b.Path, b.Describe(), strings.Join(miss, ", "))
			c.Details = miss
			c.Remediation = "set " + strings.Join(miss, ", ")
			return c
		}
		c.Status, c.Message = check.Pass, fmt.Sprintf("%s: %s is configured", b.Path, b.Describe())
		if b.Kind == BackupAmazon && b.AccessKey == "" {
			c.Message += " (no access key: the EKS node group's IAM role must allow get/put on the bucket)"
		}
		if b.Path == "backup" {
			c.Message += "; top-level backup is the TPE 7.1 layout, 7.2+ reads global.backup"
		}
	}
	return c
}
