package trail_test

import (
	"errors"
	"fmt"
	"io/fs"

	eventstestdata "github.com/ecsguard/ecsguard/events-testdata"
	"github.com/ecsguard/ecsguard/shared/trail"
)

// An IAM event says which role and policy to look at again; the event made
// by ecsguard's own role would be ignored (the loop guard).
func ExampleParseJSON() {
	b, err := fs.ReadFile(eventstestdata.FS, "iam-attachrolepolicy-admin-on-task-role.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := trail.ParseJSON(b)
	if err != nil {
		fmt.Println("dropped:", err)
		return
	}
	fmt.Println(c.EventID, c.EventName)
	fmt.Println("role:", c.RoleName)
	fmt.Println("policy:", c.PolicyARN)
	fmt.Println("by ecsguard:", c.CausedBy("arn:aws:iam::111122223333:role/ecsguard-onrolechange"))
	// Output:
	// 3d8b2e5f-4a06-4c7b-a4d3-0c2f4a6b8e11 AttachRolePolicy
	// role: web-api-task
	// policy: arn:aws:iam::aws:policy/AdministratorAccess
	// by ecsguard: false
}

// An event the function cannot use is dropped with a message that names it;
// errors.Is tells why.
func ExampleParseJSON_dropped() {
	for _, name := range []string{
		"ecs-registertaskdefinition-errorcode.json",
		"ecs-runtask-ignored.json",
		"malformed-truncated.json",
	} {
		b, err := fs.ReadFile(eventstestdata.FS, name)
		if err != nil {
			fmt.Println(err)
			return
		}
		_, err = trail.ParseJSON(b)
		var te *trail.Error
		if errors.As(err, &te) {
			fmt.Println(te.EventID, errors.Is(err, trail.ErrFailedCall), errors.Is(err, trail.ErrForeign), errors.Is(err, trail.ErrMalformed))
		}
	}
	// Output:
	// f4c8d1a5-0b62-4e37-809f-6e8b0c2d4a77 true false false
	// 0a5e9b2c-1d73-4f48-91a0-7f9c1d3e5b88 false true false
	// 7f3c1a52-0d4e-4b8a-9c61-2e5f8a9b0c11 false false true
}
