package asff

// Finding is one ASFF finding, with the attribute names of the format, so
// that it prints as Security Hub shows it and converts to the SDK's type
// field by field.
type Finding struct {
	SchemaVersion         string                `json:"SchemaVersion"`
	ID                    string                `json:"Id"`
	ProductARN            string                `json:"ProductArn"`
	GeneratorID           string                `json:"GeneratorId"`
	AwsAccountID          string                `json:"AwsAccountId"`
	Types                 []string              `json:"Types"`
	CreatedAt             string                `json:"CreatedAt"`
	UpdatedAt             string                `json:"UpdatedAt"`
	Severity              Severity              `json:"Severity"`
	Title                 string                `json:"Title"`
	Description           string                `json:"Description"`
	Remediation           Remediation           `json:"Remediation"`
	SourceURL             string                `json:"SourceUrl"`
	ProductFields         map[string]string     `json:"ProductFields,omitempty"`
	Resources             []Resource            `json:"Resources"`
	Workflow              Workflow              `json:"Workflow"`
	RecordState           string                `json:"RecordState"`
	FindingProviderFields FindingProviderFields `json:"FindingProviderFields"`
}

// Severity is a finding's severity label (INFORMATIONAL to CRITICAL, the
// names rules.Severity already has).
type Severity struct {
	Label string `json:"Label"`
}

// Remediation says how to fix what a finding found.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is the remediation's text and a page that explains it.
type Recommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url"`
}

// Resource is a resource a finding is about.
type Resource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition"`
	Region    string `json:"Region"`
}

// Workflow is the investigation status a finding is created with.
type Workflow struct {
	Status string `json:"Status"`
}

// FindingProviderFields hold the severity and types as the provider sees
// them: a provider updates these, not the top-level Severity and Types,
// which belong to the customer once the finding exists
// (https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html).
type FindingProviderFields struct {
	Severity Severity `json:"Severity"`
	Types    []string `json:"Types"`
}

// Attribute values this package sends.
const (
	// SchemaVersion is the ASFF version of every finding.
	SchemaVersion = "2018-10-08"
	// FindingType classifies every finding, as namespace/category: a
	// configuration that departs from AWS security best practice
	// (https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-asff-mapping.html).
	FindingType = "Software and Configuration Checks/AWS Security Best Practices"
	// RulesURL is the rule documentation; each rule has an anchor there,
	// its ID in lower case (docs/rules.md, generated from the catalog).
	RulesURL = "https://github.com/ecsguard/ecsguard/blob/main/docs/rules.md"

	RecordActive   = "ACTIVE"
	RecordArchived = "ARCHIVED"

	WorkflowNew        = "NEW"
	WorkflowSuppressed = "SUPPRESSED"
	WorkflowResolved   = "RESOLVED"
)

// Limits of ASFF attributes
// (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html,
// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Recommendation.html,
// https://docs.aws.amazon.com/securityhub/latest/userguide/asff-resources.html).
const (
	maxID          = 512
	maxTitle       = 256
	maxDescription = 1024
	maxRemediation = 512
	maxResources   = 32
)
