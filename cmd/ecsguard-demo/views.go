package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// views prints, for the first alert of each kind the functions published
// (a registration, a role change, tampering, an organization member's),
// what people see: the Slack message AWS Chatbot posts from the "https"
// part, drawn as Slack lays it out, and the email from the "email" part.
// Both are read from the Publish calls themselves, through the recording
// proxy in front of the emulator.
func (d *demo) views() error {
	fmt.Fprintf(d.w, "\n== What people see: one alert of each kind, as published to %s\n", d.sample.TopicARN)
	seen := map[string]bool{}
	for _, body := range d.proxy.Recorded("Publish") {
		p, err := parsePublish(body)
		if err != nil {
			return err
		}
		kind := alertKind(p)
		if seen[kind] {
			continue
		}
		seen[kind] = true
		fmt.Fprintf(d.w, "\n-- %s: %s\n", kind, p.Subject)
		if err := slackView(d, p.Parts["https"]); err != nil {
			return fmt.Errorf("%s: %w", p.Subject, err)
		}
		fmt.Fprintf(d.w, "\n  Email (subject %q):\n", p.Subject)
		for _, line := range strings.Split(strings.TrimRight(p.Parts["email"], "\n"), "\n") {
			fmt.Fprintf(d.w, "  | %s\n", line)
		}
	}
	return nil
}

// alertKind names what an alert is about, from its document.
func alertKind(p published) string {
	var doc struct {
		Change struct {
			Kind string `json:"kind"`
		} `json:"change"`
	}
	_ = json.Unmarshal([]byte(p.Parts["default"]), &doc)
	kind := "registration"
	if doc.Change.Kind != "" {
		kind = doc.Change.Kind
	}
	if p.Attributes["accountName"] != "" {
		kind += " in a member account"
	}
	return kind
}

var (
	mdLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)
	mdBold = regexp.MustCompile(`\*\*([^*]*)\*\*|\*([^*\s][^*]*)\*`)
)

// slackView draws an AWS Chatbot custom notification as Slack shows it:
// the title in bold, the description, the next steps as a list, the
// keywords as chips under it. Markdown emphasis is drawn plain and links
// as "text <url>", as a terminal can.
func slackView(d *demo, chat string) error {
	var n struct {
		Content struct {
			Title, Description string
			NextSteps          []string
			Keywords           []string
		}
	}
	if err := json.Unmarshal([]byte(chat), &n); err != nil {
		return fmt.Errorf("the Chatbot notification: %w", err)
	}
	plain := func(s string) string {
		s = mdLink.ReplaceAllString(s, "$1 <$2>")
		return mdBold.ReplaceAllString(s, "$1$2")
	}
	fmt.Fprintln(d.w, "\n  Slack (AWS Chatbot):")
	fmt.Fprintf(d.w, "  ┃ %s\n", strings.ToUpper(plain(n.Content.Title)))
	for _, line := range strings.Split(n.Content.Description, "\n") {
		fmt.Fprintf(d.w, "  ┃ %s\n", plain(line))
	}
	if len(n.Content.NextSteps) > 0 {
		fmt.Fprintln(d.w, "  ┃ Next steps")
		for _, s := range n.Content.NextSteps {
			fmt.Fprintf(d.w, "  ┃  • %s\n", plain(s))
		}
	}
	if len(n.Content.Keywords) > 0 {
		fmt.Fprintf(d.w, "  ┃ [%s]\n", strings.Join(n.Content.Keywords, "] ["))
	}
	return nil
}
