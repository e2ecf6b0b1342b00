package awsfacts

import (
	"strings"
	"sync"
	"time"

	"github.com/ecsguard/ecsguard/shared/iampolicy"
)

// awsManagedTTL is how long the default version of an AWS-managed policy is
// trusted without asking IAM again: AWS publishes new versions rarely, and
// a stale hour costs nothing a role change event would not also catch.
const awsManagedTTL = time.Hour

// versionCache remembers policy documents by (ARN, version), which never
// change, and the default version of AWS-managed policies for a while.
// Customer-managed default versions are always asked for again: a new
// default version is exactly the change ecsguard must see. Safe for
// concurrent use.
type versionCache struct {
	mu       sync.Mutex
	docs     map[string]*iampolicy.Document
	defaults map[string]defaultVersion
	now      func() time.Time
}

type defaultVersion struct {
	id      string
	expires time.Time
}

func newVersionCache() *versionCache {
	return &versionCache{docs: map[string]*iampolicy.Document{}, defaults: map[string]defaultVersion{}, now: time.Now}
}

func awsManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

func (c *versionCache) defaultVersion(arn string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.defaults[arn]
	if !ok || c.now().After(d.expires) {
		return "", false
	}
	return d.id, true
}

func (c *versionCache) setDefaultVersion(arn, id string) {
	if !awsManaged(arn) {
		return
	}
	c.mu.Lock()
	c.defaults[arn] = defaultVersion{id: id, expires: c.now().Add(awsManagedTTL)}
	c.mu.Unlock()
}

func (c *versionCache) document(arn, version string) (*iampolicy.Document, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.docs[arn+"#"+version]
	return d, ok
}

func (c *versionCache) setDocument(arn, version string, d *iampolicy.Document) {
	c.mu.Lock()
	c.docs[arn+"#"+version] = d
	c.mu.Unlock()
}
