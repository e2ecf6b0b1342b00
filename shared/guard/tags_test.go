package guard_test

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ecsTags builds ECS tags from key, value pairs.
func ecsTags(kv ...string) []ecstypes.Tag {
	var out []ecstypes.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, ecstypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}
