package sarif

// The SARIF 2.1.0 objects ecsguard writes, a subset of the OASIS schema
// (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), with
// the properties GitHub code scanning reads
// (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).

type log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []run  `json:"runs"`
}

type run struct {
	Tool        tool         `json:"tool"`
	Invocations []invocation `json:"invocations"`
	Results     []result     `json:"results"`
	ColumnKind  string       `json:"columnKind"`
}

type tool struct {
	Driver driver `json:"driver"`
}

type driver struct {
	Name           string       `json:"name"`
	Version        string       `json:"version,omitempty"`
	InformationURI string       `json:"informationUri"`
	Rules          []descriptor `json:"rules"`
}

type descriptor struct {
	ID                   string        `json:"id"`
	ShortDescription     text          `json:"shortDescription"`
	FullDescription      text          `json:"fullDescription"`
	Help                 markdown      `json:"help"`
	HelpURI              string        `json:"helpUri"`
	DefaultConfiguration configuration `json:"defaultConfiguration"`
	Properties           ruleProps     `json:"properties"`
}

type text struct {
	Text string `json:"text"`
}

type markdown struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type configuration struct {
	Level string `json:"level"`
}

type ruleProps struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is GitHub's score of the rule, "0.1" to "10.0";
	// absent for an informational rule, which is no security risk.
	SecuritySeverity string `json:"security-severity,omitempty"`
}

type invocation struct {
	ExecutionSuccessful        bool           `json:"executionSuccessful"`
	ToolExecutionNotifications []notification `json:"toolExecutionNotifications,omitempty"`
}

type notification struct {
	Level          string     `json:"level"`
	Message        text       `json:"message"`
	AssociatedRule *ruleRef   `json:"associatedRule,omitempty"`
	Locations      []location `json:"locations,omitempty"`
}

type ruleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               string            `json:"level"`
	Message             text              `json:"message"`
	Locations           []location        `json:"locations"`
	RelatedLocations    []location        `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []suppression     `json:"suppressions,omitempty"`
	Properties          resultProps       `json:"properties"`
}

type location struct {
	ID               *int              `json:"id,omitempty"`
	PhysicalLocation *physicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []logicalLocation `json:"logicalLocations,omitempty"`
}

type physicalLocation struct {
	ArtifactLocation artifactLocation `json:"artifactLocation"`
	Region           *region          `json:"region,omitempty"`
}

type artifactLocation struct {
	URI string `json:"uri"`
}

type region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type logicalLocation struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type suppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

type resultProps struct {
	Severity string `json:"severity"`
	Subject  string `json:"subject"`
	Resource string `json:"resource"`
}
